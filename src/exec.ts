/**
 * The one place the harness runs host programs (apt-get, mmdebstrap, mkfs, make, git...).
 * Every call can tee its output to a log file in the results or cache dir, and a failure
 * becomes a HarnessError carrying argv, exit code, signal, timing and the output tail.
 */
import { execa, type ResultPromise } from 'execa';
import { createWriteStream } from 'node:fs';
import { HarnessError, tail } from './errors.js';
import { interruptSignal } from './interrupt.js';

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Kill the program after this long (SIGTERM, then SIGKILL 5 s later). */
  timeoutMs?: number;
  /** Append stdout and stderr to this file as they arrive. */
  logFile?: string;
  input?: string;
  /** Do not throw on a non-zero exit; the caller inspects exitCode. */
  reject?: boolean;
  /** Error code used when the command fails (default COMMAND_FAILED). */
  errorCode?: string;
  /** Hint attached to the error when the command fails. */
  hint?: string;
  /**
   * Run it in a process group of its own and end the whole group (SIGTERM, SIGKILL 5 s later)
   * on interrupt or timeout: for programs whose children do the work (git bisect run's step,
   * make's compilers), which a signal to the program alone would leave running.
   */
  processGroup?: boolean;
  /** Each whole line of stdout and stderr as it arrives (progress: a build's compiled files, a tool's last words). */
  onLine?: (line: string) => void;
}

export interface RunResult {
  argv: string[];
  exitCode: number;
  signal: string | undefined;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** The PATH host programs run with: the caller's, plus the sbin dirs (mkfs, depmod) a non-login root shell may lack. */
export function hostPath(): string {
  return `${process.env.PATH ?? ''}:/usr/local/sbin:/usr/sbin:/sbin`;
}

export async function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const started = Date.now();
  const argv = [file, ...args];
  let child: ResultPromise;
  try {
    child = execa(file, args, {
      cwd: options.cwd,
      extendEnv: true,
      timeout: options.timeoutMs,
      forceKillAfterDelay: 5000,
      // Nothing the harness runs may wait on the terminal or on CI's open stdin (ssh-keygen
      // with no arguments prompts forever): stdin is closed unless the caller gives input.
      ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
      reject: false,
      all: false,
      stripFinalNewline: false,
      maxBuffer: 256 * 1024 * 1024,
      cancelSignal: interruptSignal,
      env: { PATH: hostPath(), ...options.env },
      ...(options.processGroup ? { detached: true } : {}),
    });
  } catch (cause) {
    throw new HarnessError('COMMAND_NOT_STARTED', `could not start ${file}: ${String(cause)}`, { cause, context: { argv } });
  }
  const endGroup = options.processGroup ? groupKiller(child.pid, options.timeoutMs) : undefined;
  if (options.logFile) {
    const log = createWriteStream(options.logFile, { flags: 'a' });
    log.write(`$ ${argv.map(shellQuote).join(' ')}\n`);
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    child.finally(() => log.end()).catch(() => undefined);
  }
  if (options.onLine) {
    const onLine = options.onLine;
    for (const stream of [child.stdout, child.stderr]) {
      let rest = '';
      stream?.on('data', (chunk: Buffer) => {
        const lines = (rest + chunk.toString('utf8')).split('\n');
        rest = lines.pop() ?? '';
        for (const l of lines) onLine(l);
      });
    }
  }
  const r = await child;
  endGroup?.(r.timedOut || r.isCanceled);
  if (r.isCanceled) {
    throw new HarnessError('INTERRUPTED', `${file} was stopped: the harness was interrupted`, { context: { argv } });
  }
  const result: RunResult = {
    argv,
    exitCode: typeof r.exitCode === 'number' ? r.exitCode : -1,
    signal: r.signal ?? undefined,
    timedOut: r.timedOut,
    stdout: String(r.stdout ?? ''),
    stderr: String(r.stderr ?? ''),
    durationMs: Date.now() - started,
  };
  if ((r as { code?: string }).code === 'ENOENT') {
    throw new HarnessError('TOOL_MISSING', `${file} is not installed (or not on PATH)`, {
      hint: options.hint ?? 'run `cxl-harness doctor --fix` as root to install the host tools',
      context: { argv },
    });
  }
  if (options.reject !== false && (result.exitCode !== 0 || result.timedOut || result.signal)) {
    const how = result.timedOut
      ? `timed out after ${options.timeoutMs} ms`
      : result.signal
        ? `was killed by ${result.signal}`
        : `exited with code ${result.exitCode}`;
    throw new HarnessError(
      options.errorCode ?? 'COMMAND_FAILED',
      `${argv.map(shellQuote).join(' ')} ${how}:\n${tail(result.stderr || result.stdout, 15)}`,
      { hint: options.hint, context: { ...result, stdout: tail(result.stdout, 50), stderr: tail(result.stderr, 50) } },
    );
  }
  return result;
}

/** Signal a process group, ignoring one that is gone. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/**
 * End process group `pid` when the harness is interrupted or `timeoutMs` passes. Call the
 * returned function once the leader has exited, with whether it was stopped (timeout,
 * interrupt): then what is left of its group is ended too.
 */
function groupKiller(pid: number | undefined, timeoutMs: number | undefined): (stopped: boolean) => void {
  if (pid === undefined) return () => undefined;
  const end = (): void => {
    signalGroup(pid, 'SIGTERM');
    setTimeout(() => signalGroup(pid, 'SIGKILL'), 5000).unref();
  };
  interruptSignal.addEventListener('abort', end, { once: true });
  const timer = timeoutMs ? setTimeout(end, timeoutMs) : undefined;
  timer?.unref();
  return (stopped) => {
    interruptSignal.removeEventListener('abort', end);
    if (timer) clearTimeout(timer);
    if (stopped) end();
  };
}

/** Quote one word for a POSIX shell, so that it is never interpreted. */
export function shellQuote(word: string): string {
  if (word === '') return "''";
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Build one shell command line from an argv, every word quoted. */
export function shellCommand(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

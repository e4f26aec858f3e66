/**
 * The MCP server's children: each run, repro or exec is the CLI itself in a child process
 * (`node dist/cli/main.js run ... --results DIR`), so a run started by an agent is exactly the
 * run the command line makes, with the CLI's own preflight, signal handling and results dir.
 * The table knows every child until the server ends, and ends them all then: the CLI stops its
 * QEMU on SIGTERM, so no guest outlives the server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { packageRoot } from '../paths.js';
import { readSummary } from '../results/report-files.js';

/** The CLI the children run: dist/ of this package, also when the server itself runs from src/ (the tests). */
export const CLI_MAIN = join(packageRoot, 'dist', 'cli', 'main.js');

/** What a child keeps of its stdout and of its stderr (the tail): a guest command may print without end. */
export const OUTPUT_CAP = 64 * 1024;

/** How long a child may take to close its results dir after SIGTERM before it is killed. */
const STOP_GRACE_MS = 60_000;

export type ChildKind = 'run' | 'repro' | 'exec';

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The last OUTPUT_CAP characters of a stream, and how many came before them. */
class Tail {
  private text = '';
  dropped = 0;

  push(chunk: string): void {
    this.text += chunk;
    if (this.text.length > 2 * OUTPUT_CAP) {
      this.dropped += this.text.length - OUTPUT_CAP;
      this.text = this.text.slice(-OUTPUT_CAP);
    }
  }

  toString(): string {
    const over = this.text.length - OUTPUT_CAP;
    return over > 0 ? this.text.slice(over) : this.text;
  }

  get omitted(): number {
    return this.dropped + Math.max(0, this.text.length - OUTPUT_CAP);
  }
}

export class HarnessChild {
  readonly startedAt = new Date().toISOString();
  /** The summary's run id, once summary.json exists. */
  runId: string | undefined;
  exit: ChildExit | undefined;
  readonly exited: Promise<ChildExit>;
  private readonly out = new Tail();
  private readonly err = new Tail();
  private partial = '';
  private readonly lineListeners = new Set<(line: string) => void>();

  constructor(readonly kind: ChildKind, readonly dir: string, readonly argv: readonly string[], private readonly proc: ChildProcess) {
    proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.out.push(chunk));
    proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.onStderr(chunk));
    this.exited = new Promise((resolve) => {
      const end = (exit: ChildExit): void => {
        this.exit ??= exit;
        resolve(this.exit);
      };
      proc.once('close', (code, signal) => end({ code, signal }));
      // A child that could not be started at all (no node, no setpriv) may never close.
      proc.once('error', (e) => {
        this.err.push(`cannot start the CLI: ${e.message}\n`);
        end({ code: null, signal: null });
      });
    });
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** The child's stdout (exec: the guest command's stdout), its last OUTPUT_CAP characters. */
  stdout(): { text: string; omitted: number } {
    return { text: this.out.toString(), omitted: this.out.omitted };
  }

  /** The child's stderr: the harness's log lines and its errors (exec: also the guest command's stderr). */
  stderr(): { text: string; omitted: number } {
    return { text: this.err.toString(), omitted: this.err.omitted };
  }

  /** Each whole stderr line as it comes, until the returned function is called. */
  onLine(listener: (line: string) => void): () => void {
    this.lineListeners.add(listener);
    return () => this.lineListeners.delete(listener);
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) this.proc.kill(sig);
  }

  private onStderr(chunk: string): void {
    this.err.push(chunk);
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop()!;
    for (const line of lines) for (const l of this.lineListeners) l(line);
  }
}

/** How waiting for a child's start ended: its summary.json appeared, or it exited before that. */
export type StartResult = { started: true; runId: string } | { started: false; exit: ChildExit; stderr: string };

export class HarnessChildren {
  private readonly children: HarnessChild[] = [];
  /** The children being stopped: stop_run and the server's end may ask twice, the child gets one SIGTERM. */
  private readonly stopping = new Map<HarnessChild, Promise<ChildExit>>();

  constructor(private readonly options: { cwd: string; log: (line: string) => void }) {}

  /**
   * Start the CLI with `argv` (which writes into `dir`). The CLI takes a second signal as "stop
   * now, without closing the results dir", so a child must get one SIGTERM, the server's:
   * it runs in a process group of its own, out of reach of a terminal's Ctrl-C to the server's
   * group. Under setpriv --pdeathsig TERM when the host has it, as qemu/vm.ts starts QEMU: a
   * server killed outright still ends its children (the kernel may signal them more than once
   * then, as the server's threads die; they still stop their QEMU).
   */
  start(kind: ChildKind, argv: readonly string[], dir: string): HarnessChild {
    const node = [process.execPath, CLI_MAIN, ...argv];
    const usePdeath = existsSync('/usr/bin/setpriv');
    const [file, ...args] = usePdeath ? ['/usr/bin/setpriv', '--pdeathsig', 'TERM', ...node] : node;
    const proc = spawn(file!, args, { cwd: this.options.cwd, env: process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const child = new HarnessChild(kind, dir, argv, proc);
    this.children.push(child);
    this.options.log(`${kind} started (pid ${child.pid ?? '?'}): cxl-harness ${argv.join(' ')}`);
    void child.exited.then((e) => this.options.log(`${kind} in ${dir} ended: ${e.signal ? `signal ${e.signal}` : `exit ${e.code}`}`));
    return child;
  }

  /** Wait until the child's run is under way (summary.json exists) or it exits; `abort` stops it. */
  async untilStarted(child: HarnessChild, abort: AbortSignal): Promise<StartResult> {
    const summary = join(child.dir, 'summary.json');
    const stop = () => void this.stop(child);
    abort.addEventListener('abort', stop, { once: true });
    try {
      while (child.running && !existsSync(summary)) await Promise.race([child.exited, sleep(100)]);
      // A run that failed right after its results dir was made (a download, a build) has started too.
      if (existsSync(summary)) {
        child.runId = (await readSummary(child.dir)).runId;
        return { started: true, runId: child.runId };
      }
      return { started: false, exit: child.exit!, stderr: child.stderr().text };
    } finally {
      abort.removeEventListener('abort', stop);
    }
  }

  /** The child a reference names: its results dir (as given or resolved), its dir's name, or its run id. */
  find(ref: string): HarnessChild | undefined {
    const abs = resolve(this.options.cwd, ref);
    return this.children.find((c) => c.dir === abs || basename(c.dir) === ref || c.runId === ref);
  }

  list(): readonly HarnessChild[] {
    return this.children;
  }

  /** SIGTERM, then wait: the CLI stops QEMU and closes the results dir. SIGKILL only after STOP_GRACE_MS (QEMU dies with it: --pdeathsig). */
  stop(child: HarnessChild): Promise<ChildExit> {
    let stopped = this.stopping.get(child);
    if (!stopped) {
      child.signal('SIGTERM');
      const late = setTimeout(() => {
        this.options.log(`${child.kind} in ${child.dir} still running ${STOP_GRACE_MS / 1000} s after SIGTERM: SIGKILL`);
        child.signal('SIGKILL');
      }, STOP_GRACE_MS);
      stopped = child.exited.finally(() => clearTimeout(late));
      this.stopping.set(child, stopped);
    }
    return stopped;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.children.filter((c) => c.running).map((c) => this.stop(c)));
  }
}

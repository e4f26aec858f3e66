/**
 * The one QEMU launcher: starts the VM, keeps its console, stderr and QMP socket, and makes
 * sure the process never outlives the harness (setpriv --pdeathsig KILL covers even a
 * SIGKILLed harness; execa's cleanup and stopAll() cover normal exits and signals).
 */
import { execa, type ResultPromise } from 'execa';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HarnessError, tail } from '../errors.js';
import { ConsoleWatcher } from './console.js';
import { Qmp } from './qmp.js';
import { topologyToArgv, type VmSpec } from './argv.js';

export interface VmExit {
  code: number | undefined;
  signal: string | undefined;
  /** Who ended it: the harness (stop), or QEMU/guest on its own. */
  byHarness: boolean;
}

export interface StartOptions {
  spec: Omit<VmSpec, 'sshPort' | 'consoleLog' | 'qmpSocket'>;
  /** Results dir: console.log, qemu.stderr.log and qemu.argv.json go here. */
  dir: string;
  qemu?: string;
  /** Name used in file names when several VMs share a results dir. */
  name?: string;
}

const live = new Set<Vm>();

export class Vm {
  readonly console: ConsoleWatcher;
  readonly exit: Promise<VmExit>;
  exited: VmExit | undefined;
  private qmpClient?: Qmp;
  private stopping = false;
  private stderrText = '';

  private constructor(
    private readonly child: ResultPromise,
    readonly argv: string[],
    readonly sshPort: number,
    readonly consoleLog: string,
    readonly qmpSocket: string,
    readonly stderrLog: string,
  ) {
    this.console = new ConsoleWatcher(consoleLog);
    this.console.start();
    child.stderr?.on('data', (d: Buffer) => { this.stderrText += d.toString(); });
    this.exit = child.then(
      (r) => r,
      (r) => r,
    ).then((r: { exitCode?: number; signal?: string }) => {
      this.exited = { code: r.exitCode, signal: r.signal ?? undefined, byHarness: this.stopping };
      live.delete(this);
      return this.exited;
    });
  }

  static async start(options: StartOptions): Promise<Vm> {
    const qemu = options.qemu ?? 'qemu-system-x86_64';
    const base = options.name ? `${options.name}.` : '';
    const consoleLog = join(options.dir, `${base}console.log`);
    const stderrLog = join(options.dir, `${base}qemu.stderr.log`);
    // Unix socket paths are limited to 108 bytes: keep the socket in the temp dir.
    const qmpSocket = join(tmpdir(), `cxl-harness-${process.pid}-${Math.random().toString(36).slice(2, 8)}.qmp`);
    for (let attempt = 1; ; attempt++) {
      const sshPort = await freePort();
      const argv = topologyToArgv({ ...options.spec, sshPort, consoleLog, qmpSocket });
      const { writeFile } = await import('node:fs/promises');
      await writeFile(join(options.dir, `${base}qemu.argv.json`), JSON.stringify([qemu, ...argv], null, 2));
      const usePdeath = existsSync('/usr/bin/setpriv');
      const child = execa(usePdeath ? 'setpriv' : qemu, usePdeath ? ['--pdeathsig', 'KILL', qemu, ...argv] : argv, {
        reject: false,
        stdin: 'ignore',
        stdout: 'ignore',
        stderr: 'pipe',
        cleanup: true,
        buffer: false,
      });
      const stderrFile = createWriteStream(stderrLog, { flags: 'a' });
      child.stderr?.pipe(stderrFile);
      const vm = new Vm(child, [qemu, ...argv], sshPort, consoleLog, qmpSocket, stderrLog);
      live.add(vm);
      // QEMU either exits within a moment (bad argv, port taken) or opens its QMP socket.
      // The QMP greeting comes only once the machine is built, so a rejected -device shows here.
      const outcome = await Promise.race([
        vm.exit.then(() => 'exited' as const),
        (async () => {
          if (!(await waitForFile(qmpSocket, 15_000))) return 'slow' as const;
          await vm.qmp();
          return 'up' as const;
        })().catch(() => 'exited' as const),
      ]);
      if (outcome === 'exited') await settled(vm.exit, 2000);
      if (outcome === 'up' && !vm.exited) return vm;
      await vm.stop();
      const stderr = vm.stderrText;
      if (/Could not set up host forwarding rule/.test(stderr) && attempt < 3) continue;
      if (outcome === 'slow') {
        throw new HarnessError('QEMU_NO_QMP', `QEMU did not open its QMP socket within 15 s`, { context: { stderr: tail(stderr) } });
      }
      const code = child.pid === undefined ? 'QEMU_MISSING' : 'QEMU_EXITED_EARLY';
      const t = options.spec.topology;
      throw new HarnessError(
        code,
        code === 'QEMU_MISSING'
          ? `${qemu} could not be started`
          : `QEMU refused to start topology ${t.name} (${t.file}), exit code ${vm.exited?.code ?? '?'}:\n${tail(stderr, 12)}`,
        { hint: qemuHint(stderr), context: { argv: vm.argv, stderr, stderrLog } },
      );
    }
  }

  /** The QMP client, connected on first use. */
  async qmp(): Promise<Qmp> {
    this.qmpClient ??= await Qmp.connect(this.qmpSocket);
    return this.qmpClient;
  }

  stderr(): string {
    return this.stderrText;
  }

  /** QEMU's process id (setpriv execs QEMU, so it is QEMU's own). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * True when the QEMU process itself is stopped (SIGSTOP/SIGTSTP, or a debugger): then a
   * guest that stops answering has not hung, its emulator has. Read from /proc/PID/stat.
   */
  isStopped(): boolean {
    if (this.exited || this.child.pid === undefined) return false;
    try {
      return processState(readFileSync(`/proc/${this.child.pid}/stat`, 'utf8')) === 'stopped';
    } catch {
      return false;
    }
  }

  /**
   * Power the guest off with `poweroff` (e.g. `busybox poweroff -f` over SSH), then stop().
   * QEMU may exit before poweroff's answer arrives: from the first moment that exit counts as
   * the harness's doing, never as QEMU dying on its own.
   */
  async powerOff(poweroff: () => Promise<unknown>, graceMs = 10_000): Promise<VmExit> {
    this.stopping = true;
    await poweroff().catch(() => undefined);
    return this.stop(graceMs);
  }

  /** End QEMU: QMP quit, then SIGTERM, then SIGKILL. Idempotent. */
  async stop(graceMs = 5000): Promise<VmExit> {
    this.stopping = true;
    // A stopped QEMU answers neither QMP nor SIGTERM (held until SIGCONT): kill it outright.
    if (this.isStopped()) {
      this.child.kill('SIGKILL');
      await this.exit;
    }
    if (!this.exited) {
      try {
        const q = await Promise.race([this.qmp(), sleep(2000, undefined, { ref: false }).then(() => undefined)]);
        await q?.execute('quit', undefined, 2000).catch(() => undefined);
      } catch {
        // fall through to signals
      }
      if (!(await settled(this.exit, graceMs))) {
        this.child.kill('SIGTERM');
        if (!(await settled(this.exit, graceMs))) this.child.kill('SIGKILL');
      }
    }
    const exit = await this.exit;
    this.qmpClient?.close();
    await this.console.stop();
    await rm(this.qmpSocket, { force: true });
    return exit;
  }
}

/** The state letter of /proc/PID/stat (after the parenthesised command, which may hold spaces). */
export function processState(stat: string): 'stopped' | 'zombie' | 'running' | 'unknown' {
  const letter = /\) (\S) /.exec(stat.slice(stat.lastIndexOf(')')))?.[1];
  if (letter === 'T' || letter === 't') return 'stopped';
  if (letter === 'Z' || letter === 'X') return 'zombie';
  return letter ? 'running' : 'unknown';
}

/** Stop every VM this process started (signal handlers, test teardown). */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((vm) => vm.stop(2000)));
}

export function qemuHint(stderr: string): string {
  if (/phys-bits too low|Address space limit/.test(stderr)) {
    return 'the topology needs more guest physical address space than the CPU model has (40 bits = 1 TiB under TCG): make the windows (windows[].sizeMiB) or ramMiB smaller';
  }
  if (/chassis|slot/.test(stderr) && /cxl-rp/.test(stderr)) return 'two root ports share a chassis/slot pair: give each root port its own chassis and slot in the topology file';
  if (/[Cc]annot allocate memory|cannot set up guest memory/.test(stderr)) return 'the host cannot give QEMU that much memory: lower ramMiB or the devices\' sizeMiB in the topology file';
  if (/No such file or directory|Could not open/.test(stderr) && /kernel|initrd|file=/.test(stderr)) return 'a file QEMU was given is gone: check --kernel and the cache dir';
  if (/cxl-type3|cxl=on|volatile-memdev|pxb-cxl/.test(stderr) && /not found|invalid|Parameter/i.test(stderr)) {
    return 'this QEMU lacks the CXL options used: install QEMU >= 8 (bookworm-backports qemu-system-x86 10.0; run `cxl-harness doctor --fix`)';
  }
  if (/kvm/i.test(stderr)) return 'KVM is not usable here: drop --kvm (TCG is the default)';
  if (/cxl-fmw|window/i.test(stderr)) return 'QEMU rejected the topology: check the windows and host bridges in the topology file';
  return 'see qemu.stderr.log in the results dir';
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForFile(path: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(path)) return true;
    await sleep(50);
  }
  return false;
}

async function settled(p: Promise<unknown>, ms: number): Promise<boolean> {
  // An unref'd timer: a race that is over must not keep the harness alive for `ms`.
  return Promise.race([p.then(() => true), sleep(ms, undefined, { ref: false }).then(() => false)]);
}

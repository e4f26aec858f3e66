/**
 * One guest machine's lifecycle, the same for `run`, `repro` and `ssh` (and `bisect` through
 * repro): the inputs checked (preflight) -> the results dir -> the kernel -> the guest image ->
 * boots (boot, boot2, ... each with its console log, its CXL preflight and its agent) -> the
 * kernel log collected -> power off -> stop; and, when the guest goes away, one answer to why
 * (loss.ts). Every step starts only if the harness was not interrupted meanwhile, and close()
 * leaves no QEMU process, whatever happened.
 */
import { HarnessError } from '../errors.js';
import { GuestSession } from '../remote/session.js';
import type { GuestSsh } from '../remote/ssh.js';
import { guestImage, type GuestImage } from '../image/image.js';
import type { RootfsRecipe } from '../image/recipe.js';
import type { KernelArtifact } from '../kernel/artifact.js';
import { resolveKernel, type KernelSpec } from '../kernel/resolve.js';
import { throwIfInterrupted } from '../interrupt.js';
import { withProgress } from '../progress.js';
import type { Accel } from '../qemu/argv.js';
import type { Topology, Type3Device } from '../qemu/topology.js';
import { stopAll, type Vm } from '../qemu/vm.js';
import type { ConsoleFinding, LayoutPort, RunSummary, TopologyLayout } from '../report/model.js';
import { settleSummary } from '../report/verdict.js';
import { writeReports } from '../results/report-files.js';
import { Results } from '../results/results.js';
import { assertGuestCxl, bootGuest, hangDump } from './boot.js';
import { classifyLoss, type Loss, type LossOptions } from './loss.js';
import { preflight } from './preflight.js';
import { supervise, type SuperviseOptions } from './supervise.js';
import { writeReproducer } from './reproducer.js';

/** Where a command's request puts its results (--results DIR, --results-base DIR), as Machine.open takes it. */
export function resultsAt(o: { resultsDir?: string | undefined; resultsBase?: string | undefined }): MachineOptions['results'] {
  return { ...(o.resultsDir ? { dir: o.resultsDir } : {}), ...(o.resultsBase ? { base: o.resultsBase } : {}) };
}

export interface MachineOptions {
  results: { dir?: string; base?: string };
  /** Topology name or file. */
  topology: string;
  /** A kernel to resolve, or one the caller holds already (bisect's builds). */
  kernel: KernelSpec | { kind: 'artifact'; artifact: KernelArtifact };
  /** Throws when the caller cannot use this topology (a suite, a scenario). */
  fits?: (topology: Topology) => void;
  accel: Accel;
  bootTimeoutMs: number;
  extraCmdline?: string[];
  /** What runs on the machine, for summary.json: a suite, `repro:<scenario>`, `ssh`. */
  purpose: string;
  /** The command line that started this, for reproducer.sh (none: no reproducer). */
  argv?: string[];
  /**
   * A kernel without a CXL root: `refuse` ends the command before anything runs (run, repro);
   * `warn` says so and goes on (ssh, which is how one looks into such a kernel); `expected`: the
   * machine has no CXL hardware on purpose (cxl_test mocks its own), so nothing is checked and
   * the guest's init loads no CXL driver (cxlh.nocxl on its command line).
   */
  withoutCxl: 'refuse' | 'warn' | 'expected';
  /** The guest's root tree, when not the default one (a suite's own). */
  recipe?: (log: (line: string) => void) => Promise<RootfsRecipe>;
  log: (line: string) => void;
}

/** One boot of the guest: its QEMU, its SSH connection and its session (commands, agent). */
export interface Boot {
  /** 1 for the first boot; file names and steps of later boots carry `boot<n>`. */
  n: number;
  vm: Vm;
  ssh: GuestSsh;
  guest: GuestSession;
  bootMs: number;
}

export class Machine {
  private readonly boots: Boot[] = [];
  private provisioned?: { kernel: KernelArtifact; image: GuestImage };
  private resolved?: KernelArtifact;

  private constructor(
    readonly results: Results,
    readonly topology: Topology,
    private readonly options: MachineOptions,
  ) {}

  /** Check every input, then create the results dir (a refused input leaves none). */
  static async open(options: MachineOptions): Promise<Machine> {
    const { topology, qemuVersion } = await preflight({
      results: options.results,
      topology: options.topology,
      ...('artifact' in options.kernel ? {} : { kernel: options.kernel }),
      ...(options.fits ? { fits: options.fits } : {}),
    });
    const results = await Results.create(options.results);
    options.log(`results: ${results.dir}`);
    const { summary } = results;
    summary.suite = options.purpose;
    summary.topology = { name: topology.name, file: topology.file, layout: topologyLayout(topology) };
    summary.qemu = { version: qemuVersion, accel: options.accel };
    if (options.argv) await writeReproducer(results, options.argv);
    return new Machine(results, topology, options);
  }

  /** A step of this machine's record, started only if the harness was not interrupted. */
  step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    throwIfInterrupted();
    return this.results.step(name, () => withProgress(name, fn));
  }

  /** The kernel (resolved or built) and its guest image, once. */
  async provision(): Promise<{ kernel: KernelArtifact; image: GuestImage }> {
    if (this.provisioned) return this.provisioned;
    const { log, recipe } = this.options;
    const kernel = await this.kernel();
    const image = await this.step('image', async () => guestImage(kernel, { log, ...(recipe ? { recipe: await recipe(log) } : {}) }));
    log(`image: ${image.hit ? 'cached' : 'built'} ${image.image}`);
    this.provisioned = { kernel, image };
    return this.provisioned;
  }

  /** The kernel (resolved or built), once: the step a run can stop after when its suite has nothing to judge on it. */
  async kernel(): Promise<KernelArtifact> {
    if (this.resolved) return this.resolved;
    const { log } = this.options;
    const spec = this.options.kernel;
    const kernel = await this.step('kernel', () => ('artifact' in spec ? Promise.resolve(spec.artifact) : resolveKernel(spec, log)));
    this.results.summary.kernel = kernel.identity;
    log(`kernel: ${kernel.release ?? kernel.image}`);
    this.resolved = kernel;
    return kernel;
  }

  /** The boot running now, if any. */
  get current(): Boot | undefined {
    const last = this.boots.at(-1);
    return last && !last.vm.exited ? last : undefined;
  }

  /** The last boot, running or not (after a loss: the one that was lost). */
  get last(): Boot | undefined {
    return this.boots.at(-1);
  }

  /** Boot the guest (a fresh QEMU), up to SSH, its CXL preflight and its agent started. */
  async boot(): Promise<Boot> {
    const { kernel, image } = await this.provision();
    const n = this.boots.length + 1;
    const name = n === 1 ? undefined : `boot${n}`;
    const { log, withoutCxl } = this.options;
    const b = await this.step(name ?? 'boot', async () => {
      const booted = await bootGuest({
        kernel, image, topology: this.topology, dir: this.results.dir, accel: this.options.accel,
        timeoutMs: this.options.bootTimeoutMs, ...(name ? { name } : {}),
        // No CXL hardware (cxl_test's machine): no CXL driver at boot, and hot-added memory stays
        // offline, as the kernel's default: cxl_test's mock regions are no memory, and onlined
        // (online_movable, the harness's default) they gave processes pages that do not exist
        // (bash, sshd and udevd segfaulted the moment the mock region's memory came online).
        extraCmdline: [...(this.options.extraCmdline ?? []), ...(withoutCxl === 'expected' ? ['cxlh.nocxl', 'memhp_default_state=offline'] : [])],
      });
      const boot: Boot = { n, ...booted, guest: new GuestSession(booted.ssh, this.results) };
      this.boots.push(boot);
      if (withoutCxl !== 'expected') try {
        const readConsole = async (): Promise<string> => {
          await booted.vm.console.poll();
          return booted.vm.console.contents();
        };
        await assertGuestCxl(booted.ssh, readConsole, kernel.release, (r) => this.results.saveCommand('preflight-cxl', r));
      } catch (e) {
        if (withoutCxl === 'refuse' || !(e instanceof HarnessError) || e.code !== 'KERNEL_NO_CXL') throw e;
        log(`warning: ${e.message} (${e.hint ?? ''})`);
      }
      return boot;
    });
    this.results.summary.qemu = { ...this.results.summary.qemu, argv: b.vm.argv };
    this.results.summary.timings[`${name ?? 'boot'}ToSshMs`] = b.bootMs;
    log(`guest up in ${(b.bootMs / 1000).toFixed(1)} s${n > 1 ? ` (boot ${n})` : ''} (ssh on 127.0.0.1:${b.vm.sshPort})`);
    b.guest.agent.prestart();
    return b;
  }

  /** Why the last boot's guest went away (see loss.ts). */
  loss(options: LossOptions = {}): Promise<Loss> {
    const b = this.last;
    if (!b) return Promise.resolve({ kind: 'lost', detail: 'no guest was booted' });
    return classifyLoss(b.vm, options);
  }

  /** Work in the running guest, supervised (supervise.ts): QEMU gone, its bound, an interruption end it with the reason. */
  supervise<T>(work: () => Promise<T>, options: SuperviseOptions): Promise<T> {
    const b = this.current;
    if (!b) return Promise.reject(new HarnessError('GUEST_LOST', `no guest is running ${options.during}`));
    return supervise(b, () => this.loss(), work, options);
  }

  /** A hang: ask the kernel what it is doing (blocked tasks, every CPU's backtrace), into the console log. */
  async dumpHang(): Promise<void> {
    const b = this.current;
    if (b && !b.ssh.isClosed) await hangDump(b.ssh);
  }

  /**
   * The kernel log of the running boot, kept as dmesg.txt (boot<n>.dmesg.txt for later
   * boots); the command's record says why when the guest does not answer.
   */
  async saveDmesg(): Promise<{ ok: boolean; error: string }> {
    const b = this.current;
    if (!b || b.ssh.isClosed) return { ok: false, error: 'the guest is gone' };
    const d = await b.guest.run('dmesg', ['dmesg'], { timeoutMs: 15_000 });
    if (d.exitCode !== 0) return { ok: false, error: d.stderr.trim() || `exit ${d.exitCode}` };
    await this.results.writeText(b.n === 1 ? 'dmesg.txt' : `boot${b.n}.dmesg.txt`, d.stdout);
    return { ok: true, error: '' };
  }

  /** Power the running boot off (poweroff -f in the guest, then QEMU ended). */
  async powerOff(): Promise<void> {
    const b = this.current;
    if (!b) return;
    await b.vm.powerOff(() => b.guest.run('poweroff', ['busybox', 'poweroff', '-f'], { timeoutMs: 5000 }));
    b.ssh.close();
  }

  /** End the running boot: its kernel log kept when it answers, powered off, QEMU gone. */
  async endBoot(): Promise<void> {
    const b = this.last;
    if (!b) return;
    if (this.current && !b.ssh.isClosed) {
      await this.saveDmesg().catch(() => undefined);
      await this.powerOff();
    }
    b.ssh.close();
    await b.vm.stop(10_000);
  }

  /** Stop whatever still runs: no QEMU outlives the command, whatever happened. */
  async close(): Promise<void> {
    for (const b of this.boots) {
      b.ssh.close();
      await b.vm.stop();
    }
    await stopAll();
  }

  /**
   * The end of the record, the same for every command: the console findings in (`finding` may
   * mark one the command caused on purpose as expected), the outcome and exit code settled from
   * the checks (report/verdict.ts; `after` may change what its command decides alone),
   * summary.json sealed and the report files written.
   */
  async conclude(o: { finding?: (f: ConsoleFinding) => ConsoleFinding; after?: (summary: RunSummary) => void } = {}): Promise<RunSummary> {
    const { summary } = this.results;
    summary.findings = this.findings().map(o.finding ?? ((f) => f));
    summary.finishedAt ??= new Date().toISOString();
    Object.assign(summary, settleSummary(summary));
    o.after?.(summary);
    await this.results.seal();
    await writeReports(this.results.dir, summary);
    return summary;
  }

  /** The kernel's reports in every boot's console, found as the lines arrived. */
  findings(): ConsoleFinding[] {
    return this.boots.flatMap((b) =>
      b.vm.console.findings().map((f) => (this.boots.length > 1 ? { ...f, log: this.results.rel(b.vm.consoleLog) } : f)),
    );
  }
}

/** The topology as report.html draws it: the tree in QEMU's bus order (argv.ts) and the windows. */
export function topologyLayout(t: Topology): TopologyLayout {
  const below = (id: string, d: Type3Device | undefined): LayoutPort => (d ? { id, device: { id: d.id, kind: d.kind, sizeMiB: d.sizeMiB } } : { id });
  return {
    hostBridges: t.hostBridges.map((hb) => ({
      id: hb.id,
      rootPorts: [
        ...hb.rootPorts.map((rp) => below(rp.id, rp.device)),
        ...hb.switches.map((s) => ({ id: s.rootPort.id, switch: { id: s.upstream.id, ports: s.downstreamPorts.map((p) => below(p.id, p.device)) } })),
        ...hb.emptyRootPorts.map((p) => below(p.id, undefined)),
      ],
    })),
    windows: t.windows.map((w) => ({ targets: [...w.targets], sizeMiB: w.sizeMiB, ...(w.granularity ? { granularity: w.granularity } : {}) })),
  };
}

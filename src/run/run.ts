/**
 * One run: kernel -> image -> boot -> suite -> collect -> shutdown -> reports.
 * Whatever happens (check failures, a kernel crash, a hang, QEMU dying, Ctrl-C), the
 * results dir ends with summary.json, results.tap, junit.xml, the console and dmesg,
 * and no QEMU process is left.
 */
import { readFile } from 'node:fs/promises';
import { ExitCode, HarnessError, isHarnessError } from '../errors.js';
import { GuestSession } from '../guest/session.js';
import type { GuestSsh } from '../guest/ssh.js';
import { guestImage, type GuestImage } from '../image/image.js';
import type { KernelArtifact } from '../kernel/artifact.js';
import { resolveKernel, type KernelSpec } from '../kernel/resolve.js';
import type { Accel } from '../qemu/argv.js';
import { loadTopology, type Topology } from '../qemu/topology.js';
import { stopAll, type Vm } from '../qemu/vm.js';
import { scanConsole } from '../report/console-scan.js';
import { toJUnit } from '../report/junit.js';
import type { ConsoleFinding, Outcome, RunSummary } from '../report/model.js';
import { toTap } from '../report/tap.js';
import { settleSummary } from '../report/verdict.js';
import { run as runProgram } from '../proc.js';
import { runCheck, type Suite, type SuiteContext } from '../suites/check.js';
import { bootGuest } from './boot.js';
import { interruptedBy } from './interrupt.js';
import { Results } from './results.js';
import { writeReproducer } from './reproducer.js';

export interface RunOptions {
  suite: Suite;
  /** Topology name or file; default: the suite's. */
  topology?: string;
  kernel: KernelSpec;
  resultsBase?: string;
  resultsDir?: string;
  accel: Accel;
  bootTimeoutMs: number;
  /** Bound on one check; a check running longer is a hang. */
  checkTimeoutMs: number;
  extraCmdline?: string[];
  log: (line: string) => void;
  /** The command line that started this run, for reproducer.sh. */
  argv?: string[];
}

export interface RunHandle {
  results: Results;
  summary: RunSummary;
}

export async function runHarness(options: RunOptions): Promise<RunHandle> {
  const results = await Results.create({ ...(options.resultsDir ? { dir: options.resultsDir } : {}), ...(options.resultsBase ? { base: options.resultsBase } : {}) });
  const { summary } = results;
  const log = options.log;
  log(`results: ${results.dir}`);
  summary.suite = options.suite.name;
  await writeReproducer(results, options.argv ?? []);
  let vm: Vm | undefined;
  let ssh: GuestSsh | undefined;
  const consoles: string[] = [];
  try {
    const topology = loadTopology(options.topology ?? options.suite.defaultTopology);
    summary.topology = { name: topology.name, file: topology.file };
    const kernel = await results.step('kernel', () => resolveKernel(options.kernel, log));
    summary.kernel = kernel.identity;
    log(`kernel: ${kernel.release ?? kernel.image}`);
    const image = await results.step('image', () => guestImage(kernel, { log }));
    log(`image: ${image.hit ? 'cached' : 'built'} ${image.image}`);
    summary.qemu = { version: await qemuVersion(), accel: options.accel };

    let bootCount = 0;
    const boot = async (): Promise<GuestSession> => {
      bootCount++;
      const name = bootCount === 1 ? undefined : `boot${bootCount}`;
      const b = await results.step(bootCount === 1 ? 'boot' : `boot${bootCount}`, () =>
        bootGuest({ kernel, image, topology, dir: results.dir, accel: options.accel, timeoutMs: options.bootTimeoutMs, extraCmdline: options.extraCmdline ?? [], ...(name ? { name } : {}) }),
      );
      vm = b.vm;
      ssh = b.ssh;
      consoles.push(b.vm.consoleLog);
      summary.qemu!.argv = b.vm.argv;
      summary.timings[`${name ?? 'boot'}ToSshMs`] = b.bootMs;
      log(`guest up in ${(b.bootMs / 1000).toFixed(1)} s (ssh on 127.0.0.1:${b.vm.sshPort})`);
      return new GuestSession(b.ssh, results);
    };

    let guest = await boot();
    const ctx = suiteContext({
      results, topology, kernel, log, checkTimeoutMs: options.checkTimeoutMs,
      guest: () => guest,
      vm: () => vm,
      reboot: async (reason) => {
        log(`rebooting the guest: ${reason}`);
        ssh?.close();
        await vm?.stop();
        guest = await boot();
      },
    });
    await results.step(`suite:${options.suite.name}`, () => options.suite.run(ctx));
    await results.step('collect', async () => {
      const d = await guest.run('dmesg', ['dmesg']);
      await results.writeText('dmesg.txt', d.stdout);
    });
    await results.step('shutdown', async () => {
      await guest.run('poweroff', ['busybox', 'poweroff', '-f'], { timeoutMs: 5000 });
      await vm?.stop(10_000);
    });
  } catch (e) {
    const err = isHarnessError(e) ? e : new HarnessError('HARNESS_BUG', `unexpected error: ${e instanceof Error ? e.stack ?? e.message : String(e)}`, { cause: e });
    const signal = interruptedBy();
    summary.outcome = signal ? 'interrupted' : outcomeForError(err);
    summary.exitCode = signal === 'SIGTERM' ? ExitCode.sigterm : signal ? ExitCode.sigint : err.exitCode;
    summary.error = { code: signal ? 'INTERRUPTED' : err.code, message: signal ? `interrupted by ${signal}` : err.message, ...(err.hint ? { hint: err.hint } : {}) };
    // Whatever the guest still has to say is evidence: keep its dmesg when it answers.
    if (ssh && !ssh.isClosed && !signal && err.code !== 'GUEST_HANG') {
      const d = await ssh.exec(['dmesg'], { timeoutMs: 10_000 }).catch(() => undefined);
      if (d?.exitCode === 0) await results.writeText('dmesg.txt', d.stdout).catch(() => undefined);
    }
  } finally {
    ssh?.close();
    if (vm) await vm.stop();
    await stopAll();
  }
  summary.findings = await scanAll(results, consoles);
  if (summary.outcome === 'pass' && vm?.exited && !vm.exited.byHarness && !summary.findings.some((f) => f.kind === 'panic')) {
    summary.outcome = 'infrastructure-error';
    summary.error ??= { code: 'QEMU_DIED', message: `QEMU ended on its own (code ${vm.exited.code ?? '?'}, signal ${vm.exited.signal ?? 'none'}) before the run finished`, hint: 'see qemu.stderr.log' };
  }
  summary.finishedAt = new Date().toISOString();
  const settled = settleSummary(summary);
  Object.assign(summary, settled);
  await results.flush();
  await results.writeText('results.tap', toTap(summary));
  await results.writeText('junit.xml', toJUnit(summary));
  return { results, summary };
}

function outcomeForError(e: HarnessError): Outcome {
  if (e.code === 'KERNEL_PANIC' || e.exitCode === ExitCode.kernelCrash) return 'kernel-crash';
  if (e.code === 'GUEST_HANG') return 'hang';
  if (e.code === 'INTERRUPTED') return 'interrupted';
  return 'infrastructure-error';
}

interface ContextDeps {
  results: Results;
  topology: Topology;
  kernel: KernelArtifact;
  log: (line: string) => void;
  checkTimeoutMs: number;
  guest: () => GuestSession;
  vm: () => Vm | undefined;
  reboot: (reason: string) => Promise<void>;
}

function suiteContext(d: ContextDeps): SuiteContext {
  return {
    get guest() { return d.guest(); },
    results: d.results,
    topology: d.topology,
    kernel: d.kernel,
    log: d.log,
    async check(id, title, body) {
      const guest = d.guest();
      let timer: NodeJS.Timeout | undefined;
      const hang = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new HarnessError('GUEST_HANG', `check ${id} did not finish within ${Math.round(d.checkTimeoutMs / 1000)} s: the guest or a command in it hangs`, {
          hint: `see the last command logs of ${id} in commands/ and console.log`,
          context: { check: id, console: d.vm()?.console.lastLines(20) },
        })), d.checkTimeoutMs);
      });
      try {
        const result = await Promise.race([runCheck(guest, d.results, id, title, body), hang]);
        d.log(`${result.verdict.toUpperCase().padEnd(5)} ${id}${result.reason ? ` (${result.reason})` : ''}`);
        const vm = d.vm();
        if (vm?.exited && !vm.exited.byHarness) {
          throw new HarnessError(vm.console.contents().match(/Kernel panic - not syncing/) ? 'KERNEL_PANIC' : 'QEMU_DIED', `the guest went away during check ${id}`, {
            exitCode: vm.console.contents().match(/Kernel panic - not syncing/) ? ExitCode.kernelCrash : ExitCode.infrastructure,
            hint: 'see console.log for the kernel\'s last words',
          });
        }
        return result;
      } finally {
        clearTimeout(timer);
      }
    },
    async observe(observation) {
      d.results.summary.observations.push(observation);
      d.log(`NOTE  ${observation.id}: ${observation.title}`);
      await d.results.flush();
    },
    async setGeneration(name, evidence) {
      d.results.summary.generation = { name, evidence };
      d.log(`kernel generation: ${name}`);
      await d.results.flush();
    },
    reboot: d.reboot,
  };
}

async function scanAll(results: Results, consoles: string[]): Promise<ConsoleFinding[]> {
  const findings: ConsoleFinding[] = [];
  for (const file of consoles) {
    const text = await readFile(file, 'utf8').catch(() => '');
    const prefix = consoles.length > 1 ? `${results.rel(file)}: ` : '';
    for (const f of scanConsole(text)) findings.push(prefix ? { ...f, title: prefix + f.title } : f);
  }
  return findings;
}

async function qemuVersion(): Promise<string | undefined> {
  const r = await runProgram('qemu-system-x86_64', ['--version'], { reject: false }).catch(() => undefined);
  return r?.stdout.split('\n')[0]?.replace(/^QEMU emulator version\s*/, '');
}

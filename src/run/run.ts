/**
 * One run: kernel -> image -> boot -> suite -> collect -> shutdown -> reports.
 * Whatever happens (check failures, a kernel crash, a hang, QEMU dying, Ctrl-C), the
 * results dir ends with summary.json, results.tap, junit.xml, kcidb.json, the console and dmesg,
 * and no QEMU process is left.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ExitCode, HarnessError, isHarnessError, tail } from '../errors.js';
import { GuestSession } from '../guest/session.js';
import type { GuestSsh } from '../guest/ssh.js';
import { guestImage } from '../image/image.js';
import type { KernelArtifact } from '../kernel/artifact.js';
import { resolveKernel, type KernelSpec } from '../kernel/resolve.js';
import type { Accel } from '../qemu/argv.js';
import type { Topology } from '../qemu/topology.js';
import { stopAll, type Vm } from '../qemu/vm.js';
import { toJUnit } from '../report/junit.js';
import { toKcidb } from '../report/kcidb.js';
import type { Outcome, RunSummary } from '../report/model.js';
import { toTap } from '../report/tap.js';
import { checkFromAttempt, settleSummary } from '../report/verdict.js';
import { CRASH_PATTERN } from '../qemu/console.js';
import { lacking, type Capabilities } from '../suites/capabilities.js';
import { runCheck, type Suite, type SuiteContext } from '../suites/check.js';
import { assertGuestCxl, bootGuest, hangDump } from './boot.js';
import { interruptedBy, whenInterrupted } from '../interrupt.js';
import { Results } from '../results/results.js';
import { preflight } from './preflight.js';
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

/** A topology the suite cannot use, refused in the preflight. */
function suitedTopology(suite: Suite): (topology: Topology) => void {
  return (topology) => {
    const unsuited = suite.unsuitedTopology?.(topology);
    if (unsuited) {
      throw new HarnessError('TOPOLOGY_UNSUITED', `suite ${suite.name} cannot run on topology ${topology.name} (${topology.file}): ${unsuited}`, {
        hint: `use the suite's own topology (--topology ${suite.defaultTopology}, or leave --topology out), or add what is missing to ${topology.file}`,
        context: { suite: suite.name, topology: topology.name },
      });
    }
  };
}

export async function runHarness(options: RunOptions): Promise<RunHandle> {
  const location = { ...(options.resultsDir ? { dir: options.resultsDir } : {}), ...(options.resultsBase ? { base: options.resultsBase } : {}) };
  const { topology, qemuVersion } = await preflight({
    results: location, topology: options.topology ?? options.suite.defaultTopology, kernel: options.kernel, fits: suitedTopology(options.suite),
  });
  const results = await Results.create(location);
  const { summary } = results;
  const log = options.log;
  log(`results: ${results.dir}`);
  summary.suite = options.suite.name;
  await writeReproducer(results, options.argv ?? []);
  let vm: Vm | undefined;
  let ssh: GuestSsh | undefined;
  const consoles: string[] = [];
  // Every step starts only if the harness was not interrupted meanwhile.
  const step = <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    throwIfInterrupted();
    return results.step(name, fn);
  };
  try {
    summary.topology = { name: topology.name, file: topology.file };
    summary.qemu = { version: qemuVersion, accel: options.accel };
    const kernel = await step('kernel', () => resolveKernel(options.kernel, log));
    summary.kernel = kernel.identity;
    log(`kernel: ${kernel.release ?? kernel.image}`);
    const image = await step('image', () => guestImage(kernel, { log }));
    log(`image: ${image.hit ? 'cached' : 'built'} ${image.image}`);

    let bootCount = 0;
    const boot = async (): Promise<GuestSession> => {
      bootCount++;
      const name = bootCount === 1 ? undefined : `boot${bootCount}`;
      const b = await step(bootCount === 1 ? 'boot' : `boot${bootCount}`, async () => {
        const booted = await bootGuest({ kernel, image, topology, dir: results.dir, accel: options.accel, timeoutMs: options.bootTimeoutMs, extraCmdline: options.extraCmdline ?? [], ...(name ? { name } : {}) });
        vm = booted.vm;
        ssh = booted.ssh;
        consoles.push(booted.vm.consoleLog);
        await booted.vm.console.poll();
        await assertGuestCxl(booted.ssh, booted.vm.console.contents(), kernel.release, (r) => results.saveCommand('preflight-cxl', r));
        return booted;
      });
      summary.qemu!.argv = b.vm.argv;
      summary.timings[`${name ?? 'boot'}ToSshMs`] = b.bootMs;
      log(`guest up in ${(b.bootMs / 1000).toFixed(1)} s (ssh on 127.0.0.1:${b.vm.sshPort})`);
      const session = new GuestSession(b.ssh, results);
      session.agent.prestart();
      return session;
    };

    let guest = await boot();
    const capabilities = await step('capabilities', async () => {
      const r = await guest.requestJson('capabilities', 'capabilities', {}, 60_000);
      if (!r.ok) throw new HarnessError('GUEST_LOST', `the guest did not answer the capability probe (${r.error})`, { hint: 'see console.log and commands/ in the results dir' });
      return r.value;
    });
    summary.capabilities = capabilities;
    const absent = Object.entries(capabilities).filter(([, has]) => !has).map(([n]) => n);
    log(`capabilities: ${absent.length ? `lacks ${absent.join(', ')}` : 'all the harness knows'}`);
    const ctx = suiteContext({
      results, topology, kernel, log, checkTimeoutMs: options.checkTimeoutMs, capabilities,
      guest: () => guest,
      vm: () => vm,
      ssh: () => ssh,
      reboot: async (reason) => {
        log(`rebooting the guest: ${reason}`);
        ssh?.close();
        await vm?.stop();
        guest = await boot();
      },
    });
    await step(`suite:${options.suite.name}`, () => options.suite.run(ctx));
    await step('collect', async () => {
      const d = await guest.run('dmesg', ['dmesg']);
      if (d.exitCode !== 0) throw new HarnessError('GUEST_LOST', `the guest did not answer dmesg after the suite (${d.stderr.trim() || `exit ${d.exitCode}`})`, { hint: 'see console.log in the results dir' });
      await results.writeText('dmesg.txt', d.stdout);
    });
    await step('shutdown', async () => {
      const poweroff = () => guest.run('poweroff', ['busybox', 'poweroff', '-f'], { timeoutMs: 5000 });
      await (vm ? vm.powerOff(poweroff) : poweroff());
    });
  } catch (e) {
    let err = isHarnessError(e) ? e : new HarnessError('HARNESS_BUG', `unexpected error: ${e instanceof Error ? e.stack ?? e.message : String(e)}`, { cause: e });
    // A guest that stops answering because QEMU itself was stopped by a signal has not hung:
    // say so, as an infrastructure error, instead of blaming the kernel.
    if (err.code === 'GUEST_HANG' && (vm as Vm | undefined)?.isStopped()) err = qemuStopped(err, vm as Vm);
    const signal = interruptedBy();
    summary.outcome = signal ? 'interrupted' : outcomeForError(err);
    summary.exitCode = signal === 'SIGTERM' ? ExitCode.sigterm : signal ? ExitCode.sigint : err.exitCode;
    summary.error = { code: signal ? 'INTERRUPTED' : err.code, message: signal ? `interrupted by ${signal}` : err.message, ...(err.hint ? { hint: err.hint } : {}) };
    log(`${summary.outcome}: [${summary.error.code}] ${summary.error.message.split('\n')[0]}`);
    // Whatever the guest still has to say is evidence: keep its dmesg when it answers.
    // On a hang, first ask the kernel what it is doing (lands in console.log).
    const live = ssh as GuestSsh | undefined;
    const qemu = vm as Vm | undefined;
    if (live && !live.isClosed && !signal && qemu && !qemu.exited && err.code !== 'QEMU_STOPPED') {
      if (err.code === 'GUEST_HANG') await hangDump(live);
      const d = await live.exec(['dmesg'], { timeoutMs: 10_000 }).catch(() => undefined);
      if (d?.exitCode === 0) await results.writeText('dmesg.txt', d.stdout).catch(() => undefined);
    }
    if (qemu && (err.code === 'GUEST_HANG' || err.code === 'QEMU_STOPPED')) {
      await sleep(500);
      await qemu.console.poll();
      log(`last console lines:\n${qemu.console.lastLines(15)}`);
    }
  } finally {
    (ssh as GuestSsh | undefined)?.close();
    if (vm) await (vm as Vm).stop();
    await stopAll();
  }
  summary.findings = await results.consoleFindings(consoles);
  if (summary.outcome === 'pass' && vm?.exited && !vm.exited.byHarness && !summary.findings.some((f) => f.kind === 'panic')) {
    summary.outcome = 'infrastructure-error';
    summary.error ??= { code: 'QEMU_DIED', message: `QEMU ended on its own (code ${vm.exited.code ?? '?'}, signal ${vm.exited.signal ?? 'none'}) before the run finished`, hint: 'see qemu.stderr.log' };
  }
  summary.finishedAt = new Date().toISOString();
  const settled = settleSummary(summary);
  Object.assign(summary, settled);
  await results.seal();
  await results.writeText('results.tap', toTap(summary));
  await results.writeText('junit.xml', toJUnit(summary));
  await results.writeText('kcidb.json', JSON.stringify(toKcidb(summary), null, 2) + '\n');
  return { results, summary };
}

function throwIfInterrupted(): void {
  const sig = interruptedBy();
  if (sig) throw new HarnessError('INTERRUPTED', `interrupted by ${sig}`, { exitCode: sig === 'SIGTERM' ? ExitCode.sigterm : ExitCode.sigint });
}

/** Why QEMU ended on its own: the kernel's panic line when the console has one, else QEMU's exit. */
async function guestGone(vm: Vm, id: string): Promise<never> {
  await vm.console.poll();
  const panic = vm.console.contents().split('\n').find((l) => CRASH_PATTERN.test(l));
  const exit = vm.exited;
  if (panic) {
    throw new HarnessError('KERNEL_PANIC', `the guest kernel panicked during check ${id}: ${panic.trim()}`, {
      exitCode: ExitCode.kernelCrash,
      hint: 'the panic trace is in console.log and in the summary findings',
    });
  }
  const how = exit?.signal ? `was killed by ${exit.signal}` : `exited with code ${exit?.code ?? '?'}`;
  throw new HarnessError('QEMU_DIED', `QEMU ${how} during check ${id}, without a kernel panic on the console${vm.stderr().trim() ? `:\n${tail(vm.stderr(), 5)}` : ''}`, {
    hint: 'see qemu.stderr.log; if something on the host killed QEMU (OOM killer, a user), run again',
  });
}

function qemuStopped(hang: HarnessError, vm: Vm): HarnessError {
  return new HarnessError('QEMU_STOPPED', `QEMU (pid ${vm.pid}) is stopped by a signal (SIGSTOP, SIGTSTP or a debugger), so the guest could not answer: ${hang.message.split('\n')[0]}`, {
    cause: hang,
    hint: 'something on the host stopped QEMU (a job-control Ctrl-Z, a debugger, a cgroup freezer); this says nothing about the kernel: run again',
    context: hang.context,
  });
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
  capabilities: Capabilities;
  guest: () => GuestSession;
  vm: () => Vm | undefined;
  ssh: () => GuestSsh | undefined;
  reboot: (reason: string) => Promise<void>;
}

function suiteContext(d: ContextDeps): SuiteContext {
  return {
    get guest() { return d.guest(); },
    results: d.results,
    topology: d.topology,
    kernel: d.kernel,
    capabilities: d.capabilities,
    log: d.log,
    async check(id, title, realBody, options = {}) {
      throwIfInterrupted();
      const missing = lacking(d.capabilities, options.needs ?? []);
      const body: typeof realBody = missing ? async (c) => c.skip(missing) : realBody;
      const guest = d.guest();
      const vm = d.vm();
      const started = Date.now();
      let timer: NodeJS.Timeout | undefined;
      const hang = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const stuck = d.ssh()?.inFlight() ?? [];
          const what = stuck.length
            ? `; still running in the guest: ${stuck.map((s) => `\`${s.command.slice(0, 200)}\` (${(s.runningMs / 1000).toFixed(1)} s)`).join(', ')}`
            : '';
          reject(new HarnessError('GUEST_HANG', `check ${id} did not finish within ${Math.round(d.checkTimeoutMs / 1000)} s: the guest or a command in it hangs${what}`, {
            hint: `raise --check-timeout if ${id} is only slow; see console.log for the guest's last words (blocked tasks are dumped there) and commands/ for what ${id} ran before`,
            context: { check: id, stuck, console: vm?.console.lastLines(20) },
          }));
        }, d.checkTimeoutMs);
      });
      // QEMU ending on its own (panic with -no-reboot, killed) ends the check at once.
      let over = false;
      const never = new Promise<never>(() => undefined);
      const gone = vm ? vm.exit.then((exit) => (exit.byHarness || over ? never : guestGone(vm, id))) : never;
      const interrupted = whenInterrupted((sig) => new HarnessError('INTERRUPTED', `interrupted by ${sig} during check ${id}`));
      try {
        const result = await Promise.race([runCheck(guest, d.results, id, title, body, options), hang, gone, interrupted.promise]);
        // A check that ended because the connection dropped may have raced QEMU's exit: wait a moment.
        if (!guest.connected && vm && !vm.exited) await Promise.race([vm.exit, sleep(3000, undefined, { ref: false })]);
        if (vm?.exited && !vm.exited.byHarness) await guestGone(vm, id);
        // QEMU still runs but the connection dropped: a guest that takes no new connection is hung
        // (a frozen kernel ends SSH by keepalive timeout before the check watchdog fires).
        if (!guest.connected && vm && !vm.exited) {
          const probe = await d.ssh()?.exec('true', { timeoutMs: 15_000 });
          if (vm.exited) await guestGone(vm, id);
          if (probe?.exitCode !== 0) {
            throw new HarnessError('GUEST_HANG', `the guest stopped answering during check ${id}: its SSH connection dropped and a new one got no answer (${probe?.stderr.trim() || (probe?.timedOut ? 'timed out' : 'no session')}), while QEMU still runs`, {
              hint: 'see console.log for the guest\'s last words (hung tasks, RCU stalls, soft lockups)',
              context: { check: id },
            });
          }
        }
        throwIfInterrupted();
        d.log(`${result.verdict.toUpperCase().padEnd(5)} ${id}${result.reason ? ` (${result.reason})` : ''}`);
        return result;
      } catch (e) {
        // The check never reported: record it as an error, so the reports show where the run stopped.
        const why = e instanceof Error ? e.message.split('\n')[0]! : String(e);
        await d.results.abandonCheck(checkFromAttempt({ id, title, durationMs: Date.now() - started, evidence: ['console.log'], reason: why })).catch(() => undefined);
        d.log(`ERROR ${id} (${why})`);
        throw e;
      } finally {
        over = true;
        clearTimeout(timer);
        interrupted.dispose();
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

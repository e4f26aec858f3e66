/**
 * One run: kernel -> image -> boot -> suite -> collect -> shutdown -> reports.
 * Whatever happens (check failures, a kernel crash, a hang, QEMU dying, Ctrl-C), the
 * results dir ends with summary.json, results.tap, junit.xml, kcidb.json, the console and dmesg,
 * and no QEMU process is left.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ExitCode, HarnessError, isHarnessError } from '../errors.js';
import type { KernelArtifact } from '../kernel/artifact.js';
import type { KernelSpec } from '../kernel/resolve.js';
import { exitCodeOf, interruptedBy, throwIfInterrupted } from '../interrupt.js';
import { lossError } from '../machine/loss.js';
import { Machine, resultsAt } from '../machine/machine.js';
import { progress } from '../progress.js';
import type { Accel } from '../qemu/argv.js';
import type { Topology } from '../qemu/topology.js';
import type { Outcome, RunSummary } from '../report/model.js';
import { checkFromAttempt } from '../report/verdict.js';
import type { Results } from '../results/results.js';
import { lacking, type Capabilities } from '../suites/capabilities.js';
import { runCheck, type Suite, type SuiteContext } from '../suites/check.js';

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
  const machine = await Machine.open({
    results: resultsAt(options),
    topology: options.topology ?? options.suite.defaultTopology,
    kernel: options.kernel,
    fits: suitedTopology(options.suite),
    accel: options.accel,
    bootTimeoutMs: options.bootTimeoutMs,
    ...(options.extraCmdline ? { extraCmdline: options.extraCmdline } : {}),
    purpose: options.suite.name,
    argv: options.argv ?? [],
    withoutCxl: options.suite.withoutCxlHardware ? 'expected' : 'refuse',
    ...(options.suite.recipe ? { recipe: options.suite.recipe } : {}),
    log: options.log,
  });
  const { results } = machine;
  const { summary } = results;
  const log = options.log;
  try {
    // A suite with nothing to judge on this kernel says so before anything is downloaded (from
    // the spec) or booted (from the kernel): the run is a skip with that reason, exit 4.
    const { suite } = options;
    const nothing = suite.kernelSpecProblem?.(options.kernel) ?? (suite.kernelProblem ? await suite.kernelProblem(await machine.kernel()) : undefined);
    if (nothing) {
      log(`SKIP  ${suite.name}: ${nothing}`);
      await results.addCheck(checkFromAttempt({ id: `${suite.name}.kernel`, title: `the kernel can run the ${suite.name} suite`, durationMs: 0, evidence: [], skip: nothing }));
    } else {
      await bootAndJudge(machine, options);
    }
  } catch (e) {
    let err = isHarnessError(e) ? e : new HarnessError('HARNESS_BUG', `unexpected error: ${e instanceof Error ? e.stack ?? e.message : String(e)}`, { cause: e });
    // A guest that stops answering because QEMU itself was stopped by a signal has not hung:
    // say so, as an infrastructure error, instead of blaming the kernel.
    if (err.code === 'GUEST_HANG') {
      const loss = await machine.loss({ hung: true });
      if (loss.kind !== 'hang') err = lossError(loss, '', { what: err.message.split('\n')[0]!, cause: err, context: err.context });
    }
    const signal = interruptedBy();
    summary.outcome = signal ? 'interrupted' : outcomeForError(err);
    summary.exitCode = signal ? exitCodeOf(signal) : err.exitCode;
    summary.error = { code: signal ? 'INTERRUPTED' : err.code, message: signal ? `interrupted by ${signal}` : err.message, ...(err.hint ? { hint: err.hint } : {}) };
    log(`${summary.outcome}: [${summary.error.code}] ${summary.error.message.split('\n')[0]}`);
    // Whatever the guest still has to say is evidence: keep its dmesg when it answers.
    // On a hang, first ask the kernel what it is doing (lands in console.log).
    if (!signal && err.code !== 'QEMU_STOPPED' && machine.current) {
      if (err.code === 'GUEST_HANG') await machine.dumpHang();
      await machine.saveDmesg().catch(() => undefined);
    }
    const lost = machine.last;
    if (lost && (err.code === 'GUEST_HANG' || err.code === 'QEMU_STOPPED')) {
      await sleep(500);
      await lost.vm.console.poll();
      log(`last console lines:\n${lost.vm.console.lastLines(15)}`);
    }
  } finally {
    await machine.close();
  }
  return finish(machine);
}

/** Provision, boot, probe the capabilities, run the suite, keep dmesg and power off: each a step of the record. */
async function bootAndJudge(machine: Machine, options: RunOptions): Promise<void> {
  const { summary } = machine.results;
  const log = options.log;
  const { kernel } = await machine.provision();
  const { guest } = await machine.boot();
  const capabilities = await machine.step('capabilities', async () => {
    const r = await guest.requestJson('capabilities', 'capabilities', {}, 60_000);
    if (!r.ok) throw new HarnessError('GUEST_LOST', `the guest did not answer the capability probe (${r.error})`, { hint: 'see console.log and commands/ in the results dir' });
    return r.value;
  });
  summary.capabilities = capabilities;
  const absent = Object.entries(capabilities).filter(([, has]) => !has).map(([n]) => n);
  log(`capabilities: ${absent.length ? `lacks ${absent.join(', ')}` : 'all the harness knows'}`);
  const ctx = suiteContext({
    machine, kernel, log, checkTimeoutMs: options.checkTimeoutMs, capabilities, total: options.suite.checks?.length,
  });
  await machine.step(`suite:${options.suite.name}`, () => options.suite.run(ctx));
  await machine.step('collect', async () => {
    const d = await machine.saveDmesg();
    if (!d.ok) throw new HarnessError('GUEST_LOST', `the guest did not answer dmesg after the suite (${d.error})`, { hint: 'see console.log in the results dir' });
  });
  await machine.step('shutdown', () => machine.powerOff());
}

/** The end of a run, however far it got (QEMU closed): QEMU's own end named, the record concluded. */
async function finish(machine: Machine): Promise<RunHandle> {
  const { results } = machine;
  const { summary } = results;
  // The run ended as planned by its record, but QEMU ended on its own under it.
  const lastExit = machine.last?.vm.exited;
  const findings = machine.findings();
  if (summary.outcome === 'pass' && lastExit && !lastExit.byHarness && !findings.some((f) => f.kind === 'panic')) {
    summary.outcome = 'infrastructure-error';
    summary.error ??= { code: 'QEMU_DIED', message: `QEMU ended on its own (code ${lastExit.code ?? '?'}, signal ${lastExit.signal ?? 'none'}) before the run finished`, hint: 'see qemu.stderr.log' };
  }
  await machine.conclude();
  return { results, summary };
}

function outcomeForError(e: HarnessError): Outcome {
  if (e.code === 'KERNEL_PANIC' || e.exitCode === ExitCode.kernelCrash) return 'kernel-crash';
  if (e.code === 'GUEST_HANG') return 'hang';
  if (e.code === 'INTERRUPTED') return 'interrupted';
  return 'infrastructure-error';
}

interface ContextDeps {
  machine: Machine;
  kernel: KernelArtifact;
  log: (line: string) => void;
  checkTimeoutMs: number;
  capabilities: Capabilities;
  /** How many checks the suite runs, when it says. */
  total: number | undefined;
}

function suiteContext(d: ContextDeps): SuiteContext {
  const { machine } = d;
  const { results } = machine;
  const boot = machine.current!;
  const { guest, vm, ssh } = boot;
  let n = 0;
  return {
    guest,
    results,
    topology: machine.topology,
    kernel: d.kernel,
    capabilities: d.capabilities,
    log: d.log,
    async check(id, title, realBody, options = {}) {
      throwIfInterrupted();
      progress.update(`check ${++n}${d.total ? ` of ${d.total}` : ''}: ${id}`);
      const missing = lacking(d.capabilities, options.needs ?? []);
      const body: typeof realBody = missing ? async (c) => c.skip(missing) : realBody;
      const started = Date.now();
      const boundMs = options.timeoutMs ?? d.checkTimeoutMs;
      const hang = (): HarnessError => {
        const stuck = ssh.inFlight();
        const what = stuck.length
          ? `; still running in the guest: ${stuck.map((s) => `\`${s.command.slice(0, 200)}\` (${(s.runningMs / 1000).toFixed(1)} s)`).join(', ')}`
          : '';
        return new HarnessError('GUEST_HANG', `check ${id} did not finish within ${Math.round(boundMs / 1000)} s: the guest or a command in it hangs${what}`, {
          hint: `raise --check-timeout if ${id} is only slow; see console.log for the guest's last words (blocked tasks are dumped there) and commands/ for what ${id} ran before`,
          context: { check: id, stuck, console: vm.console.lastLines(20) },
        });
      };
      try {
        const result = await machine.supervise(() => runCheck(guest, results, id, title, body, options), {
          during: `during check ${id}`, bound: { ms: boundMs, hang },
        });
        d.log(`${result.verdict.toUpperCase().padEnd(5)} ${id}${result.reason ? ` (${result.reason})` : ''}`);
        return result;
      } catch (e) {
        // The check never reported: record it as an error, so the reports show where the run stopped.
        const why = e instanceof Error ? e.message.split('\n')[0]! : String(e);
        await results.abandonCheck(checkFromAttempt({ id, title, durationMs: Date.now() - started, evidence: ['console.log'], reason: why })).catch(() => undefined);
        d.log(`ERROR ${id} (${why})`);
        throw e;
      }
    },
    async observe(observation) {
      results.summary.observations.push(observation);
      d.log(`NOTE  ${observation.id}: ${observation.title}`);
      await results.flush();
    },
    async setGeneration(name, evidence) {
      results.summary.generation = { name, evidence };
      d.log(`kernel generation: ${name}`);
      await results.flush();
    },
  };
}

/**
 * The repro loop: boot the guest (src/machine/machine.ts), run the scenario's iterations in
 * chunks through one guest process each (the guest agent's repro.run verb, src/agent/repro/,
 * whose lines stream back as they happen), and when the kernel crashes or hangs, record the
 * iteration that was running as a failure with its console trace, boot a fresh guest and go
 * on. repro.json and repro.tap are rewritten after every chunk, so nothing gathered is lost if
 * the harness itself dies.
 */
import { iterationId, parseIterationEnd, parseIterationStart, parseStepEnd, parseSyncLine, type SyncRequest } from '../contract/markers.js';
import type { LoopSpec } from '../contract/repro-protocol.js';
import { ExitCode, HarnessError, isHarnessError } from '../errors.js';
import type { GuestSession } from '../remote/session.js';
import type { KernelArtifact } from '../kernel/artifact.js';
import type { KernelSpec } from '../kernel/resolve.js';
import { interruptedBy } from '../interrupt.js';
import { Machine, resultsAt } from '../machine/machine.js';
import { Watchdog } from '../machine/watchdog.js';
import type { Accel } from '../qemu/argv.js';
import type { Results } from '../results/results.js';
import { detectGeneration } from '../suites/spm/generations/index.js';
import type { BootState } from './boot-state.js';
import { runChunk } from './chunk.js';
import { answerSync, faultSupportProblem } from './host-sync.js';
import { settleRepro, stats, toReproTap, type ReproSummary } from './report.js';
import { bindScenarioToTopology, faultSteps, type Scenario } from './scenario.js';

export interface ReproOptions {
  scenario: Scenario;
  /** Topology name or file; default: the scenario's. */
  topology?: string;
  kernel: KernelSpec | { kind: 'artifact'; artifact: KernelArtifact };
  resultsDir?: string;
  resultsBase?: string;
  accel: Accel;
  bootTimeoutMs: number;
  /** Run exactly this many iterations (default 10), unless untilFail. */
  iterations?: number;
  /** Run until the first failing iteration, at most maxIterations. */
  untilFail?: boolean;
  maxIterations?: number;
  seed: number;
  /** Boot a fresh guest after this many iterations (overrides the scenario's rebootEvery). */
  rebootEvery?: number;
  stopOnFail: boolean;
  /** Test aid: crash the guest kernel (sysrq c) after the first step of this iteration. */
  injectCrashAt?: number;
  /** Override the scenario's iteration bound. */
  iterationTimeoutMs?: number;
  /** Iterations per guest process (default 100: each process pays a node start and the setup/teardown steps). */
  chunkSize?: number;
  extraCmdline?: string[];
  log: (line: string) => void;
  /** The command line that started this repro, for reproducer.sh. */
  argv?: string[];
}

export interface ReproHandle {
  results: Results;
  repro: ReproSummary;
}

export async function runRepro(o: ReproOptions): Promise<ReproHandle> {
  let scenario = o.scenario;
  const wallStart = Date.now();
  const machine = await Machine.open({
    results: resultsAt(o),
    topology: o.topology ?? o.scenario.topology,
    kernel: o.kernel,
    fits: (t) => {
      scenario = bindScenarioToTopology(o.scenario, t);
    },
    accel: o.accel,
    bootTimeoutMs: o.bootTimeoutMs,
    ...(o.extraCmdline ? { extraCmdline: o.extraCmdline } : {}),
    purpose: `repro:${o.scenario.name}`,
    argv: o.argv ?? ['repro', o.scenario.file, '--seed', String(o.seed)],
    withoutCxl: 'refuse',
    log: o.log,
  });
  const { results, topology } = machine;
  const log = o.log;
  const rebootEvery = o.rebootEvery ?? o.scenario.rebootEvery;
  const maxIterations = o.untilFail ? (o.maxIterations ?? 1000) : (o.iterations ?? 10);
  let repro: ReproSummary = {
    schema: 1,
    kind: 'repro',
    scenario: { name: o.scenario.name, file: o.scenario.file, description: o.scenario.description },
    seed: o.seed,
    requested: {
      ...(o.untilFail ? { untilFail: true } : { iterations: maxIterations }),
      maxIterations, rebootEvery, stopOnFail: o.stopOnFail,
      ...(o.injectCrashAt !== undefined ? { injectCrashAt: o.injectCrashAt } : {}),
    },
    startedAt: new Date().toISOString(),
    outcome: 'pass',
    exitCode: 0,
    iterationsRun: 0,
    failures: 0,
    crashes: 0,
    boots: 0,
    timings: { stepMs: {} },
    iterations: [],
  };
  const bootTimes: number[] = [];
  const save = async (): Promise<void> => {
    repro = settleRepro({ ...repro, timings: { ...repro.timings, ...(stats(bootTimes) ? { bootMs: stats(bootTimes)! } : {}), wallMs: Date.now() - wallStart } });
    await results.writeText('repro.json', JSON.stringify(repro, null, 2) + '\n');
    await results.writeText('repro.tap', toReproTap(repro));
  };

  try {
    repro.topology = topology.name;
    repro.qemu = results.summary.qemu?.version;
    const { kernel } = await machine.provision();
    repro.kernel = {
      ...(kernel.release ? { release: kernel.release } : {}),
      origin: kernel.identity.origin,
      ...(kernel.identity.gitCommit ? { gitCommit: kernel.identity.gitCommit } : {}),
      ...(kernel.identity.patchsetHash ? { patchsetHash: kernel.identity.patchsetHash } : {}),
    };
    const iterationTimeoutMs = o.iterationTimeoutMs ?? scenario.iterationTimeoutS * 1000;
    let next = 1;
    let stop = false;
    let kernelGeneration: LoopSpec['generation'] | undefined;

    while (next <= maxIterations && !stop && !interruptedBy()) {
      const boot = await machine.boot();
      repro.boots = boot.n;
      bootTimes.push(boot.bootMs);
      if (boot.n === 1 && faultSteps(scenario).length > 0) {
        const why = await faultSupportProblem(boot.vm, scenario);
        if (why) {
          repro.outcome = 'skip';
          repro.skipReason = why;
          log(`SKIP ${scenario.name}: ${why}`);
          break;
        }
      }
      // The kernel generation, decided once on the host from the guest's evidence; the loop gets
      // it as input, with how that version sets a node apart.
      kernelGeneration ??= await detectKernelGeneration(boot.guest);
      const { isolate: _isolate, ...decided } = kernelGeneration;
      repro.generation = decided;
      results.summary.generation = decided;
      if (boot.n === 1) log(`kernel generation: ${decided.name}`);
      const generation = kernelGeneration;
      const b: BootState = Object.assign(boot, {
        ranOnBoot: 0,
        consoleSteps: [],
        watchdog: new Watchdog(iterationTimeoutMs, () => {
          log(`iteration ${b.current ?? next} made no progress for ${Math.round(iterationTimeoutMs / 1000)} s: hang; asking the kernel what it is doing, then stopping the guest`);
          void machine.dumpHang().finally(() => b.vm.stop(2000));
        }),
      });
      watchConsole(b, scenario, log, (sync) => answerSync(b, scenario, sync, log));
      try {
        while (next <= maxIterations && !stop && !interruptedBy()) {
          const room = rebootEvery > 0 ? rebootEvery - b.ranOnBoot : Number.POSITIVE_INFINITY;
          if (room <= 0) break;
          const count = Math.min(maxIterations - next + 1, room, o.chunkSize ?? 100);
          const chunk = await runChunk(machine, b, scenario, {
            start: next, count, seed: o.seed, stopOnFail: o.stopOnFail || Boolean(o.untilFail),
            ...(o.injectCrashAt !== undefined ? { crashAt: o.injectCrashAt } : {}),
            iterationTimeoutMs, generation, log,
          });
          if (chunk.skip) {
            repro.outcome = 'skip';
            repro.skipReason = chunk.skip;
            log(`SKIP ${scenario.name}: ${chunk.skip}`);
            stop = true;
            break;
          }
          repro.iterations.push(...chunk.records);
          b.ranOnBoot += chunk.records.length;
          next = Math.max(next, ...chunk.records.map((r) => r.iteration + 1));
          await save();
          if (chunk.records.some((r) => !r.ok) && (o.stopOnFail || o.untilFail)) stop = true;
          if (chunk.needsReboot) break;
          if (chunk.records.length === 0) throw new HarnessError('REPRO_NO_PROGRESS', 'a loop chunk ran no iteration and did not say why', { context: { start: next } });
        }
      } finally {
        b.watchdog.dispose();
        await machine.endBoot();
      }
    }
    if (interruptedBy()) repro.outcome = 'interrupted';
  } catch (e) {
    const err = isHarnessError(e) ? e : new HarnessError('HARNESS_BUG', `unexpected error: ${e instanceof Error ? e.stack ?? e.message : String(e)}`, { cause: e });
    repro.outcome = interruptedBy() ? 'interrupted' : 'error';
    repro.error = { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) };
    results.summary.error = repro.error;
  } finally {
    await machine.close();
  }
  repro.finishedAt = new Date().toISOString();
  await save();
  await writeRunSummary(machine, repro);
  return { results, repro };
}

/** The loop's lines in the kernel log (src/contract/markers.ts), live on the serial console. */
function watchConsole(b: BootState, scenario: Scenario, log: (l: string) => void, onSync: (sync: SyncRequest) => void): void {
  b.vm.console.onLine((line) => {
    const started = parseIterationStart(line);
    if (started !== undefined) {
      b.current = started;
      b.watchdog.kick();
      return;
    }
    const ended = parseIterationEnd(line);
    if (ended) {
      b.watchdog.kick();
      log(`${ended.ok ? 'ok  ' : 'FAIL'} ${iterationId(scenario.name, ended.iteration)} ${ended.ms} ms`);
      return;
    }
    const step = parseStepEnd(line);
    if (step) {
      b.consoleSteps.push(step);
      return;
    }
    const sync = parseSyncLine(line);
    if (sync) onSync(sync);
  });
}

/** The kernel's version of the series (src/suites/spm/generations/) from the agent's evidence, and how it sets a node apart; contradictions are kept as evidence. */
async function detectKernelGeneration(guest: GuestSession): Promise<LoopSpec['generation']> {
  const r = await guest.requestJson('generation-evidence', 'generation.evidence', {}, 60_000);
  if (!r.ok) throw new HarnessError('REPRO_GENERATION', `the guest agent did not gather the generation evidence: ${r.error}`, { context: { log: r.record.log } });
  const d = detectGeneration(r.value);
  return { name: d.generation, evidence: [...d.evidence, ...d.contradictions.map((x) => `contradiction: ${x}`)], ...(d.module.isolate ? { isolate: d.module.isolate } : {}) };
}


/** summary.json and the report files (TAP, JUnit, KCIDB) in the run format too, one check per iteration, so report/compare/merge work on a repro dir. */
async function writeRunSummary(machine: Machine, repro: ReproSummary): Promise<void> {
  const s = machine.results.summary;
  s.checks = repro.iterations.map((it) => ({
    id: iterationId(repro.scenario.name, it.iteration),
    title: `iteration ${it.iteration} of scenario ${repro.scenario.name}`,
    verdict: it.ok ? 'pass' : 'fail',
    ...(it.failure ? { reason: `${it.failure.kind}: ${it.failure.reason}` } : {}),
    evidence: it.folder ? [it.folder] : ['repro.json'],
    durationMs: it.ms ?? 0,
  }));
  if (repro.outcome === 'error') s.outcome = 'infrastructure-error';
  if (repro.outcome === 'interrupted') s.outcome = 'interrupted';
  if (repro.error) s.error = repro.error;
  if (repro.finishedAt) s.finishedAt = repro.finishedAt;
  // A crash we caused on purpose (--inject-crash-at) is expected; any other stays a finding.
  const injected = repro.requested.injectCrashAt;
  await machine.conclude({
    finding: (f) => (injected !== undefined && f.step === iterationId(repro.scenario.name, injected) ? { ...f, expected: true } : f),
    after: (summary) => { if (repro.outcome === 'skip') summary.exitCode = ExitCode.ok; },
  });
}

/**
 * The repro loop: boot the guest (src/machine/machine.ts), run the scenario's iterations in
 * chunks through one guest process each (the guest agent's repro.run verb, src/agent/repro/,
 * whose lines stream back as they happen), and when the kernel crashes or hangs, record the
 * iteration that was running as a failure with its console trace, boot a fresh guest and go
 * on. repro.json and repro.tap are rewritten after every chunk, so nothing gathered is lost if
 * the harness itself dies.
 */
import { iterationId, parseIterationEnd, parseIterationStart, parseStepEnd, parseSyncLine, type StepEnd, type SyncRequest } from '../agent/markers.js';
import { SYNC_DIR, type LoopLine, type LoopSpec, type SyncAnswer } from '../agent/repro/protocol.js';
import { ExitCode, HarnessError, isHarnessError } from '../errors.js';
import type { GuestSession } from '../guest/session.js';
import type { AgentAnswer } from '../guest/agent.js';
import type { KernelArtifact } from '../kernel/artifact.js';
import type { KernelSpec } from '../kernel/resolve.js';
import { interruptedBy } from '../interrupt.js';
import { Machine, type Boot } from '../machine/machine.js';
import { Watchdog } from '../machine/watchdog.js';
import type { Accel } from '../qemu/argv.js';
import { injectFault, queryFaultSupport, unsupportedFault, type FaultSpec } from '../qemu/faults.js';
import type { Vm } from '../qemu/vm.js';
import { parseStepMarker } from '../report/console-scan.js';
import { findingFailsRun, settleSummary } from '../report/verdict.js';
import { writeReports } from '../results/report-files.js';
import type { Results } from '../results/results.js';
import { detectGeneration } from '../suites/spm/generations/index.js';
import { settleRepro, stats, toReproTap, type IterationRecord, type ReproSummary, type StepLine } from './report.js';
import { allSteps, bindScenarioToTopology, faultSteps, type FaultStep, type Scenario } from './scenario.js';

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

/** One boot of the repro's machine, with what the loop knows of it. */
interface BootState extends Boot {
  /** Iteration whose marker was seen last on this boot's console. */
  current?: number;
  ranOnBoot: number;
  /** The steps the kernel log says finished on this boot (markers.ts stepEndLine), for when the loop's own lines were lost. */
  consoleSteps: StepEnd[];
  /** Fired (no progress within the iteration bound): it stopped this boot as hung. */
  watchdog: Watchdog;
}

export async function runRepro(o: ReproOptions): Promise<ReproHandle> {
  let scenario = o.scenario;
  const wallStart = Date.now();
  const machine = await Machine.open({
    results: { ...(o.resultsDir ? { dir: o.resultsDir } : {}), ...(o.resultsBase ? { base: o.resultsBase } : {}) },
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

/** The loop's lines in the kernel log (src/agent/markers.ts), live on the serial console. */
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

async function faultSupportProblem(vm: Vm, scenario: Scenario): Promise<string | undefined> {
  const support = await queryFaultSupport(await vm.qmp());
  for (const f of faultSteps(scenario)) {
    const why = unsupportedFault(f.fault, support);
    if (why) return why;
  }
  return undefined;
}

/** A guest step asked for a host action (a QMP fault): do it and hand the result back. */
async function answerSync(b: BootState, scenario: Scenario, { token, phase, index, iteration }: SyncRequest, log: (l: string) => void): Promise<void> {
  const where = allSteps(scenario).find((s) => s.phase === phase && s.index === index);
  let answer: SyncAnswer;
  if (!where || where.step.do !== 'fault') {
    answer = { ok: false, code: 'BAD_SYNC', error: `no fault step at ${phase}[${index}]` };
  } else {
    const r = await injectFault(await b.vm.qmp(), faultForIteration(where.step as FaultStep, iteration));
    log(`fault ${(where.step as FaultStep).fault} on ${String((where.step as FaultStep).device)}: ${r.ok ? 'injected' : r.error}`);
    answer = r.ok ? { ...r } : { ...r, code: 'QMP_ERROR' };
  }
  b.watchdog.kick();
  if (!/^[0-9-]+$/.test(token)) return;
  await b.guest.run('repro-sync', ['sh', '-c', `mkdir -p ${SYNC_DIR} && cat > ${SYNC_DIR}/.${token} && mv ${SYNC_DIR}/.${token} ${SYNC_DIR}/${token}`], { input: JSON.stringify(answer), timeoutMs: 30_000 });
}

/** A fault step's spec for one iteration: `stride` moves the offset on each iteration (QEMU refuses overlapping poison). */
export function faultForIteration(step: FaultStep, iteration: number): FaultSpec {
  const { do: _d, expect: _e, stride, ...spec } = step;
  const offset = typeof spec.offset === 'number' ? spec.offset + Math.max(0, iteration - 1) * (stride ?? 0) : undefined;
  return { ...spec, ...(offset !== undefined ? { offset } : {}) } as unknown as FaultSpec;
}

interface ChunkResult {
  facts?: Extract<LoopLine, { type: 'facts' }>;
  skip?: string;
  records: IterationRecord[];
  needsReboot: boolean;
}

async function runChunk(
  machine: Machine,
  b: BootState,
  scenario: Scenario,
  c: { start: number; count: number; seed: number; stopOnFail: boolean; crashAt?: number; iterationTimeoutMs: number; generation: LoopSpec['generation']; log: (l: string) => void },
): Promise<ChunkResult> {
  const last = c.start + c.count - 1;
  const spec: LoopSpec = {
    scenario: { name: scenario.name, requires: scenario.requires, setup: scenario.setup, steps: scenario.steps, cleanup: scenario.cleanup, teardown: scenario.teardown },
    start: c.start,
    iterations: c.count,
    seed: c.seed,
    stopOnFail: c.stopOnFail,
    ...(c.crashAt !== undefined && c.crashAt >= c.start && c.crashAt <= last ? { crashAt: c.crashAt } : {}),
    stepTimeoutMs: Math.min(c.iterationTimeoutMs, 120_000),
    syncTimeoutMs: 60_000,
    generation: c.generation,
  };
  b.watchdog.kick();
  const lines: LoopLine[] = [];
  // A backstop only: the watchdog ends a hang long before this.
  const { answer, record: rec } = await b.guest.request(`repro-${scenario.name}-${c.start}-${last}`, 'repro.run', spec, c.count * c.iterationTimeoutMs + 10 * 60_000, {
    onProgress: (line) => lines.push(line),
  });
  const facts = lines.find((l): l is Extract<LoopLine, { type: 'facts' }> => l.type === 'facts');
  const skip = lines.find((l): l is Extract<LoopLine, { type: 'skip' }> => l.type === 'skip');
  if (skip) return { ...(facts ? { facts } : {}), skip: skip.reason, records: [], needsReboot: false };
  const done = lines.some((l) => l.type === 'done');
  const steps = new Map<number, StepLine[]>();
  for (const l of lines) {
    if (l.type === 'step' && l.phase === 'iteration') (steps.get(l.iteration) ?? steps.set(l.iteration, []).get(l.iteration)!).push(stepOf(l));
    if (l.type === 'cleanup') (steps.get(l.iteration) ?? steps.set(l.iteration, []).get(l.iteration)!).push({ ...stepOf(l), do: `cleanup:${l.do}` });
  }
  const records: IterationRecord[] = [];
  for (const l of lines) {
    if (l.type !== 'iteration') continue;
    records.push({
      iteration: l.iteration, ok: l.ok, ms: l.ms, boot: b.n, steps: steps.get(l.iteration) ?? [],
      ...(l.ok ? {} : { failure: { kind: 'step' as const, reason: l.error ?? 'a step did not turn out as expected', ...(l.failedStep ? { step: l.failedStep } : {}) } }),
    });
  }
  const setupFailed = lines.find((l): l is Extract<LoopLine, { type: 'setup-failed' }> => l.type === 'setup-failed');
  let needsReboot = false;
  if (setupFailed) {
    // The scenario could not even be set up on this boot: that is a failure of the first iteration it was for.
    records.push({ iteration: c.start, ok: false, boot: b.n, steps: setupSteps(lines), failure: { kind: 'step', reason: `setup: ${setupFailed.error}` } });
    needsReboot = true;
  } else if (!done) {
    // The guest process did not finish: kernel crash, hang, QEMU gone, or the script died.
    needsReboot = true;
    const loss = await machine.loss({ hung: b.watchdog.fired || rec.timedOut, settleMs: 5000 });
    const started = b.current !== undefined && b.current >= c.start ? b.current : c.start;
    const inFlight = records.some((r) => r.iteration === started) ? Math.max(...records.map((r) => r.iteration)) + 1 : started;
    const errLine = lines.find((l): l is Extract<LoopLine, { type: 'error' }> => l.type === 'error');
    const kind = loss.kind === 'kernel-crash' || loss.kind === 'hang' ? loss.kind : 'lost';
    const reason = {
      'kernel-crash': () => `kernel crash: ${(loss.evidence ?? '').replace(/^\[[^\]]*\]\s*/, '')}`,
      hang: () => `no progress for ${Math.round(c.iterationTimeoutMs / 1000)} s (hang)`,
      'qemu-died': () => loss.detail,
      'qemu-stopped': () => loss.detail,
      lost: () => `the loop process ended early: ${errLine?.error ?? loopEnd(answer)}`,
    }[loss.kind]();
    if (inFlight <= last) {
      records.push({ iteration: inFlight, ok: false, boot: b.n, steps: withConsoleSteps(steps.get(inFlight) ?? [], b.consoleSteps, inFlight), failure: { kind, reason } });
    }
  }
  await attributeConsoleFindings(b, scenario, records);
  for (const r of records.filter((x) => !x.ok)) await writeIterationFolder(b, machine.results, scenario, r, rec.log, lines);
  return { ...(facts ? { facts } : {}), records, needsReboot };
}

/** How a loop process that did not finish ended, in words: its last stderr lines, its exit, or why the agent gave no result. */
function loopEnd(answer: AgentAnswer<'repro.run'>): string {
  if (!answer.ok) return `${answer.code}: ${answer.error}`;
  const { stderr, exitCode, signal } = answer.result;
  return stderr.trim().split('\n').slice(-2).join(' | ') || `exit ${exitCode ?? signal ?? '?'}`;
}

/**
 * The steps of an iteration the loop did not finish: those whose lines arrived, and after them
 * those only the kernel log kept (the crash won the race with their lines). A step rebuilt from
 * the console has what its kernel log line says (kind, verdict, code, time) and says so.
 */
export function withConsoleSteps(arrived: StepLine[], logged: readonly StepEnd[], iteration: number): StepLine[] {
  const mine = logged.filter((s) => s.iteration === iteration);
  const count = (phase: StepEnd['phase']): number => arrived.filter((s) => s.do.startsWith('cleanup:') === (phase === 'cleanup')).length;
  const missing = mine.filter((s) => s.index >= count(s.phase));
  return [
    ...arrived,
    ...missing.map((s): StepLine => ({
      do: s.phase === 'cleanup' ? `cleanup:${s.do}` : s.do, passed: s.passed, ok: s.code === undefined, ms: s.ms,
      ...(s.code ? { code: s.code } : {}), from: 'console',
    })),
  ];
}

function stepOf(l: Extract<LoopLine, { type: 'step' | 'cleanup' }>): StepLine {
  const { type: _t, phase: _p, iteration: _i, index: _x, ...step } = l;
  return step as StepLine;
}

function setupSteps(lines: LoopLine[]): StepLine[] {
  type StepOrCleanup = Extract<LoopLine, { type: 'step' | 'cleanup' }>;
  return lines.filter((l): l is StepOrCleanup => l.type === 'step' && l.phase === 'setup').map((l) => ({ ...stepOf(l), do: `setup:${l.do}` }));
}

/** A kernel WARN/BUG/oops during an iteration fails it, even when its steps passed. */
async function attributeConsoleFindings(b: BootState, scenario: Scenario, records: IterationRecord[]): Promise<void> {
  const findings = b.vm.console.findings().filter((f) => findingFailsRun(f));
  for (const r of records) {
    const mine = findings.filter((f) => f.step === iterationId(scenario.name, r.iteration));
    if (mine.length === 0 || !r.ok) continue;
    r.ok = false;
    r.failure = { kind: 'console', reason: `console: ${mine[0]!.title}${mine.length > 1 ? ` (+${mine.length - 1} more)` : ''}` };
  }
}

/** iterations/NNN/: the record, the console and dmesg of that iteration, and its commands. */
async function writeIterationFolder(b: BootState, results: Results, scenario: Scenario, r: IterationRecord, chunkLog: string, lines: LoopLine[]): Promise<void> {
  const folder = `iterations/${String(r.iteration).padStart(3, '0')}`;
  r.folder = folder;
  const id = iterationId(scenario.name, r.iteration);
  const consoleText = b.vm.console.contents();
  await results.writeText(`${folder}/console.txt`, sliceByMarker(consoleText, id, r.failure?.kind === 'kernel-crash' || r.failure?.kind === 'hang'));
  if (!b.vm.exited && !b.ssh.isClosed) {
    const d = await b.ssh.exec(['dmesg'], { timeoutMs: 15_000 });
    if (d.exitCode === 0) await results.writeText(`${folder}/dmesg.txt`, sliceByMarker(d.stdout, id, false));
  } else {
    await results.writeText(`${folder}/dmesg.txt`, `# the guest was gone (${r.failure?.kind ?? 'stopped'}): its kernel log up to the end is console.txt\n`);
  }
  const mine = lines.filter((l) => 'iteration' in l && l.iteration === r.iteration);
  await results.writeText(`${folder}/iteration.json`, JSON.stringify({ ...r, chunkLog, lines: mine }, null, 2) + '\n');
  await results.writeText(`${folder}/commands.txt`, describeSteps(r, chunkLog));
}

/** The lines of one iteration: from its marker to the next iteration marker (or to the end). */
export function sliceByMarker(text: string, id: string, toEnd: boolean): string {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => parseStepMarker(l) === id);
  if (start < 0) return `# no marker for ${id} in this log (the iteration may not have started); the whole log follows\n${text}`;
  let end = lines.length;
  if (!toEnd) {
    const rel = lines.slice(start + 1).findIndex((l) => (parseStepMarker(l) ?? '').startsWith('repro.'));
    if (rel >= 0) end = start + 1 + rel;
  }
  return lines.slice(start, end).join('\n') + '\n';
}

function describeSteps(r: IterationRecord, chunkLog: string): string {
  const out = [`# iteration ${r.iteration}: ${r.ok ? 'ok' : `FAILED (${r.failure?.kind}): ${r.failure?.reason}`}`, `# full output of the guest loop process: ${chunkLog}`, ''];
  for (const s of r.steps) {
    out.push(`== ${s.do}${s.expect ? ` (expect ${s.expect})` : ''}: ${s.passed ? 'as expected' : 'NOT as expected'} ok=${s.ok}${s.code ? ` code=${s.code}` : ''} ${s.ms} ms${s.from === 'console' ? ' (from the kernel log: its own line was lost to the crash)' : ''}`);
    if (s.error) out.push(`   error: ${s.error}`);
    for (const sub of (s.sub as Record<string, unknown>[] | undefined) ?? []) {
      if (Array.isArray(sub.run)) out.push(`   $ ${(sub.run as string[]).join(' ')}  -> exit ${String(sub.exitCode)}${sub.stderr ? `\n     stderr: ${String(sub.stderr).trim()}` : ''}`);
      else if (sub.write) out.push(`   echo ${String(sub.value)} > ${String(sub.write)}  -> ${sub.ok ? 'ok' : String(sub.code)}`);
    }
  }
  if (r.steps.length === 0) out.push('(no step finished in this iteration)');
  return out.join('\n') + '\n';
}

/** summary.json and the report files (TAP, JUnit, KCIDB) in the run format too, one check per iteration, so report/compare/merge work on a repro dir. */
async function writeRunSummary(machine: Machine, repro: ReproSummary): Promise<void> {
  const { results } = machine;
  const s = results.summary;
  s.checks = repro.iterations.map((it) => ({
    id: iterationId(repro.scenario.name, it.iteration),
    title: `iteration ${it.iteration} of scenario ${repro.scenario.name}`,
    verdict: it.ok ? 'pass' : 'fail',
    ...(it.failure ? { reason: `${it.failure.kind}: ${it.failure.reason}` } : {}),
    evidence: it.folder ? [it.folder] : ['repro.json'],
    durationMs: it.ms ?? 0,
  }));
  const findings = machine.findings();
  // A crash we caused on purpose (--inject-crash-at) is expected; any other stays a finding.
  s.findings = findings.map((f) => (repro.requested.injectCrashAt !== undefined && f.step === iterationId(repro.scenario.name, repro.requested.injectCrashAt) ? { ...f, expected: true } : f));
  if (repro.outcome === 'error') s.outcome = 'infrastructure-error';
  if (repro.outcome === 'interrupted') s.outcome = 'interrupted';
  if (repro.error) s.error = repro.error;
  s.finishedAt = repro.finishedAt;
  Object.assign(s, settleSummary(s));
  if (repro.outcome === 'skip') s.exitCode = ExitCode.ok;
  await results.flush();
  await writeReports(results.dir, s);
}

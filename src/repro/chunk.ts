/**
 * One chunk of a repro: its iterations run by the guest agent's loop (repro.run), and the
 * loop's lines turned into iteration records: the steps that arrived, the ones only the kernel
 * log kept when a crash beat their lines, what ended a chunk that did not finish (crash, hang,
 * QEMU gone), the console findings of each iteration, and a folder for each failure.
 */
import { iterationId, type StepEnd } from '../contract/markers.js';
import type { LoopLine, LoopSpec } from '../contract/repro-protocol.js';
import type { AgentAnswer } from '../remote/agent.js';
import type { Machine } from '../machine/machine.js';
import { findingFailsRun } from '../report/verdict.js';
import type { BootState } from './boot-state.js';
import { writeIterationFolder } from './iteration-files.js';
import type { IterationRecord, StepLine } from './report.js';
import type { Scenario } from './scenario.js';

export interface ChunkResult {
  facts?: Extract<LoopLine, { type: 'facts' }>;
  skip?: string;
  records: IterationRecord[];
  needsReboot: boolean;
}

export async function runChunk(
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

/**
 * What a repro loop produces, as pure functions: iteration records, timing statistics, the
 * repro summary (repro.json) and its TAP (repro.tap, one test point per iteration).
 */
import { iterationId } from '../contract/markers.js';
import type { StepRecordOf } from '../contract/repro-protocol.js';
import { tapDescription, yamlValue } from '../report/tap.js';
import type { Outcome } from '../report/model.js';
import { exitCodeFor } from '../report/verdict.js';

/** A step of an iteration as repro.json keeps it: a cleanup or setup step has its phase before its kind (cleanup:online-memory). */
export type StepLine = StepRecordOf<string>;

export type FailureKind = 'step' | 'kernel-crash' | 'hang' | 'console' | 'lost';

export interface IterationRecord {
  iteration: number;
  ok: boolean;
  /** Wall time in the guest (absent when the iteration never finished). */
  ms?: number;
  /** Which boot of the guest ran it (1 = first). */
  boot: number;
  failure?: { kind: FailureKind; reason: string; step?: string };
  steps: StepLine[];
  /** Folder with this iteration's logs (failing iterations), relative to the results dir. */
  folder?: string;
}

export interface Stats {
  count: number;
  min: number;
  median: number;
  max: number;
  mean: number;
}

export function stats(values: readonly number[]): Stats | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid]! : Math.round((s[mid - 1]! + s[mid]!) / 2);
  return { count: s.length, min: s[0]!, median, max: s.at(-1)!, mean: Math.round(s.reduce((a, b) => a + b, 0) / s.length) };
}

export type ReproOutcome = 'pass' | 'fail' | 'kernel-crash' | 'skip' | 'error' | 'interrupted';

export interface ReproSummary {
  schema: 1;
  kind: 'repro';
  scenario: { name: string; file: string; description: string };
  topology?: string;
  kernel?: { release?: string; origin?: string; gitCommit?: string; patchsetHash?: string };
  qemu?: string;
  generation?: { name: string; evidence: string[] };
  seed: number;
  requested: { iterations?: number; untilFail?: boolean; maxIterations: number; rebootEvery: number; stopOnFail: boolean; injectCrashAt?: number };
  startedAt: string;
  finishedAt?: string;
  outcome: ReproOutcome;
  exitCode: number;
  skipReason?: string;
  error?: { code: string; message: string; hint?: string };
  iterationsRun: number;
  failures: number;
  crashes: number;
  firstFailure?: number;
  boots: number;
  timings: {
    /** Iteration wall time in the guest, passing and failing iterations that finished. */
    iterationMs?: Stats;
    /** Per step type (do), over every iteration. */
    stepMs: Record<string, Stats>;
    bootMs?: Stats;
    /** Whole loop, boots included. */
    wallMs?: number;
  };
  iterations: IterationRecord[];
}

/** Fold the iteration records into the counters, timings and outcome. Pure. */
export function settleRepro(s: ReproSummary): ReproSummary {
  const its = [...s.iterations].sort((a, b) => a.iteration - b.iteration);
  const failed = its.filter((i) => !i.ok);
  const crashes = failed.filter((i) => i.failure?.kind === 'kernel-crash').length;
  const perStep: Record<string, number[]> = {};
  for (const it of its) for (const st of it.steps) (perStep[st.do] ??= []).push(st.ms);
  const stepMs: Record<string, Stats> = {};
  for (const [k, v] of Object.entries(perStep)) stepMs[k] = stats(v)!;
  const iterationMs = stats(its.filter((i) => i.ms !== undefined).map((i) => i.ms!));
  let outcome: ReproOutcome = s.outcome;
  if (outcome !== 'skip' && outcome !== 'error' && outcome !== 'interrupted') {
    outcome = crashes > 0 ? 'kernel-crash' : failed.length > 0 ? 'fail' : 'pass';
  }
  const firstFailure = failed[0]?.iteration;
  return {
    ...s,
    iterations: its,
    iterationsRun: its.length,
    failures: failed.length,
    crashes,
    ...(firstFailure !== undefined ? { firstFailure } : {}),
    timings: { ...s.timings, ...(iterationMs ? { iterationMs } : {}), stepMs },
    outcome,
    exitCode: reproExitCode(outcome),
  };
}

/**
 * Exit codes of `repro`, the same scheme as `run`: 0 every iteration passed, 1 an iteration
 * failed, 2 infrastructure error, 3 a kernel crash, 4 the scenario does not apply (skip),
 * 130 interrupted.
 */
export function reproExitCode(outcome: ReproOutcome): number {
  // The run's outcomes and exit codes, with a repro's own words for two of them.
  const asRun: Record<ReproOutcome, Outcome> = { pass: 'pass', skip: 'skip', fail: 'fail', 'kernel-crash': 'kernel-crash', error: 'infrastructure-error', interrupted: 'interrupted' };
  return exitCodeFor(asRun[outcome]);
}

/** TAP 14: one test point per iteration, failures with YAML diagnostics naming their folder. */
export function toReproTap(s: ReproSummary): string {
  const lines = ['TAP version 14', `# cxl-harness repro ${tapDescription(s.scenario.name)} seed ${s.seed}`];
  if (s.kernel?.release) lines.push(`# kernel ${tapDescription(s.kernel.release)}`);
  if (s.outcome === 'skip') {
    lines.push(`1..0 # SKIP ${tapDescription(s.skipReason ?? 'scenario does not apply')}`);
    return lines.join('\n') + '\n';
  }
  s.iterations.forEach((it, i) => {
    const desc = `${iterationId(s.scenario.name, it.iteration)} - iteration ${it.iteration}${it.ms !== undefined ? ` (${it.ms} ms)` : ''}`;
    if (it.ok) {
      lines.push(`ok ${i + 1} - ${desc}`);
      return;
    }
    lines.push(`not ok ${i + 1} - ${desc}`, '  ---');
    const diag: Record<string, unknown> = { failure: it.failure?.kind ?? 'unknown', reason: it.failure?.reason ?? '', boot: it.boot };
    if (it.failure?.step) diag.step = it.failure.step;
    if (it.folder) diag.logs = it.folder;
    for (const [k, v] of Object.entries(diag)) lines.push(`  ${k}: ${yamlValue(v)}`);
    lines.push('  ...');
  });
  lines.push(`1..${s.iterations.length}`);
  if (s.error) lines.push(`# error ${tapDescription(s.error.code)}: ${tapDescription(s.error.message.split('\n')[0] ?? '')}`);
  lines.push(`# outcome ${s.outcome} failures ${s.failures}/${s.iterationsRun} exit ${s.exitCode}`);
  return lines.join('\n') + '\n';
}

/** A one-screen human summary for stderr. */
export function describeRepro(s: ReproSummary, dir: string): string {
  const t = s.timings.iterationMs;
  const out = [
    `repro ${s.scenario.name}: ${s.outcome}${s.skipReason ? ` (${s.skipReason})` : ''}`,
    `  iterations ${s.iterationsRun}, failures ${s.failures}${s.crashes ? ` (${s.crashes} kernel crash${s.crashes > 1 ? 'es' : ''})` : ''}${s.firstFailure !== undefined ? `, first failing iteration ${s.firstFailure}` : ''}, boots ${s.boots}, seed ${s.seed}`,
  ];
  if (t) out.push(`  iteration time (guest): min ${t.min} ms, median ${t.median} ms, max ${t.max} ms`);
  for (const it of s.iterations.filter((i) => !i.ok).slice(0, 10)) {
    out.push(`  FAIL ${it.iteration}: ${it.failure?.kind}: ${it.failure?.reason.split('\n')[0] ?? ''}${it.folder ? ` -> ${it.folder}` : ''}`);
  }
  if (s.error) out.push(`  error [${s.error.code}]: ${s.error.message.split('\n')[0]}`);
  out.push(`  results: ${dir}`);
  return out.join('\n');
}

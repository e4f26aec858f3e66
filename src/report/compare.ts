/**
 * Compare two runs (a baseline and a candidate, e.g. a kernel before and after a patchset):
 * which checks newly fail, which got fixed, which changed skip state, which console
 * findings are new, which timings moved beyond a threshold, and whether that is a regression.
 */
import type { ConsoleFinding, Outcome, RunSummary, Verdict } from './model.js';
import { enforceEvidence, findingFailsRun, type OutcomeOptions } from './verdict.js';

export interface CheckChange {
  id: string;
  /** undefined when the check did not exist in that run. */
  old?: Verdict;
  new?: Verdict;
  reason?: string;
}

export interface TimingChange {
  name: string;
  oldMs: number;
  newMs: number;
  /** new/old; Infinity when the old timing was 0. */
  ratio: number;
}

export interface RunComparison {
  /** Checks failing or erroring now that passed, skipped or did not exist before. */
  newFailures: CheckChange[];
  /** Checks passing now that failed or errored before. */
  fixed: CheckChange[];
  /** Checks that became skipped or stopped being skipped. */
  changedSkips: CheckChange[];
  /** Checks of the old run missing from the new one. */
  missing: CheckChange[];
  /** Console findings that fail the run now and have no counterpart in the old run. */
  newFindings: ConsoleFinding[];
  /** Failing findings of the old run that are gone. */
  goneFindings: ConsoleFinding[];
  timingChanges: TimingChange[];
  outcome: { old: Outcome; new: Outcome };
  /** New failures, new failing findings, or an outcome that got worse. Timings never count. */
  isRegression: boolean;
}

export interface CompareOptions extends OutcomeOptions {
  /** Relative change that counts, e.g. 0.25 = 25% slower or faster. */
  timingThreshold: number;
  /** Changes smaller than this many milliseconds are noise, whatever the ratio. Default 0. */
  minTimingDeltaMs?: number;
}

const OUTCOME_RANK: Record<Outcome, number> = {
  pass: 0,
  // Nothing judged is no better than a failure: a pass that becomes a skip is a regression.
  skip: 1,
  fail: 1,
  interrupted: 2,
  'infrastructure-error': 2,
  hang: 3,
  'kernel-crash': 4,
};

const bad = (v: Verdict | undefined): boolean => v === 'fail' || v === 'error';

/**
 * A finding's identity across runs: kind plus title with the run-specific parts
 * (addresses, offsets, CPU and PID numbers, task names in brackets) taken out.
 */
export function findingSignature(f: Pick<ConsoleFinding, 'kind' | 'title'>): string {
  const title = f.title
    .replace(/0x[0-9a-f]+/gi, '0x?')
    .replace(/\b[0-9a-f]{8,}\b/gi, '?')
    .replace(/\[[^\]]*:\d+\]/g, '[?]')
    .replace(/\d+/g, 'N');
  return `${f.kind}:${title}`;
}

function signatures(findings: readonly ConsoleFinding[], options: OutcomeOptions): Map<string, ConsoleFinding[]> {
  const m = new Map<string, ConsoleFinding[]>();
  for (const f of findings) {
    if (!findingFailsRun(f, options)) continue;
    const sig = findingSignature(f);
    m.set(sig, [...(m.get(sig) ?? []), f]);
  }
  return m;
}

/** Findings in `a` beyond the count of the same signature in `b`. */
function surplus(a: Map<string, ConsoleFinding[]>, b: Map<string, ConsoleFinding[]>): ConsoleFinding[] {
  const out: ConsoleFinding[] = [];
  for (const [sig, list] of a) out.push(...list.slice(b.get(sig)?.length ?? 0));
  return out;
}

export function compareRuns(oldRun: RunSummary, newRun: RunSummary, options: CompareOptions): RunComparison {
  const oldChecks = new Map(oldRun.checks.map((c) => [c.id, enforceEvidence(c)]));
  const newChecks = new Map(newRun.checks.map((c) => [c.id, enforceEvidence(c)]));

  const newFailures: CheckChange[] = [];
  const fixed: CheckChange[] = [];
  const changedSkips: CheckChange[] = [];
  const missing: CheckChange[] = [];

  for (const [id, n] of newChecks) {
    const o = oldChecks.get(id);
    const change: CheckChange = { id, new: n.verdict };
    if (o) change.old = o.verdict;
    if (n.reason !== undefined) change.reason = n.reason;
    if (bad(n.verdict) && !bad(o?.verdict)) newFailures.push(change);
    else if (n.verdict === 'pass' && bad(o?.verdict)) fixed.push(change);
    if (o && (o.verdict === 'skip') !== (n.verdict === 'skip')) changedSkips.push(change);
  }
  for (const [id, o] of oldChecks) {
    if (!newChecks.has(id)) missing.push({ id, old: o.verdict });
  }

  const oldSigs = signatures(oldRun.findings, options);
  const newSigs = signatures(newRun.findings, options);
  const newFindings = surplus(newSigs, oldSigs);
  const goneFindings = surplus(oldSigs, newSigs);

  const minDelta = options.minTimingDeltaMs ?? 0;
  const timingChanges: TimingChange[] = [];
  for (const [name, newMs] of Object.entries(newRun.timings)) {
    const oldMs = oldRun.timings[name];
    if (oldMs === undefined) continue;
    const delta = Math.abs(newMs - oldMs);
    const ratio = oldMs === 0 ? (newMs === 0 ? 1 : Infinity) : newMs / oldMs;
    if (delta >= minDelta && delta > 0 && Math.abs(ratio - 1) > options.timingThreshold) {
      timingChanges.push({ name, oldMs, newMs, ratio });
    }
  }

  const outcome = { old: oldRun.outcome, new: newRun.outcome };
  const isRegression =
    newFailures.length > 0 || newFindings.length > 0 || OUTCOME_RANK[newRun.outcome] > OUTCOME_RANK[oldRun.outcome];

  return { newFailures, fixed, changedSkips, missing, newFindings, goneFindings, timingChanges, outcome, isRegression };
}

/** The comparison options a command records next to its result. */
export interface CompareDirsOptions {
  timingThreshold: number;
  minTimingDeltaMs?: number;
}

/** Two results dirs compared: which runs they hold, with what options, and what changed. */
export interface DirComparison {
  old: { dir: string; runId: string; outcome: RunSummary['outcome'] };
  new: { dir: string; runId: string; outcome: RunSummary['outcome'] };
  options: CompareDirsOptions;
  comparison: RunComparison;
}

export function describeComparison(oldDir: string, oldRun: RunSummary, newDir: string, newRun: RunSummary, options: CompareDirsOptions): DirComparison {
  const comparison = compareRuns(oldRun, newRun, {
    timingThreshold: options.timingThreshold,
    ...(options.minTimingDeltaMs !== undefined ? { minTimingDeltaMs: options.minTimingDeltaMs } : {}),
  });
  return {
    old: { dir: oldDir, runId: oldRun.runId, outcome: oldRun.outcome },
    new: { dir: newDir, runId: newRun.runId, outcome: newRun.outcome },
    options,
    comparison,
  };
}

/** JSON for `compare --json` and compare.json (a comparison, or a record holding one): Infinity (old timing 0) becomes null explicitly. */
export function comparisonJson(value: object): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}

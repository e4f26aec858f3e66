/**
 * The verdict rules, in one place: how a check earns its verdict, how checks and console
 * findings make the run's outcome, and which exit code an outcome gives.
 * Every report format and the CLI take their answers from here, never decide on their own.
 */
import { ExitCode } from '../errors.js';
import { exitCodeOf } from '../interrupt.js';
import type { CheckResult, ConsoleFinding, Outcome, RunSummary, Verdict } from './model.js';

/** Outcomes the runner sets when the run could not finish normally; checks never override them. */
const ABNORMAL: ReadonlySet<Outcome> = new Set(['kernel-crash', 'hang', 'infrastructure-error', 'interrupted']);

export function isAbnormalOutcome(outcome: Outcome): boolean {
  return ABNORMAL.has(outcome);
}

/** What a check has established once it ran, before the rules below turn it into a verdict. */
export interface CheckAttempt {
  id: string;
  title: string;
  durationMs: number;
  /** Evidence files relative to the results dir. A pass needs at least one. */
  evidence: string[];
  /** When set, the check is not applicable here (skip), with this reason. Wins over everything else. */
  skip?: string;
  /** Every precondition the check depends on. One unmet precondition makes the check `error`. */
  preconditions?: { name: string; met: boolean; detail?: string }[];
  /** The assertion's answer; undefined when the check never got to assert anything. */
  passed?: boolean;
  /** Why it failed or errored, in one line. */
  reason?: string;
  expected?: unknown;
  observed?: unknown;
}

/**
 * Turn an attempt into a CheckResult with the rules that keep a verdict honest:
 * - a skip needs a reason and is kept as skip;
 * - an unmet precondition is `error`, never `pass` and never `fail` (the code was not tested);
 * - no assertion made is `error`;
 * - a pass without evidence is `error`.
 */
export function checkFromAttempt(attempt: CheckAttempt): CheckResult {
  const base: CheckResult = {
    id: attempt.id,
    title: attempt.title,
    verdict: 'error',
    evidence: [...attempt.evidence],
    durationMs: attempt.durationMs,
  };
  if (attempt.expected !== undefined) base.expected = attempt.expected;
  if (attempt.observed !== undefined) base.observed = attempt.observed;

  if (attempt.skip !== undefined) {
    return { ...base, verdict: 'skip', reason: attempt.skip.trim() || 'skipped without a reason' };
  }
  const unmet = (attempt.preconditions ?? []).filter((p) => !p.met);
  if (unmet.length > 0) {
    const what = unmet.map((p) => (p.detail ? `${p.name} (${p.detail})` : p.name)).join('; ');
    return { ...base, verdict: 'error', reason: `precondition not met: ${what}` };
  }
  if (attempt.passed === undefined) {
    return { ...base, verdict: 'error', reason: attempt.reason ?? 'the check made no assertion' };
  }
  if (!attempt.passed) {
    return { ...base, verdict: 'fail', reason: attempt.reason ?? 'assertion failed' };
  }
  return enforceEvidence({ ...base, verdict: 'pass' });
}

/**
 * A precondition's failure as a finished check: always `error`, whatever the caller hoped.
 * For checks that stop at their first precondition and never get to assert.
 */
export function checkFromPrecondition(
  check: { id: string; title: string; durationMs?: number; evidence?: string[] },
  precondition: { name: string; detail?: string },
): CheckResult {
  return checkFromAttempt({
    id: check.id,
    title: check.title,
    durationMs: check.durationMs ?? 0,
    evidence: check.evidence ?? [],
    preconditions: [{ ...precondition, met: false }],
  });
}

/** A pass with no evidence is not a pass: it becomes `error`. A skip gets a reason. Other checks are returned as they are. */
export function enforceEvidence(check: CheckResult): CheckResult {
  if (check.verdict === 'pass' && check.evidence.length === 0) {
    return { ...check, verdict: 'error', reason: 'no evidence recorded for a pass' };
  }
  if (check.verdict === 'skip' && !check.reason?.trim()) {
    return { ...check, reason: 'skipped without a reason' };
  }
  return check;
}

export interface OutcomeOptions {
  /** OOM kills are informational by default; set to make an unexpected one fail the run. */
  oomFails?: boolean;
}

/** True when this finding fails the run: not declared expected, and not an informational kind. */
export function findingFailsRun(finding: ConsoleFinding, options: OutcomeOptions = {}): boolean {
  if (finding.expected) return false;
  if (finding.kind === 'oom') return options.oomFails === true;
  return true;
}

/**
 * The run's outcome from its checks and console findings.
 * An abnormal outcome set by the runner (crash, hang, infrastructure, interrupted) is kept.
 * An unexpected panic is a kernel crash even when the runner did not notice it;
 * any other unexpected finding, and any check that failed or errored (a pass without
 * evidence counts as an error), fails the run.
 */
export function outcomeOf(
  summary: Pick<RunSummary, 'outcome' | 'checks' | 'findings'>,
  options: OutcomeOptions = {},
): Outcome {
  if (isAbnormalOutcome(summary.outcome)) return summary.outcome;
  const failing = summary.findings.filter((f) => findingFailsRun(f, options));
  if (failing.some((f) => f.kind === 'panic')) return 'kernel-crash';
  if (failing.length > 0) return 'fail';
  const verdicts: Verdict[] = summary.checks.map((c) => enforceEvidence(c).verdict);
  if (verdicts.some((v) => v === 'fail' || v === 'error')) return 'fail';
  // Green needs something judged: a pass of a check that is more than bookkeeping.
  if (!summary.checks.some((c) => !c.informational && enforceEvidence(c).verdict === 'pass')) return 'skip';
  return 'pass';
}

/**
 * The process exit code for an outcome:
 * 0 all checks passed or skipped; 1 a check failed or errored, or an unexpected console finding;
 * 2 harness/infrastructure error or hang; 3 kernel crash; 4 nothing judged (every check that
 * judges the kernel skipped); 130/143 interrupted by SIGINT/SIGTERM.
 */
export function exitCodeFor(outcome: Outcome, signal: 'SIGINT' | 'SIGTERM' = 'SIGINT'): number {
  switch (outcome) {
    case 'pass':
      return ExitCode.ok;
    case 'fail':
      return ExitCode.checkFailed;
    case 'skip':
      return ExitCode.skip;
    case 'kernel-crash':
      return ExitCode.kernelCrash;
    case 'hang':
    case 'infrastructure-error':
      return ExitCode.infrastructure;
    case 'interrupted':
      return exitCodeOf(signal);
  }
}

/** Whether an exit code says the run was interrupted (SIGINT or SIGTERM). */
export function isInterruptedExit(code: number): boolean {
  return code === ExitCode.sigint || code === ExitCode.sigterm;
}

/** Exit codes from best to worst: a skip (nothing judged) is worse than a pass, better than a failure. */
const EXIT_RANK: readonly number[] = [ExitCode.ok, ExitCode.skip, ExitCode.checkFailed, ExitCode.infrastructure, ExitCode.kernelCrash];

/** The worst of several runs' exit codes: interrupted, then kernel crash, infrastructure, check failure, skip, pass. */
export function worstExitCode(codes: readonly number[]): number {
  const interrupted = codes.find(isInterruptedExit);
  if (interrupted !== undefined) return interrupted;
  const rank = (c: number): number => (EXIT_RANK.includes(c) ? EXIT_RANK.indexOf(c) : EXIT_RANK.length);
  return codes.reduce((a, b) => (rank(b) > rank(a) ? b : a), ExitCode.ok);
}

/**
 * The summary with its checks normalized (enforceEvidence), outcome and exit code recomputed.
 * An interrupted run keeps the exit code of the signal it recorded (130 or 143).
 */
export function settleSummary(summary: RunSummary, options: OutcomeOptions = {}): RunSummary {
  const checks = summary.checks.map(enforceEvidence);
  const outcome = outcomeOf({ ...summary, checks }, options);
  const signal = summary.exitCode === ExitCode.sigterm ? 'SIGTERM' : 'SIGINT';
  return { ...summary, checks, outcome, exitCode: exitCodeFor(outcome, signal) };
}

/** Counts of verdicts, for summaries and report headers. */
export function countVerdicts(checks: readonly CheckResult[]): Record<Verdict, number> {
  const counts: Record<Verdict, number> = { pass: 0, fail: 0, skip: 0, error: 0 };
  for (const c of checks) counts[c.verdict] += 1;
  return counts;
}

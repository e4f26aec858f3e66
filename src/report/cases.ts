/**
 * The one view every format renders: checks grouped into suites by the first component of
 * their dotted id, then a `console` suite for kernel console findings, then a `run` suite
 * when the run ended abnormally. TAP, JUnit, KCIDB and the console table all read this, so
 * they never disagree on what passed.
 */
import type { CheckResult, ConsoleFinding, RunSummary } from './model.js';
import { enforceEvidence, findingFailsRun, isAbnormalOutcome, type OutcomeOptions } from './verdict.js';

/** A check, a console finding or the run's outcome, as one case of a report. */
export interface ReportCase extends CheckResult {
  /** The finding behind a console case. */
  finding?: ConsoleFinding;
}

export interface ReportSuite {
  name: string;
  cases: ReportCase[];
}

/** The suite a check id belongs to: its first dotted component. */
export function suiteOf(id: string): string {
  const dot = id.indexOf('.');
  return dot === -1 ? id : id.slice(0, dot);
}

export const CONSOLE_LOG = 'console.log';

function findingCases(findings: readonly ConsoleFinding[], options: OutcomeOptions): ReportCase[] {
  if (findings.length === 0) {
    return [
      {
        id: 'console.clean',
        title: 'the kernel console shows no panic, oops, BUG, WARNING, sanitizer report, lockup or stall',
        verdict: 'pass',
        evidence: [CONSOLE_LOG],
        durationMs: 0,
      },
    ];
  }
  const perKind = new Map<string, number>();
  return findings.map((f) => {
    const n = (perKind.get(f.kind) ?? 0) + 1;
    perKind.set(f.kind, n);
    const log = f.log ?? CONSOLE_LOG;
    const fails = findingFailsRun(f, options);
    const c: ReportCase = {
      id: `console.${f.kind}.${n}`,
      title: f.title,
      verdict: fails ? 'fail' : 'pass',
      reason: fails
        ? `${f.kind} at ${log}:${f.line}${f.step ? ` during step ${f.step}` : ''}`
        : f.expected
          ? 'declared expected by the suite'
          : 'informational',
      evidence: [`${log}:${f.line}`],
      durationMs: 0,
      finding: f,
    };
    return c;
  });
}

/** Whether a run got as far as starting a guest (it has a boot step, however it ended). */
export function booted(summary: Pick<RunSummary, 'steps'>): boolean {
  return summary.steps.some((s) => /^boot\d*$/.test(s.name));
}

export function reportSuites(summary: RunSummary, options: OutcomeOptions = {}): ReportSuite[] {
  const suites: ReportSuite[] = [];
  const byName = new Map<string, ReportSuite>();
  for (const raw of summary.checks) {
    const check = enforceEvidence(raw);
    const name = suiteOf(check.id);
    let suite = byName.get(name);
    if (!suite) {
      suite = { name, cases: [] };
      byName.set(name, suite);
      suites.push(suite);
    }
    const c: ReportCase = {
      id: check.id,
      title: check.title,
      verdict: check.verdict,
      evidence: check.evidence,
      durationMs: check.durationMs,
    };
    if (check.reason !== undefined) c.reason = check.reason;
    if (check.expected !== undefined) c.expected = check.expected;
    if (check.observed !== undefined) c.observed = check.observed;
    suite.cases.push(c);
  }
  // No boot, no console: a run that ended before it booted has nothing to say about one.
  if (booted(summary)) suites.push({ name: 'console', cases: findingCases(summary.findings, options) });
  if (isAbnormalOutcome(summary.outcome)) {
    const reason = summary.error
      ? `${summary.error.code}: ${summary.error.message}`
      : `the run ended with outcome ${summary.outcome}`;
    const c: ReportCase = {
      id: 'run.outcome',
      title: 'the run completed',
      verdict: 'error',
      reason,
      expected: 'pass or fail',
      observed: summary.outcome,
      evidence: summary.steps.filter((s) => s.status === 'failed' && s.log).map((s) => s.log as string),
      durationMs: 0,
    };
    suites.push({ name: 'run', cases: [c] });
  }
  return suites;
}

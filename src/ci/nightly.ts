/**
 * A nightly: one run, compared with a baseline results dir; compare.json and trend.html (the
 * baseline and the new run on one page) land in the new results dir, and when asked the
 * baseline moves to the new run if it is no regression. The decision (nightlyDecision) and the
 * file work after the run (finishNightly) are separate functions, so they are tested on
 * crafted results dirs.
 */
import { realpath } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { HarnessError } from '../errors.js';
import { comparisonJson, describeComparison, type CompareDirsOptions, type DirComparison } from '../report/compare.js';
import type { RunSummary } from '../report/model.js';
import { writeAtomic } from '../results/atomic.js';
import { writeTrendPage } from '../results/report-files.js';
import { newRunId } from '../results/results.js';
import type { RunOptions } from '../run/run.js';
import { advanceBaseline, readBaseline, type BaselineAction } from './baseline.js';
import type { RunExecutor } from './executor.js';

export interface NightlyDecision {
  exitCode: number;
  regression: boolean;
  /** Whether the new run may become the baseline (only acted on with updateBaseline). */
  mayBecomeBaseline: boolean;
  reason: string;
}

/**
 * The nightly verdict from the new run and its comparison with the baseline (undefined: no
 * baseline yet). Pure: exit 1 on regression, else the run's exit code; only a complete run
 * (pass/fail) that is no regression may become the baseline; an interrupted run is neither.
 */
export function nightlyDecision(newRun: RunSummary, runExitCode: number, comparison: DirComparison | undefined): NightlyDecision {
  if (newRun.outcome === 'interrupted') {
    return { exitCode: runExitCode, regression: false, mayBecomeBaseline: false, reason: 'the run was interrupted: no verdict against the baseline' };
  }
  const complete = newRun.outcome === 'pass' || newRun.outcome === 'fail';
  if (!comparison) {
    return { exitCode: runExitCode, regression: false, mayBecomeBaseline: complete, reason: complete ? 'no baseline yet' : `no baseline yet, and the run ended ${newRun.outcome}` };
  }
  const c = comparison.comparison;
  if (c.isRegression) {
    const what = [
      c.newFailures.length ? `${c.newFailures.length} new failure${c.newFailures.length === 1 ? '' : 's'}` : '',
      c.newFindings.length ? `${c.newFindings.length} new console finding${c.newFindings.length === 1 ? '' : 's'}` : '',
      c.outcome.old !== c.outcome.new ? `outcome ${c.outcome.old} -> ${c.outcome.new}` : '',
    ].filter(Boolean);
    return { exitCode: 1, regression: true, mayBecomeBaseline: false, reason: `regression: ${what.join(', ')}` };
  }
  return {
    exitCode: runExitCode,
    regression: false,
    mayBecomeBaseline: complete,
    reason: complete ? 'no regression'
      : newRun.outcome === 'skip' ? 'no regression, but nothing was judged (every check that judges the kernel skipped): a skip is no baseline'
        : `no regression, but the run ended ${newRun.outcome}: its verdicts are incomplete`,
  };
}

export interface NightlyOutcome {
  decision: NightlyDecision;
  comparison?: DirComparison;
  baselineAction?: BaselineAction;
  /** compare.json's path. */
  file: string;
  /** compare.json's content. */
  json: string;
  /** trend.html's path. */
  trend: string;
}

/**
 * Everything after the run: compare with the baseline (when there is one), write
 * NEW/compare.json and NEW/trend.html, advance the baseline when asked and allowed. No VM
 * involved.
 */
export async function finishNightly(args: {
  newDir: string;
  newRun: RunSummary;
  runExitCode: number;
  baselineDir: string;
  baseline: RunSummary | undefined;
  updateBaseline: boolean;
  options: CompareDirsOptions;
}): Promise<NightlyOutcome> {
  const comparison = args.baseline ? describeComparison(args.baselineDir, args.baseline, args.newDir, args.newRun, args.options) : undefined;
  const decision = nightlyDecision(args.newRun, args.runExitCode, comparison);
  // Before the baseline moves: the page links to the baseline run where it is now.
  const trend = join(args.newDir, 'trend.html');
  const baselineRun = args.baseline ? [{ dir: await realpath(args.baselineDir).catch(() => resolve(args.baselineDir)), summary: args.baseline }] : [];
  await writeTrendPage(trend, [...baselineRun, { dir: args.newDir, summary: args.newRun }]);
  let baselineAction: BaselineAction | undefined;
  if (args.updateBaseline && decision.mayBecomeBaseline) baselineAction = await advanceBaseline(args.baselineDir, args.newDir);
  const record = {
    ...(comparison ?? { old: null, new: { dir: args.newDir, runId: args.newRun.runId, outcome: args.newRun.outcome }, options: args.options, comparison: null }),
    nightly: {
      baseline: args.baselineDir,
      runExitCode: args.runExitCode,
      exitCode: decision.exitCode,
      regression: decision.regression,
      reason: decision.reason,
      updateBaseline: args.updateBaseline,
      baselineUpdated: baselineAction ?? null,
    },
  };
  const json = comparisonJson(record);
  const file = join(args.newDir, 'compare.json');
  await writeAtomic(file, json);
  return { decision, ...(comparison ? { comparison } : {}), ...(baselineAction ? { baselineAction } : {}), file, json, trend };
}

export interface NightlyRequest {
  /** The baseline results dir, or a symlink to one (absent: allowed only with updateBaseline). */
  baseline: string;
  updateBaseline: boolean;
  compare: CompareDirsOptions;
  /** The run; its results go to `resultsDir`, or to a fresh dir under `resultsBase` (default results). */
  run: RunOptions;
  execute: RunExecutor;
  log: (line: string) => void;
}

/** Read the baseline (a wrong path fails before the run), run, then finishNightly. */
export async function runNightly(r: NightlyRequest): Promise<NightlyOutcome & { newDir: string }> {
  const baseline = await readBaseline(r.baseline, r.updateBaseline);
  const { resultsDir, resultsBase, ...run } = r.run;
  const newDir = resolve(resultsDir ?? join(resultsBase ?? 'results', newRunId()));
  const baselineReal = await realpath(r.baseline).catch(() => resolve(r.baseline));
  if (baselineReal === newDir) throw new HarnessError('USAGE', `the new results dir ${newDir} is the baseline itself`, { hint: 'give the run another --results dir' });
  r.log(`nightly: baseline ${r.baseline}${baseline ? ` (run ${baseline.runId}, ${baseline.outcome})` : ' (none yet: this run will seed it)'}`);
  const newRun = await r.execute({ ...run, resultsDir: newDir });
  const done = await finishNightly({ newDir, newRun, runExitCode: newRun.exitCode, baselineDir: r.baseline, baseline, updateBaseline: r.updateBaseline, options: r.compare });
  return { ...done, newDir };
}

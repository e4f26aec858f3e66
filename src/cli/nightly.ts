/**
 * `cxl-harness nightly --baseline DIR [run options]`: one run, compared with a baseline results
 * dir; compare.json lands in the new results dir, and with --update-baseline the baseline moves
 * to the new run when it is no regression. The decision and the file work are separate
 * functions (nightlyDecision, finishNightly) so they are tested on crafted results dirs.
 */
import { randomBytes } from 'node:crypto';
import { cp, lstat, readlink, realpath, rename, rm, stat, symlink } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { HarnessError } from '../errors.js';
import type { RunSummary } from '../report/model.js';
import { shouldColor } from '../report/render.js';
import { comparisonJson, describeComparison, parseMs, parseThreshold, renderComparison, type CompareDirsOptions, type DirComparison } from './compare.js';
import { readBootedSummary, readSummary, writeAtomic } from '../results/report-files.js';
import { processIo, type Io } from './io.js';

export const NIGHTLY_HELP = `cxl-harness nightly --baseline DIR [--update-baseline] [--timing-threshold R]
                    [--min-timing-delta MS] [--json] [run options...]

Run the harness exactly like \`cxl-harness run [run options...]\` (same options, same results dir,
same reproducer.sh), then compare the new results dir with the baseline results dir DIR like
\`cxl-harness compare DIR NEW\`. The comparison is printed (as JSON with --json) and written to
NEW/compare.json. By default nothing is printed from the run itself but its summary table on
stderr; pass --format tap|json|junit to also get the run's report on stdout.

  --baseline DIR         results dir of the reference run (or a symlink to one); read before
                         the run starts, so a wrong path fails at once (exit 2)
  --update-baseline      when the new run is no regression and its verdicts are complete
                         (outcome pass or fail, not a skip with nothing judged, a crash, hang,
                         infrastructure error or interruption), make it the baseline:
                           - DIR is a symlink (or does not exist yet): DIR is (re)pointed at
                             the new results dir, atomically (relative link);
                           - DIR is a real directory: it is replaced by a copy of the new
                             results dir (copied next to it, then swapped by rename).
                         A missing DIR is accepted only with this flag: the first nightly seeds
                         the baseline and compares with nothing.
  --timing-threshold R   timing changes beyond this ratio are listed (default 0.5 = 50%)
  --min-timing-delta MS  and only when they moved by at least MS milliseconds (default 0)
  --json                 print compare.json's content instead of the text comparison

Exit codes: 1 regression (new failure, new failing console finding, or worse outcome);
otherwise the run's own exit code (0 pass, 1 a check failed that already failed in the
baseline, 2 infrastructure error or hang, 3 kernel crash, 4 nothing judged, 130/143 interrupted);
2 also for a bad --baseline or bad options.`;

/** Runs `cxl-harness run RUN_ARGV` with its results in exactly `resultsDir`; resolves to the run's exit code. */
export type RunExecutor = (runArgv: string[], resultsDir: string, log: (line: string) => void) => Promise<number>;

/**
 * The real executor: `cxl-harness run` in-process (src/cli/run.ts builds the RunOptions and
 * calls runHarness), loaded lazily so the report commands do not load QEMU/ssh code.
 * Unless the caller chose a --format, the run prints nothing on stdout (--format none).
 */
export const runInProcess: RunExecutor = async (runArgv, resultsDir, log) => {
  const { runCommand } = await import('./run.js');
  const argv = [...runArgv, '--results', resultsDir];
  if (!runArgv.some((a) => a === '--format' || a.startsWith('--format='))) argv.push('--format', 'none');
  return runCommand(argv, log);
};

/** A results dir name like the run's own: `<base>/<UTC timestamp>-<random>`. */
export function freshResultsDir(base: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  return resolve(base, `${stamp}-${randomBytes(3).toString('hex')}`);
}

export interface NightlyDecision {
  exitCode: number;
  regression: boolean;
  /** Whether the new run may become the baseline (only acted on with --update-baseline). */
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

export type BaselineAction = 'repointed' | 'created' | 'copied';

/**
 * Make `baseline` the new run: a symlink (or nothing) becomes a relative symlink to `newDir`,
 * atomically; a real directory is replaced by a copy of `newDir`.
 */
export async function advanceBaseline(baseline: string, newDir: string): Promise<BaselineAction> {
  const st = await lstat(baseline).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  const tmp = join(dirname(baseline), `.${basename(baseline)}.tmp-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  if (!st || st.isSymbolicLink()) {
    await symlink(relative(dirname(resolve(baseline)), resolve(newDir)) || '.', tmp);
    await rename(tmp, baseline);
    return st ? 'repointed' : 'created';
  }
  if (!st.isDirectory()) throw new HarnessError('BASELINE_INVALID', `${baseline} is neither a results dir nor a symlink to one`, { hint: 'point --baseline at a results dir' });
  await cp(newDir, tmp, { recursive: true, verbatimSymlinks: true });
  const old = join(dirname(baseline), `.${basename(baseline)}.old-${process.pid}`);
  await rename(baseline, old);
  await rename(tmp, baseline);
  await rm(old, { recursive: true, force: true });
  return 'copied';
}

/** What the baseline path holds before the run: a summary, or nothing (only with --update-baseline). */
export async function readBaseline(baseline: string, updateBaseline: boolean): Promise<RunSummary | undefined> {
  const exists = await stat(baseline).then(() => true, () => false); // follows symlinks: a dangling link is "missing"
  const isLink = await lstat(baseline).then((s) => s.isSymbolicLink(), () => false);
  if (!exists && updateBaseline) return undefined;
  if (!exists && isLink) {
    throw new HarnessError('RESULTS_MISSING', `baseline ${baseline} is a symlink to ${await readlink(baseline)}, which does not exist`, {
      hint: 'pass --update-baseline to let this run become the baseline',
    });
  }
  try {
    return await readBootedSummary(baseline, 'baseline ');
  } catch (e) {
    if (e instanceof HarnessError && !exists) {
      throw new HarnessError(e.code, `baseline ${e.message}`, { hint: 'pass an existing results dir, or --update-baseline to let this run become the first baseline', cause: e });
    }
    throw e;
  }
}

export interface NightlyOutcome {
  decision: NightlyDecision;
  comparison?: DirComparison;
  baselineAction?: BaselineAction;
  /** compare.json's path. */
  file: string;
  /** compare.json's content. */
  json: string;
}

/**
 * Everything after the run: compare with the baseline (when there is one), write
 * NEW/compare.json, advance the baseline when asked and allowed. No VM involved.
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
  const json = comparisonJson(record as unknown as DirComparison);
  const file = join(args.newDir, 'compare.json');
  await writeAtomic(file, json);
  return { decision, ...(comparison ? { comparison } : {}), ...(baselineAction ? { baselineAction } : {}), file, json };
}

interface NightlyArgs {
  baseline?: string;
  updateBaseline: boolean;
  timingThreshold?: string;
  minTimingDelta?: string;
  json: boolean;
  results?: string;
  resultsBase?: string;
  runArgv: string[];
}

/** Take nightly's own options out of argv; everything else is for `run` (which validates it). */
export function splitNightlyArgs(argv: string[]): NightlyArgs {
  const out: NightlyArgs = { updateBaseline: false, json: false, runArgv: [] };
  const valued: Record<string, (v: string) => void> = {
    '--baseline': (v) => void (out.baseline = v),
    '--timing-threshold': (v) => void (out.timingThreshold = v),
    '--min-timing-delta': (v) => void (out.minTimingDelta = v),
    '--results': (v) => void (out.results = v),
    '--results-base': (v) => void (out.resultsBase = v),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const name = eq > 0 ? a.slice(0, eq) : a;
    const set = valued[name];
    if (set) {
      const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new HarnessError('USAGE', `${name} needs a value\n\n${NIGHTLY_HELP}`);
      set(v);
    } else if (a === '--update-baseline') out.updateBaseline = true;
    else if (a === '--json') out.json = true;
    else out.runArgv.push(a);
  }
  return out;
}

export async function nightlyCommand(
  argv: string[],
  deps: { io?: Io; log?: (line: string) => void; execute?: RunExecutor } = {},
): Promise<number> {
  const io = deps.io ?? processIo;
  const log = deps.log ?? ((line: string) => io.err(`${line}\n`));
  const execute = deps.execute ?? runInProcess;
  const a = splitNightlyArgs(argv);
  if (!a.baseline) throw new HarnessError('USAGE', `nightly needs --baseline DIR\n\n${NIGHTLY_HELP}`);
  if (a.results && a.resultsBase) throw new HarnessError('USAGE', 'choose one of --results and --results-base');
  const minTimingDeltaMs = parseMs(a.minTimingDelta, '--min-timing-delta');
  const options: CompareDirsOptions = { timingThreshold: parseThreshold(a.timingThreshold), ...(minTimingDeltaMs !== undefined ? { minTimingDeltaMs } : {}) };

  const baseline = await readBaseline(a.baseline, a.updateBaseline);
  const newDir = a.results ? resolve(a.results) : freshResultsDir(a.resultsBase ?? 'results');
  const baselineReal = await realpath(a.baseline).catch(() => resolve(a.baseline!));
  if (baselineReal === newDir) throw new HarnessError('USAGE', `the new results dir ${newDir} is the baseline itself`, { hint: 'give the run another --results dir' });
  log(`nightly: baseline ${a.baseline}${baseline ? ` (run ${baseline.runId}, ${baseline.outcome})` : ' (none yet: this run will seed it)'}`);

  const runExitCode = await execute(a.runArgv, newDir, log);
  const newRun = await readSummary(newDir);
  const done = await finishNightly({ newDir, newRun, runExitCode, baselineDir: a.baseline, baseline, updateBaseline: a.updateBaseline, options });

  if (a.json) io.out(done.json);
  else if (done.comparison) io.out(renderComparison(done.comparison, { color: shouldColor(io.env, io.isTTY) }));
  else io.out(`no baseline to compare with: ${a.baseline}\n`);
  log(`nightly: ${done.decision.reason}; ${done.file} written`);
  if (done.baselineAction) log(`nightly: baseline ${a.baseline} ${done.baselineAction} -> ${newDir}`);
  else if (a.updateBaseline) log(`nightly: baseline ${a.baseline} left as it was`);
  return done.decision.exitCode;
}

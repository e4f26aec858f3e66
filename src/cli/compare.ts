/** `cxl-harness compare OLD NEW`: what changed between two runs, and whether that is a regression. */
import { HarnessError } from '../errors.js';
import { comparisonJson, describeComparison, type CompareDirsOptions } from '../report/compare.js';
import { renderComparison, shouldColor } from '../report/render.js';
import { readSummary } from '../results/report-files.js';
import { parse, usageError } from './args.js';
import { processIo, type Io } from './io.js';

export const DEFAULT_TIMING_THRESHOLD = 0.5;

export const COMPARE_HELP = `cxl-harness compare OLD_DIR NEW_DIR [--timing-threshold R] [--min-timing-delta MS] [--json]

Compare two results dirs (e.g. a kernel before and after a patchset, or last night and tonight):
  - new failures: checks failing or erroring in NEW that passed, skipped or did not exist in OLD
  - fixed: checks passing in NEW that failed or errored in OLD
  - changed skips: checks that became skipped or stopped being skipped
  - missing: checks of OLD that NEW did not run
  - new console findings: failing findings (WARNING, BUG, KASAN...) without a counterpart in OLD
    (matched by kind and title with addresses, CPU/PID numbers taken out)
  - timing changes: steps whose duration moved by more than R (ratio, default ${DEFAULT_TIMING_THRESHOLD} = 50%)
    and by at least MS milliseconds (default 0)
  - the run outcomes (pass < fail < interrupted/infrastructure-error < hang < kernel-crash)

  --json                 print the comparison as JSON ({old, new, options, comparison}); a timing
                         ratio with an old timing of 0 is written as null (infinite)

A regression is a new failure, a new failing console finding, or a worse outcome; timings,
skips and missing checks are reported but never make a regression.
Exit codes: 0 no regression, 1 regression, 2 a dir without summary.json or bad options.`;

/** Parse a --timing-threshold value: a ratio >= 0 (0.5 = 50%); "50%" is accepted too. */
export function parseThreshold(value: string | undefined, name = '--timing-threshold'): number {
  if (value === undefined) return DEFAULT_TIMING_THRESHOLD;
  const pct = value.trim().endsWith('%');
  const n = Number(pct ? value.trim().slice(0, -1) : value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new HarnessError('USAGE', `${name} takes a ratio >= 0 such as 0.5 or 50% (got "${value}")`);
  return pct ? n / 100 : n;
}

export function parseMs(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new HarnessError('USAGE', `${name} takes a number of milliseconds >= 0 (got "${value}")`);
  return n;
}

/** The comparison options of compare and nightly, from their --timing-threshold and --min-timing-delta. */
export function compareOptionsFrom(values: { 'timing-threshold'?: string | undefined; 'min-timing-delta'?: string | undefined }): CompareDirsOptions {
  const minTimingDeltaMs = parseMs(values['min-timing-delta'], '--min-timing-delta');
  return { timingThreshold: parseThreshold(values['timing-threshold']), ...(minTimingDeltaMs !== undefined ? { minTimingDeltaMs } : {}) };
}

/** compare's and nightly's own options. */
export const compareOptions = {
  'timing-threshold': { type: 'string' },
  'min-timing-delta': { type: 'string' },
  json: { type: 'boolean' },
} as const;

export async function compareCommand(argv: string[], io: Io = processIo): Promise<number> {
  const { values, positionals } = parse(argv, compareOptions, COMPARE_HELP, { positionals: true });
  if (positionals.length !== 2) throw usageError(COMPARE_HELP, `takes two results dirs, OLD and NEW (got ${positionals.length})`);
  const options = compareOptionsFrom(values);
  const [oldDir, newDir] = positionals as [string, string];
  const oldRun = await readSummary(oldDir); // OLD first, so its error comes first
  const newRun = await readSummary(newDir);
  const c = describeComparison(oldDir, oldRun, newDir, newRun, options);
  io.out(values.json ? comparisonJson(c) : renderComparison(c, { color: shouldColor(io.env, io.isTTY) }));
  return c.comparison.isRegression ? 1 : 0;
}

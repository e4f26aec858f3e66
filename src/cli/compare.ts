/** `cxl-harness compare OLD NEW`: what changed between two runs, and whether that is a regression. */
import { HarnessError } from '../errors.js';
import { compareRuns, type RunComparison, type TimingChange } from '../report/compare.js';
import type { RunSummary } from '../report/model.js';
import { shouldColor } from '../report/render.js';
import { parse } from './args.js';
import { readSummary } from '../results/report-files.js';
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

export interface CompareDirsOptions {
  timingThreshold: number;
  minTimingDeltaMs?: number;
}

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

/** Read both summaries (OLD first, so its error comes first) and compare them. */
export async function compareDirs(oldDir: string, newDir: string, options: CompareDirsOptions): Promise<DirComparison> {
  const oldRun = await readSummary(oldDir);
  const newRun = await readSummary(newDir);
  return describeComparison(oldDir, oldRun, newDir, newRun, options);
}

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

/** JSON for --json and compare.json: Infinity (old timing 0) becomes null explicitly. */
export function comparisonJson(c: DirComparison): string {
  return JSON.stringify(c, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}

function ms(n: number): string {
  return n >= 10_000 ? `${(n / 1000).toFixed(0)} s` : n >= 1000 ? `${(n / 1000).toFixed(1)} s` : `${n} ms`;
}

function timing(t: TimingChange): string {
  const pct = Number.isFinite(t.ratio) ? `${t.ratio >= 1 ? '+' : ''}${Math.round((t.ratio - 1) * 100)}%` : 'from 0';
  return `${t.name}: ${ms(t.oldMs)} -> ${ms(t.newMs)} (${pct})`;
}

/** The comparison for people: one section per kind of change, empty sections left out. */
export function renderComparison(c: DirComparison, options: { color?: boolean } = {}): string {
  const paint = (code: number, s: string): string => (options.color ? `\u001b[${code}m${s}\u001b[0m` : s);
  const r = c.comparison;
  const out: string[] = [];
  out.push(`old  ${c.old.dir}  (run ${c.old.runId}, ${c.old.outcome})`);
  out.push(`new  ${c.new.dir}  (run ${c.new.runId}, ${c.new.outcome})`);
  out.push('');
  const section = (title: string, lines: string[], code?: number): void => {
    if (lines.length === 0) return;
    out.push(code ? paint(code, `${title} (${lines.length})`) : `${title} (${lines.length})`);
    for (const l of lines) out.push(`  ${l}`);
    out.push('');
  };
  const verdict = (v: string | undefined): string => v ?? 'absent';
  section('new failures', r.newFailures.map((x) => `${x.id}: ${verdict(x.old)} -> ${verdict(x.new)}${x.reason ? `  (${x.reason.replace(/\s+/g, ' ')})` : ''}`), 31);
  section('new console findings', r.newFindings.map((f) => `${f.kind}: ${f.title}  (${f.log ?? 'console.log'}:${f.line}${f.step ? `, step ${f.step}` : ''})`), 31);
  section('fixed', r.fixed.map((x) => `${x.id}: ${verdict(x.old)} -> ${verdict(x.new)}`), 32);
  section('gone console findings', r.goneFindings.map((f) => `${f.kind}: ${f.title}`), 32);
  section('changed skips', r.changedSkips.map((x) => `${x.id}: ${verdict(x.old)} -> ${verdict(x.new)}${x.new === 'skip' && x.reason ? `  (${x.reason.replace(/\s+/g, ' ')})` : ''}`), 33);
  section('missing in new', r.missing.map((x) => `${x.id} (was ${verdict(x.old)})`), 33);
  section(`timing changes beyond ${Math.round(c.options.timingThreshold * 100)}%`, r.timingChanges.map(timing));
  const worse = r.outcome.old !== r.outcome.new ? `outcome ${r.outcome.old} -> ${r.outcome.new}` : `outcome ${r.outcome.new}`;
  out.push(r.isRegression ? paint(31, `REGRESSION: ${worse}`) : `no regression: ${worse}`);
  return out.join('\n') + '\n';
}

export async function compareCommand(argv: string[], io: Io = processIo): Promise<number> {
  const { values, positionals } = parse(argv, {
    'timing-threshold': { type: 'string' },
    'min-timing-delta': { type: 'string' },
    json: { type: 'boolean' },
  }, COMPARE_HELP, { positionals: true });
  if (positionals.length !== 2) throw new HarnessError('USAGE', `compare takes two results dirs, OLD and NEW (got ${positionals.length})\n\n${COMPARE_HELP}`);
  const minTimingDeltaMs = parseMs(values['min-timing-delta'], '--min-timing-delta');
  const options: CompareDirsOptions = {
    timingThreshold: parseThreshold(values['timing-threshold']),
    ...(minTimingDeltaMs !== undefined ? { minTimingDeltaMs } : {}),
  };
  const c = await compareDirs(positionals[0]!, positionals[1]!, options);
  io.out(values.json ? comparisonJson(c) : renderComparison(c, { color: shouldColor(io.env, io.isTTY) }));
  return c.comparison.isRegression ? 1 : 0;
}

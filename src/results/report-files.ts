/**
 * A results dir read back and rewritten after its run: summary.json parsed and checked, the
 * report files (TAP, JUnit, KCIDB, report.html) written atomically, and the HTML page over
 * several dirs. Used by the end of every run and repro, report, compare, merge, nightly and
 * matrix.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { HarnessError } from '../errors.js';
import { writeAtomic } from './atomic.js';
import { booted } from '../report/cases.js';
import type { ReproView } from '../report/html/repro-section.js';
import { toJUnit } from '../report/junit.js';
import { toKcidb, type KcidbData, type KcidbOptions } from '../report/kcidb.js';
import type { RunSummary } from '../report/model.js';
import { toTap } from '../report/tap.js';

/*
 * The HTML pages draw their charts with ECharts, which takes about a third of a second to
 * load: they are imported when a page is written, so the commands that write none (help,
 * doctor, compare, ssh...) never pay for it.
 */
const runPageModule = () => import('../report/html/run-page.js');
const trendPageModule = () => import('../report/html/trend-page.js');

/**
 * A results dir whose run got as far as a boot: one that ended before it (a download that
 * failed, a build error) has no verdicts to merge or to compare against.
 */
export async function readBootedSummary(dir: string, role = ''): Promise<RunSummary> {
  const summary = await readSummary(dir);
  if (!booted(summary)) {
    const why = summary.error ? `${summary.error.code}: ${summary.error.message.split('\n')[0]}` : `outcome ${summary.outcome}`;
    throw new HarnessError('RESULTS_NOT_RUN', `${role}${dir} holds a run that never booted (${why}): it has no verdicts`, {
      hint: 'run that job again (its reproducer.sh repeats it), or leave its dir out',
      context: { dir },
    });
  }
  return summary;
}

/** Read and sanity-check `<dir>/summary.json`; a clear HarnessError (exit 2) naming the path otherwise. */
export async function readSummary(dir: string): Promise<RunSummary> {
  const file = join(dir, 'summary.json');
  const isDir = await stat(dir).then((s) => s.isDirectory(), () => false);
  if (!isDir) {
    throw new HarnessError('RESULTS_MISSING', `${dir} is not a results dir: the directory does not exist`, { hint: 'pass a results dir made by cxl-harness run' });
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new HarnessError('RESULTS_MISSING', `${dir} is not a results dir: ${file} cannot be read (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, {
      hint: 'pass a results dir made by cxl-harness run (it holds summary.json)',
      cause,
    });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    throw new HarnessError('RESULTS_CORRUPT', `${file} is not valid JSON`, { hint: 'summary.json is written atomically; a corrupt one was edited by hand', cause });
  }
  const s = data as Partial<RunSummary> | null;
  if (!s || typeof s !== 'object' || s.schema !== 1 || typeof s.runId !== 'string' || !Array.isArray(s.checks) || typeof s.outcome !== 'string') {
    throw new HarnessError('RESULTS_CORRUPT', `${file} is not a cxl-harness run summary (schema 1 with runId, outcome and checks)`, {
      hint: 'pass a results dir made by cxl-harness run',
    });
  }
  // Older or hand-made summaries may lack the list fields; the report layer expects them.
  const run = s as RunSummary;
  return { ...run, steps: run.steps ?? [], observations: run.observations ?? [], findings: run.findings ?? [], timings: run.timings ?? {} };
}

/**
 * A repro dir's repro.json as report.html reads it; undefined when `dir` is no repro dir. A
 * file that is there but is no repro summary is an error naming it, as for summary.json.
 */
export async function readReproView(dir: string): Promise<ReproView | undefined> {
  const file = join(dir, 'repro.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new HarnessError('RESULTS_CORRUPT', `${file} cannot be read (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, { cause });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    throw new HarnessError('RESULTS_CORRUPT', `${file} is not valid JSON`, { hint: 'repro.json is written atomically; a corrupt one was edited by hand', cause });
  }
  const r = data as Partial<ReproView> & { kind?: unknown } | null;
  if (!r || typeof r !== 'object' || r.kind !== 'repro' || typeof r.scenario?.name !== 'string' || !Array.isArray(r.iterations) || typeof r.timings !== 'object') {
    throw new HarnessError('RESULTS_CORRUPT', `${file} is not a cxl-harness repro summary (kind repro with scenario, timings and iterations)`, {
      hint: 'remove it, or pass a results dir made by cxl-harness repro',
    });
  }
  return r as ReproView;
}

/** KCIDB JSON exactly as the run and `report --write` store it in kcidb.json. */
export function kcidbJson(summary: RunSummary, options: KcidbOptions = {}): string {
  try {
    return JSON.stringify(toKcidb(summary, options), null, 2) + '\n';
  } catch (e) {
    // toKcidb refuses a bad origin with a TypeError: that is the user's input.
    throw new HarnessError('USAGE', (e as Error).message, { hint: 'a KCIDB origin is lowercase letters, digits and _' });
  }
}

/** Write summary.json (when asked) and the report files for `summary` into `dir`; returns the paths written. */
export async function writeReports(
  dir: string,
  summary: RunSummary,
  options: { kcidb?: KcidbOptions; summary?: boolean; transformKcidb?: (data: KcidbData) => KcidbData } = {},
): Promise<string[]> {
  const files: [string, string][] = [];
  if (options.summary) files.push(['summary.json', JSON.stringify(summary, null, 2) + '\n']);
  const kcidb = options.transformKcidb ? JSON.stringify(options.transformKcidb(JSON.parse(kcidbJson(summary, options.kcidb)) as KcidbData), null, 2) + '\n' : kcidbJson(summary, options.kcidb);
  const repro = await readReproView(dir);
  const { runPage } = await runPageModule();
  files.push(['results.tap', toTap(summary)], ['junit.xml', toJUnit(summary)], ['kcidb.json', kcidb], ['report.html', runPage(summary, repro ? { repro } : {})]);
  const written: string[] = [];
  for (const [name, text] of files) {
    const path = join(dir, name);
    await writeAtomic(path, text);
    written.push(path);
  }
  return written;
}

/**
 * The HTML page over several results dirs (report/html/trend-page.ts) written to `file`; each
 * run links to its own report.html when its dir has one, by a path relative to `file`.
 */
export async function writeTrendPage(file: string, runs: readonly { dir: string; summary: RunSummary }[]): Promise<void> {
  const { trendPage } = await trendPageModule();
  const linked = await Promise.all(runs.map(async ({ dir, summary }) => {
    const page = join(dir, 'report.html');
    const has = await stat(page).then((s) => s.isFile(), () => false);
    return has ? { summary, page: relative(dirname(file), page).split(sep).join('/') } : { summary };
  }));
  await writeAtomic(file, trendPage(linked));
}

/**
 * Commands over results dirs (no VM needed): render a run's summary.json again in any format
 * and (re)write its report files; compare two runs; nightly (run + compare with a baseline);
 * the CI matrix and its shards; merge shard results into one report.
 */
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { HarnessError } from '../errors.js';
import { booted } from '../report/cases.js';
import { toJUnit } from '../report/junit.js';
import { toKcidb, type KcidbData, type KcidbOptions } from '../report/kcidb.js';
import type { RunSummary } from '../report/model.js';
import { renderSummary, shouldColor } from '../report/render.js';
import { toTap } from '../report/tap.js';
import { parse } from './args.js';
import type { CommandTable } from './command.js';
import { COMPARE_HELP, compareCommand } from './compare.js';
import { MATRIX_HELP, matrixCommand } from './matrix.js';
import { MERGE_HELP, mergeCommand } from './merge.js';
import { NIGHTLY_HELP, nightlyCommand } from './nightly.js';

/** Where a command's output goes; tests pass their own to run commands in-process. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
  /** Whether stdout is a terminal (colour decisions). */
  isTTY: boolean;
}

export const processIo: Io = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  get env() {
    return process.env;
  },
  get isTTY() {
    return Boolean(process.stdout.isTTY);
  },
};

/** The report files a results dir carries next to summary.json. */
export const REPORT_FILES = ['results.tap', 'junit.xml', 'kcidb.json'] as const;

export const REPORT_HELP = `cxl-harness report RESULTS_DIR [--table | --tap | --junit | --kcidb | --json] [--write]
                   [--origin NAME] [--artifacts-url URL]

Render a run's summary.json again: the human table (default), TAP 14, JUnit XML,
KCIDB v5 JSON, or the summary itself, on stdout.

  --write               (re)write results.tap, junit.xml and kcidb.json into RESULTS_DIR
                        (atomically); prints nothing on stdout unless a format is also given
  --origin NAME         KCIDB origin, [a-z0-9_]+ (default cxl_harness); with --kcidb/--write
  --artifacts-url URL   where RESULTS_DIR is published; KCIDB output_files become URLs under it

The table is coloured on a terminal; NO_COLOR=1 turns colour off, FORCE_COLOR=1 forces it.
Exit codes: 0 rendered/written, 2 RESULTS_DIR has no (valid) summary.json or bad options.`;

/** Read and sanity-check `<dir>/summary.json`; a clear HarnessError (exit 2) naming the path otherwise. */
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

/** KCIDB JSON exactly as the run and `report --write` store it in kcidb.json. */
export function kcidbJson(summary: RunSummary, options: KcidbOptions = {}): string {
  try {
    return JSON.stringify(toKcidb(summary, options), null, 2) + '\n';
  } catch (e) {
    // toKcidb refuses a bad origin with a TypeError: that is the user's input.
    throw new HarnessError('USAGE', (e as Error).message, { hint: 'a KCIDB origin is lowercase letters, digits and _' });
  }
}

/** Write a file atomically (temp + rename), so a reader never sees half of it. */
export async function writeAtomic(path: string, text: string): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text);
  await rename(tmp, path);
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
  files.push(['results.tap', toTap(summary)], ['junit.xml', toJUnit(summary)], ['kcidb.json', kcidb]);
  const written: string[] = [];
  for (const [name, text] of files) {
    const path = join(dir, name);
    await writeAtomic(path, text);
    written.push(path);
  }
  return written;
}

/** KCIDB options from --origin / --artifacts-url values. */
export function kcidbOptionsFrom(values: { origin?: string | undefined; 'artifacts-url'?: string | undefined }): KcidbOptions {
  return { ...(values.origin ? { origin: values.origin } : {}), ...(values['artifacts-url'] ? { artifactsBaseUrl: values['artifacts-url'] } : {}) };
}

export async function reportCommand(argv: string[], io: Io = processIo): Promise<number> {
  const { values, positionals } = parse(argv, {
    tap: { type: 'boolean' },
    junit: { type: 'boolean' },
    kcidb: { type: 'boolean' },
    json: { type: 'boolean' },
    table: { type: 'boolean' },
    write: { type: 'boolean' },
    origin: { type: 'string' },
    'artifacts-url': { type: 'string' },
  }, REPORT_HELP, { positionals: true });
  if (positionals.length !== 1) throw new HarnessError('USAGE', `report takes exactly one results dir (got ${positionals.length})\n\n${REPORT_HELP}`);
  const formats = (['tap', 'junit', 'kcidb', 'json', 'table'] as const).filter((f) => values[f]);
  if (formats.length > 1) throw new HarnessError('USAGE', `choose one output format (got --${formats.join(', --')})\n\n${REPORT_HELP}`);
  const dir = positionals[0]!;
  const summary = await readSummary(dir);
  const kcidb = kcidbOptionsFrom(values);
  if (values.write) {
    for (const path of await writeReports(resolve(dir), summary, { kcidb })) io.err(`wrote ${path}\n`);
    if (formats.length === 0) return 0;
  }
  const format = formats[0] ?? 'table';
  const out = format === 'tap' ? toTap(summary)
    : format === 'junit' ? toJUnit(summary)
      : format === 'kcidb' ? kcidbJson(summary, kcidb)
        : format === 'json' ? JSON.stringify(summary, null, 2) + '\n'
          : renderSummary(summary, { resultsDir: dir, color: shouldColor(io.env, io.isTTY) });
  io.out(out);
  return 0;
}

export function reportCommands(log: (line: string) => void, io: Io = processIo): CommandTable {
  return {
    report: {
      summary: 'render a results dir again as a table, TAP, JUnit or KCIDB; --write (re)writes the report files',
      help: REPORT_HELP,
      run: (argv) => reportCommand(argv, io),
    },
    compare: {
      summary: 'compare two results dirs: new failures, fixes, skip changes, new console findings, timings',
      help: COMPARE_HELP,
      run: (argv) => compareCommand(argv, io),
    },
    nightly: {
      summary: 'run, compare with a baseline results dir (compare.json), optionally advance the baseline',
      help: NIGHTLY_HELP,
      run: (argv) => nightlyCommand(argv, { io, log }),
    },
    matrix: {
      summary: 'print the CI job list (kernels x topologies x suites) or run one shard of it',
      help: MATRIX_HELP,
      run: (argv) => matrixCommand(argv, { io, log }),
    },
    merge: {
      summary: 'join shard results dirs into one report (summary.json, TAP, JUnit, KCIDB)',
      help: MERGE_HELP,
      run: (argv) => mergeCommand(argv, io),
    },
  };
}

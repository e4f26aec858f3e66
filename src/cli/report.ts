/**
 * Commands over results dirs (no VM needed): render a run's summary.json again in any format
 * and (re)write its report files, or one HTML page over several; compare two runs; nightly
 * (run + compare with a baseline); the CI matrix and its shards; merge shard results into one
 * report.
 */
import { resolve } from 'node:path';
import { toJUnit } from '../report/junit.js';
import { renderSummary, shouldColor } from '../report/render.js';
import { sideBySideMarkdown } from '../report/side-by-side.js';
import { toTap } from '../report/tap.js';
import { kcidbJson, readSummary, writeReports, writeTrendPage } from '../results/report-files.js';
import { kcidbOptionsFrom, parse, usageError } from './args.js';
import type { CommandTable } from './command.js';
import { processIo, type Io } from './io.js';
import { COMPARE_HELP, compareCommand } from './compare.js';
import { MATRIX_HELP, matrixCommand } from './matrix.js';
import { MERGE_HELP, mergeCommand } from './merge.js';
import { NIGHTLY_HELP, nightlyCommand } from './nightly.js';

export const REPORT_HELP = `cxl-harness report RESULTS_DIR [--table | --tap | --junit | --kcidb | --json] [--write]
                   [--origin NAME] [--artifacts-url URL]
cxl-harness report --side-by-side RESULTS_DIR RESULTS_DIR...
cxl-harness report --html OUT.html RESULTS_DIR RESULTS_DIR...

Render a run's summary.json again: the human table (default), TAP 14, JUnit XML,
KCIDB v5 JSON, or the summary itself, on stdout.

  --side-by-side        runs of one suite on several kernels, one column per run (headed by
                        the kernel's detected version), each check's verdict and what it
                        observed (Markdown): what changed from one kernel to the next
  --html OUT.html       one HTML page over several results dirs (a trend): their outcomes
                        over time, each check's verdict per run as a grid, each check's time
                        per run; for runs of one suite on several kernels, the kernels side by
                        side (the latest run of each). Each run links to its own report.html.
                        Self-contained like report.html: no script, nothing fetched

  --write               (re)write results.tap, junit.xml, kcidb.json and report.html into
                        RESULTS_DIR (atomically); prints nothing on stdout unless a format is
                        also given
  --origin NAME         KCIDB origin, [a-z0-9_]+ (default cxl_harness); with --kcidb/--write
  --artifacts-url URL   where RESULTS_DIR is published; KCIDB output_files become URLs under it

report.html, in every results dir, is the run for people: outcome, kernel, topology, QEMU,
every check with its evidence, where the time went, each node's free memory around each check,
the console findings and, in a repro dir, the loop's iterations. One file that fetches nothing.

The table is coloured on a terminal; NO_COLOR=1 turns colour off, FORCE_COLOR=1 forces it.
Exit codes: 0 rendered/written, 2 RESULTS_DIR has no (valid) summary.json or bad options.`;

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
    'side-by-side': { type: 'boolean' },
    html: { type: 'string' },
  }, REPORT_HELP, { positionals: true });
  if (values.html !== undefined) {
    if (!values.html) throw usageError(REPORT_HELP, '--html needs the file to write (--html OUT.html)');
    const others = (['tap', 'junit', 'kcidb', 'json', 'table', 'write', 'side-by-side'] as const).filter((f) => values[f]);
    if (others.length) throw usageError(REPORT_HELP, `--html writes a page and takes no --${others.join(', --')}`);
    if (positionals.length < 2) {
      throw usageError(REPORT_HELP, `--html makes a page over two results dirs or more (got ${positionals.length})`, "a run's own page is RESULTS_DIR/report.html (report RESULTS_DIR --write rewrites it)");
    }
    const runs = await Promise.all(positionals.map(async (dir) => ({ dir, summary: await readSummary(dir) })));
    const out = resolve(values.html);
    await writeTrendPage(out, runs);
    io.err(`wrote ${out}\n`);
    return 0;
  }
  if (values['side-by-side']) {
    if (positionals.length < 2) throw usageError(REPORT_HELP, `--side-by-side takes two results dirs or more (got ${positionals.length})`);
    const others = (['tap', 'junit', 'kcidb', 'json', 'table', 'write'] as const).filter((f) => values[f]);
    if (others.length) throw usageError(REPORT_HELP, `--side-by-side prints Markdown and takes no --${others.join(', --')}`);
    const runs = await Promise.all(positionals.map((d) => readSummary(d)));
    const suites = [...new Set(runs.map((r) => r.suite ?? '?'))];
    if (suites.length > 1) throw usageError(REPORT_HELP, `--side-by-side compares runs of one suite (got ${suites.join(', ')})`);
    io.out(`${sideBySideMarkdown(runs)}\n`);
    return 0;
  }
  if (positionals.length !== 1) throw usageError(REPORT_HELP, `takes exactly one results dir (got ${positionals.length})`);
  const formats = (['tap', 'junit', 'kcidb', 'json', 'table'] as const).filter((f) => values[f]);
  if (formats.length > 1) throw usageError(REPORT_HELP, `choose one output format (got --${formats.join(', --')})`);
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
      summary: 'render a results dir again as a table, TAP, JUnit or KCIDB; --write (re)writes the report files; --side-by-side or --html over several runs',
      help: REPORT_HELP,
      examples: ['cxl-harness report results/20261126T020000-ab12cd --table', 'cxl-harness report results/20261126T020000-ab12cd --kcidb --origin my_ci', 'cxl-harness report results/20261126T020000-ab12cd --write', 'cxl-harness report --side-by-side results/stock results/v1 results/v2 results/v3 > versions.md', 'cxl-harness report --html trend.html results/*/'],
      run: (argv) => reportCommand(argv, io),
    },
    compare: {
      summary: 'compare two results dirs: new failures, fixes, skip changes, new console findings, timings',
      help: COMPARE_HELP,
      examples: ['cxl-harness compare results/before results/after', 'cxl-harness compare results/before results/after --timing-threshold 0.25 --json'],
      run: (argv) => compareCommand(argv, io),
    },
    nightly: {
      summary: 'run, compare with a baseline results dir (compare.json), optionally advance the baseline',
      help: NIGHTLY_HELP,
      examples: ['cxl-harness nightly --baseline baselines/sid --update-baseline --results-base results --suite spm --kernel-suite sid'],
      run: (argv) => nightlyCommand(argv, { io, log }),
    },
    matrix: {
      summary: 'print the CI job list (kernels x topologies x suites) or run one shard of it',
      help: MATRIX_HELP,
      examples: ['cxl-harness matrix --kernels distro,distro:trixie,./bzImage --topologies default,interleave --suites hotplug --github', 'cxl-harness matrix --kernels distro --topologies spm-pair --suites spm --shard 1/2 --run --results-base results'],
      run: (argv) => matrixCommand(argv, { io, log }),
    },
    merge: {
      summary: 'join shard results dirs into one report (summary.json, TAP, JUnit, KCIDB)',
      help: MERGE_HELP,
      examples: ['cxl-harness merge artifacts/ --out artifacts/merged --origin my_ci'],
      run: (argv) => mergeCommand(argv, io),
    },
  };
}

/**
 * `cxl-harness run`: its options (the kernel, machine and results groups of options.ts, and
 * its own) turned into runHarness's (shared with nightly and matrix), and how a run is printed.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunExecutor } from '../ci/executor.js';
import type { RunSummary } from '../report/model.js';
import { renderSummary, shouldColor } from '../report/render.js';
import { reproducerArgv } from '../machine/reproducer.js';
import { runHarness, type RunOptions } from '../run/run.js';
import type { Suite } from '../suites/check.js';
import { findSuite, suiteNames } from '../suites/index.js';
import { parse, seconds, usageError, type OptionValues } from './args.js';
import { KERNEL_HELP, KERNEL_OPTIONS, MACHINE_OPTIONS, RESULTS_HELP, RESULTS_OPTIONS, kernelSpecFrom, machineFrom, machineHelp, resultsFrom } from './options.js';
import { processIo, type Io } from './io.js';

/** `run`'s options; `nightly` takes them too, and a matrix job is a set of them. No defaults: see runOptionsFrom. */
export const runOptions = {
  ...KERNEL_OPTIONS,
  ...MACHINE_OPTIONS,
  ...RESULTS_OPTIONS,
  suite: { type: 'string' },
  'check-timeout': { type: 'string' },
  format: { type: 'string' },
} as const;

export type RunValues = OptionValues<typeof runOptions>;

export interface RunContext {
  /** The calling command's help, for its refusals. */
  usage: string;
  log: (line: string) => void;
  /** The `cxl-harness run` command line reproducer.sh repeats (see reproducerArgv). */
  argv: string[];
  /** Suites by name (default: the suites run knows); tests pass their own. */
  findSuite?: (name: string) => Suite;
}

/** The one conversion from run's option values to runHarness's options, for run, nightly and every matrix job. */
export function runOptionsFrom(values: RunValues, context: RunContext): RunOptions {
  return {
    suite: (context.findSuite ?? findSuite)(values.suite ?? 'spm'),
    kernel: kernelSpecFrom(values, context.usage),
    ...machineFrom(values),
    ...resultsFrom(values),
    checkTimeoutMs: seconds(values['check-timeout'], '--check-timeout', 300),
    log: context.log,
    argv: context.argv,
  };
}

const REPORT_FILE = { tap: 'results.tap', junit: 'junit.xml', json: 'summary.json' } as const;
export type Format = keyof typeof REPORT_FILE | 'none';

const FORMATS: readonly Format[] = ['tap', 'json', 'junit', 'none'];

/** A --format value: tap, json, junit or none. */
export function formatOf(value: string | undefined, fallback: Format, usage: string): Format {
  const format = FORMATS.find((f) => f === (value ?? fallback));
  if (!format) throw usageError(usage, `--format takes tap, json, junit or none (got "${value}")`);
  return format;
}

/** What `run` prints when a run ends: its report in `format` on stdout, the summary table on stderr. */
async function printRun(dir: string, summary: RunSummary, format: Format, io: Io): Promise<void> {
  if (format !== 'none') io.out(await readFile(join(dir, REPORT_FILE[format]), 'utf8'));
  io.err(renderSummary(summary, { resultsDir: dir, color: shouldColor(io.env, io.errIsTTY ?? false) }) + '\n');
}

/** `execute`, printing every run it makes like `run` does (for nightly and matrix --run). */
export function printingRuns(execute: RunExecutor, format: Format, io: Io): RunExecutor {
  return async (options) => {
    const summary = await execute(options);
    await printRun(options.resultsDir, summary, format, io);
    return summary;
  };
}

export const RUN_HELP = `cxl-harness run [options]

Boot a QEMU guest with emulated CXL memory on the chosen kernel, run a suite of checks,
print the TAP report on stdout and leave a results dir.

Suite and machine:
  --suite NAME               ${suiteNames().join(' | ')} (default spm)
  --check-timeout S          seconds one check may take before the run is a hang (default 300)
${machineHelp('the suite\'s; one without what the suite needs is refused: spm needs two regions')}

${KERNEL_HELP}

Results:
${RESULTS_HELP}
  --format tap|json|junit|none   what to print on stdout at the end (default tap)

Exit codes: 0 all checks passed or skipped, 1 a check failed (or a console finding),
2 harness/infrastructure error or hang, 3 kernel crash, 4 nothing judged (every check that judges
the kernel skipped, e.g. for a missing capability), 130/143 interrupted.`;

export async function runCommand(argv: string[], log: (line: string) => void, io: Io = processIo): Promise<number> {
  const { values } = parse(argv, runOptions, RUN_HELP);
  const options = runOptionsFrom(values, { usage: RUN_HELP, log, argv: reproducerArgv(argv) });
  const format = formatOf(values.format, 'tap', RUN_HELP);
  const { results, summary } = await runHarness(options);
  await printRun(results.dir, summary, format, io);
  return summary.exitCode;
}

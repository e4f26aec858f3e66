/**
 * `cxl-harness run`; the options that choose a kernel (shared with ssh, image, kernel, repro);
 * run's options turned into runHarness's (shared with nightly and matrix), and how a run is printed.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { RunExecutor } from '../ci/executor.js';
import { HarnessError } from '../errors.js';
import type { KernelSpec } from '../kernel/resolve.js';
import { isGitRange } from '../kernel/patches.js';
import type { RunSummary } from '../report/model.js';
import { renderSummary, shouldColor } from '../report/render.js';
import { reproducerArgv } from '../machine/reproducer.js';
import { runHarness, type RunOptions } from '../run/run.js';
import type { Suite } from '../suites/check.js';
import { findSuite, suiteNames } from '../suites/index.js';
import { parse, seconds, usageError, type OptionValues } from './args.js';
import { processIo, type Io } from './io.js';

export const kernelOptions = {
  kernel: { type: 'string' },
  modules: { type: 'string' },
  'kernel-suite': { type: 'string' },
  'kernel-package': { type: 'string' },
  'kernel-src': { type: 'string' },
  'kernel-debian-source': { type: 'string' },
  patches: { type: 'string' },
  'config-fragment': { type: 'string', multiple: true },
  'base-config': { type: 'string' },
  'debug-config': { type: 'boolean' },
} as const;

export const KERNEL_HELP = `Kernel (default: Debian sid's linux-image-amd64, downloaded once, no build):
  --kernel PATH              a prebuilt bzImage; with --modules DIR (make modules_install INSTALL_MOD_PATH=DIR)
  --kernel-suite SUITE       Debian suite of the distro kernel (default sid)
  --kernel-package NAME      Debian kernel package (default linux-image-amd64)
  --kernel-src DIR           build this kernel tree (git checkout or unpacked tarball; never modified)
  --kernel-debian-source PKG build Debian's source package PKG (e.g. linux-source-7.2)
  --patches SERIES           with a source: an mbox, a *.patch file, a directory of patches, or a git range A..B
  --config-fragment FILE     extra Kconfig fragment (repeatable), after kernel-config/cxl.config
  --base-config FILE         start from this .config instead of defconfig
  --debug-config             add kernel-config/debug.config (KASAN, lockdep, DEBUG_VM...)`;

export type KernelValues = OptionValues<typeof kernelOptions>;

/** The kernel a command's options choose; `usage` (the command's help) words the refusals like every other. */
/** A --patches value as the builder takes it: a git range as given, a file or directory made absolute. */
export function patchesArgument(value: string): string {
  return isGitRange(value) ? value : resolve(value);
}

export function kernelSpecFrom(v: KernelValues, usage?: string): KernelSpec {
  const refuse = (problem: string): HarnessError => (usage ? usageError(usage, problem) : new HarnessError('USAGE', problem));
  const chosen = [v.kernel, v['kernel-src'], v['kernel-debian-source']].filter(Boolean).length;
  if (chosen > 1) throw refuse('choose one of --kernel, --kernel-src and --kernel-debian-source');
  if (v.kernel) return { kind: 'prebuilt', image: resolve(v.kernel), ...(v.modules ? { modules: resolve(v.modules) } : {}) };
  if (v['kernel-src'] || v['kernel-debian-source']) {
    return {
      kind: 'source',
      source: v['kernel-src'] ? { dir: resolve(v['kernel-src']) } : { debianPackage: v['kernel-debian-source']!, ...(v['kernel-suite'] ? { suite: v['kernel-suite'] } : {}) },
      ...(v.patches ? { patches: patchesArgument(v.patches) } : {}),
      ...(v['config-fragment'] ? { fragments: v['config-fragment'].map((f) => resolve(f)) } : {}),
      ...(v['base-config'] ? { baseConfig: resolve(v['base-config']) } : {}),
      ...(v['debug-config'] ? { debug: true } : {}),
    };
  }
  if (v.patches || v['config-fragment']) throw refuse('--patches and --config-fragment need --kernel-src or --kernel-debian-source');
  return { kind: 'distro', ...(v['kernel-suite'] ? { suite: v['kernel-suite'] } : {}), ...(v['kernel-package'] ? { package: v['kernel-package'] } : {}) };
}

/** `run`'s options; `nightly` takes them too, and a matrix job is a set of them. No defaults: see runOptionsFrom. */
export const runOptions = {
  ...kernelOptions,
  suite: { type: 'string' },
  topology: { type: 'string' },
  kvm: { type: 'boolean' },
  cmdline: { type: 'string' },
  'boot-timeout': { type: 'string' },
  'check-timeout': { type: 'string' },
  results: { type: 'string' },
  'results-base': { type: 'string' },
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
  const suite = (context.findSuite ?? findSuite)(values.suite ?? 'spm');
  const topology = values.topology && (values.topology.includes('/') || values.topology.endsWith('.json')) ? resolve(values.topology) : values.topology;
  return {
    suite,
    ...(topology ? { topology } : {}),
    kernel: kernelSpecFrom(values, context.usage),
    ...(values.results ? { resultsDir: values.results } : {}),
    ...(values['results-base'] ? { resultsBase: values['results-base'] } : {}),
    accel: values.kvm ? 'kvm' : 'tcg',
    bootTimeoutMs: seconds(values['boot-timeout'], '--boot-timeout', 180),
    checkTimeoutMs: seconds(values['check-timeout'], '--check-timeout', 300),
    extraCmdline: values.cmdline ? values.cmdline.split(/\s+/).filter(Boolean) : [],
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
  --topology NAME|FILE       a preset from qemu/ or a topology JSON file (default: the suite's;
                             one without what the suite needs is refused: spm needs two regions)
  --kvm                      use KVM instead of TCG (CXL memory access is known to fault under KVM)
  --cmdline "ARGS"           extra kernel command-line arguments
  --boot-timeout S           seconds to wait for the guest's SSH (default 180)
  --check-timeout S          seconds one check may take before the run is a hang (default 300)

${KERNEL_HELP}

Results:
  --results DIR              write the results here (default results/<timestamp>-<id>)
  --results-base DIR         make the timestamped results dir under DIR (default ./results)
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

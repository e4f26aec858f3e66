/** `cxl-harness run` and the options that choose a kernel, shared with `ssh` and `image`. */
import { resolve } from 'node:path';
import { HarnessError } from '../errors.js';
import type { KernelSpec } from '../kernel/resolve.js';
import { renderSummary, shouldColor } from '../report/render.js';
import { reproducerArgv } from '../run/reproducer.js';
import { runHarness } from '../run/run.js';
import { findSuite, suiteNames } from '../suites/index.js';
import { parse, seconds } from './args.js';

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

type KernelValues = { [K in keyof typeof kernelOptions]?: (typeof kernelOptions)[K] extends { multiple: true } ? string[] : (typeof kernelOptions)[K] extends { type: 'boolean' } ? boolean : string };

export function kernelSpecFrom(v: KernelValues): KernelSpec {
  const chosen = [v.kernel, v['kernel-src'], v['kernel-debian-source']].filter(Boolean).length;
  if (chosen > 1) throw new HarnessError('USAGE', 'choose one of --kernel, --kernel-src and --kernel-debian-source');
  if (v.kernel) return { kind: 'prebuilt', image: resolve(v.kernel), ...(v.modules ? { modules: resolve(v.modules) } : {}) };
  if (v['kernel-src'] || v['kernel-debian-source']) {
    return {
      kind: 'source',
      source: v['kernel-src'] ? { dir: resolve(v['kernel-src']) } : { debianPackage: v['kernel-debian-source']!, ...(v['kernel-suite'] ? { suite: v['kernel-suite'] } : {}) },
      ...(v.patches ? { patches: /\.\./.test(v.patches) && !v.patches.includes('/') ? v.patches : resolve(v.patches) } : {}),
      ...(v['config-fragment'] ? { fragments: v['config-fragment'].map((f) => resolve(f)) } : {}),
      ...(v['base-config'] ? { baseConfig: resolve(v['base-config']) } : {}),
      ...(v['debug-config'] ? { debug: true } : {}),
    };
  }
  if (v.patches || v['config-fragment']) throw new HarnessError('USAGE', '--patches and --config-fragment need --kernel-src or --kernel-debian-source');
  return { kind: 'distro', ...(v['kernel-suite'] ? { suite: v['kernel-suite'] } : {}), ...(v['kernel-package'] ? { package: v['kernel-package'] } : {}) };
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

export async function runCommand(argv: string[], log: (line: string) => void): Promise<number> {
  const { values } = parse(argv, {
    ...kernelOptions,
    suite: { type: 'string', default: 'spm' },
    topology: { type: 'string' },
    kvm: { type: 'boolean' },
    cmdline: { type: 'string' },
    'boot-timeout': { type: 'string' },
    'check-timeout': { type: 'string' },
    results: { type: 'string' },
    'results-base': { type: 'string' },
    format: { type: 'string', default: 'tap' },
  }, RUN_HELP);
  const suite = findSuite(values.suite!);
  const format = values.format!;
  if (!['tap', 'json', 'junit', 'none'].includes(format)) throw new HarnessError('USAGE', `--format takes tap, json, junit or none (got "${format}")`);
  const topology = values.topology && (values.topology.includes('/') || values.topology.endsWith('.json')) ? resolve(values.topology) : values.topology;
  const { results, summary } = await runHarness({
    suite,
    ...(topology ? { topology } : {}),
    kernel: kernelSpecFrom(values),
    ...(values.results ? { resultsDir: values.results } : {}),
    ...(values['results-base'] ? { resultsBase: values['results-base'] } : {}),
    accel: values.kvm ? 'kvm' : 'tcg',
    bootTimeoutMs: seconds(values['boot-timeout'], '--boot-timeout', 180),
    checkTimeoutMs: seconds(values['check-timeout'], '--check-timeout', 300),
    extraCmdline: values.cmdline ? values.cmdline.split(/\s+/).filter(Boolean) : [],
    log,
    argv: reproducerArgv(argv),
  });
  const { readFile } = await import('node:fs/promises');
  if (format === 'tap') process.stdout.write(await readFile(results.path('results.tap'), 'utf8'));
  if (format === 'junit') process.stdout.write(await readFile(results.path('junit.xml'), 'utf8'));
  if (format === 'json') process.stdout.write(await readFile(results.path('summary.json'), 'utf8'));
  process.stderr.write(renderSummary(summary, { resultsDir: results.dir, color: shouldColor(process.env, Boolean(process.stderr.isTTY)) }) + '\n');
  return summary.exitCode;
}

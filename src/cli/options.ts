/**
 * The option groups the commands share, each declared once with its help and the one
 * conversion to the typed request: the kernel (run, ssh, image, kernel, repro, nightly, matrix),
 * its build (bisect takes it alone), the machine (run, ssh, repro, bisect, nightly, matrix) and
 * the results dir. A command composes the groups it takes; the name-or-path rule of topologies
 * and scenarios is here too.
 */
import { resolve } from 'node:path';
import { HarnessError } from '../errors.js';
import { namesAFile } from '../fields.js';
import type { BuildOptions } from '../kernel/build.js';
import type { KernelSpec } from '../kernel/resolve.js';
import { isGitRange } from '../kernel/patches.js';
import type { Accel } from '../qemu/argv.js';
import { seconds, usageError, type OptionValues } from './args.js';

/** A preset's name as given, a file (a value with a / or ending in .json) made absolute. */
export function nameOrPath(value: string): string {
  return namesAFile(value) ? resolve(value) : value;
}

function refusal(usage: string | undefined, problem: string): HarnessError {
  return usage ? usageError(usage, problem) : new HarnessError('USAGE', problem);
}

export const BUILD_OPTIONS = {
  patches: { type: 'string' },
  'config-fragment': { type: 'string', multiple: true },
  'base-config': { type: 'string' },
  'debug-config': { type: 'boolean' },
} as const;

export type BuildValues = OptionValues<typeof BUILD_OPTIONS>;

/** What the build group chooses of a source build. */
export type SourceBuild = Pick<BuildOptions, 'patches' | 'fragments' | 'baseConfig' | 'debug'>;

/** A --patches value as the builder takes it: a git range as given, a file or directory made absolute. */
export function patchesArgument(value: string): string {
  return isGitRange(value) ? value : resolve(value);
}

/** How a source tree is built: its patches, fragments, base config, debug options. */
export function buildFrom(v: BuildValues): SourceBuild {
  return {
    ...(v.patches ? { patches: patchesArgument(v.patches) } : {}),
    ...(v['config-fragment'] ? { fragments: v['config-fragment'].map((f) => resolve(f)) } : {}),
    ...(v['base-config'] ? { baseConfig: resolve(v['base-config']) } : {}),
    ...(v['debug-config'] ? { debug: true } : {}),
  };
}

export const KERNEL_OPTIONS = {
  kernel: { type: 'string' },
  modules: { type: 'string' },
  'kernel-suite': { type: 'string' },
  'kernel-package': { type: 'string' },
  'kernel-src': { type: 'string' },
  'kernel-debian-source': { type: 'string' },
  ...BUILD_OPTIONS,
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

export type KernelValues = OptionValues<typeof KERNEL_OPTIONS>;

/** The kernel a command's options choose; `usage` (the command's help) words the refusals like every other. */
export function kernelSpecFrom(v: KernelValues, usage?: string): KernelSpec {
  const chosen = [v.kernel, v['kernel-src'], v['kernel-debian-source']].filter(Boolean).length;
  if (chosen > 1) throw refusal(usage, 'choose one of --kernel, --kernel-src and --kernel-debian-source');
  if (v.kernel) return { kind: 'prebuilt', image: resolve(v.kernel), ...(v.modules ? { modules: resolve(v.modules) } : {}) };
  if (v['kernel-src'] || v['kernel-debian-source']) {
    return {
      kind: 'source',
      source: v['kernel-src'] ? { dir: resolve(v['kernel-src']) } : { debianPackage: v['kernel-debian-source']!, ...(v['kernel-suite'] ? { suite: v['kernel-suite'] } : {}) },
      ...buildFrom(v),
    };
  }
  if (v.patches || v['config-fragment']) throw refusal(usage, '--patches and --config-fragment need --kernel-src or --kernel-debian-source');
  return { kind: 'distro', ...(v['kernel-suite'] ? { suite: v['kernel-suite'] } : {}), ...(v['kernel-package'] ? { package: v['kernel-package'] } : {}) };
}

export const MACHINE_OPTIONS = {
  topology: { type: 'string' },
  kvm: { type: 'boolean' },
  cmdline: { type: 'string' },
  'boot-timeout': { type: 'string' },
} as const;

/** The machine group's help; `topologyDefault` says what a command boots without --topology. */
export function machineHelp(topologyDefault: string): string {
  return `  --topology NAME|FILE       a preset from qemu/ or a topology JSON file (default: ${topologyDefault})
  --kvm                      use KVM instead of TCG (CXL memory access is known to fault under KVM)
  --cmdline "ARGS"           extra kernel command-line arguments
  --boot-timeout S           seconds to wait for the guest's SSH (default 180)`;
}

export type MachineValues = OptionValues<typeof MACHINE_OPTIONS>;

export interface MachineRequest {
  /** A preset name or an absolute topology file; absent: the command's default. */
  topology?: string;
  accel: Accel;
  bootTimeoutMs: number;
  extraCmdline: string[];
}

export function machineFrom(v: MachineValues): MachineRequest {
  return {
    ...(v.topology ? { topology: nameOrPath(v.topology) } : {}),
    accel: v.kvm ? 'kvm' : 'tcg',
    bootTimeoutMs: seconds(v['boot-timeout'], '--boot-timeout', 180),
    extraCmdline: v.cmdline ? v.cmdline.split(/\s+/).filter(Boolean) : [],
  };
}

export const RESULTS_OPTIONS = {
  results: { type: 'string' },
  'results-base': { type: 'string' },
} as const;

export const RESULTS_HELP = `  --results DIR              write the results here (default results/<timestamp>-<id>)
  --results-base DIR         make the timestamped results dir under DIR (default ./results)`;

export type ResultsValues = OptionValues<typeof RESULTS_OPTIONS>;

export function resultsFrom(v: ResultsValues): { resultsDir?: string; resultsBase?: string } {
  return { ...(v.results ? { resultsDir: v.results } : {}), ...(v['results-base'] ? { resultsBase: v['results-base'] } : {}) };
}

/** `cxl-harness kernel fetch | build`: get a kernel without running anything. */
import { resolveKernel } from '../kernel/resolve.js';
import { parse, usageError } from './args.js';
import { KERNEL_HELP, KERNEL_OPTIONS, kernelSpecFrom } from './options.js';

export const KERNEL_CMD_HELP = `cxl-harness kernel fetch [--kernel-suite S] [--kernel-package P]
cxl-harness kernel build (--kernel-src DIR | --kernel-debian-source PKG) [--patches SERIES] [--config-fragment F]... [--debug-config]

fetch downloads and unpacks a Debian kernel package into the cache; build applies the
patch series in a harness-owned copy of the tree (yours is never touched), configures it
with kernel-config/cxl.config plus your fragments, verifies every option landed, and
builds it (cached by source, patches, fragments and toolchain). Both print the artifact.

${KERNEL_HELP}

Exit codes: 0 done (the paths printed), 2 bad options, or the download or build failed.`;

export async function kernelCommand(argv: string[], log: (line: string) => void): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb !== 'fetch' && verb !== 'build') throw usageError(KERNEL_CMD_HELP, `takes fetch or build (got ${verb === undefined ? 'nothing' : `"${verb}"`})`);
  const { values } = parse(rest, KERNEL_OPTIONS, KERNEL_CMD_HELP);
  const spec = kernelSpecFrom(values, KERNEL_CMD_HELP);
  if (verb === 'build' && spec.kind !== 'source') throw usageError(KERNEL_CMD_HELP, 'build needs --kernel-src DIR or --kernel-debian-source PKG');
  if (verb === 'fetch' && spec.kind !== 'distro') throw usageError(KERNEL_CMD_HELP, 'fetch takes only --kernel-suite and --kernel-package');
  const artifact = await resolveKernel(spec, log);
  process.stdout.write(JSON.stringify(artifact, null, 2) + '\n');
  return 0;
}

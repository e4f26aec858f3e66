/** `cxl-harness image`: build the guest image for a kernel ahead of a run (or find it cached). */
import { guestImage } from '../image/image.js';
import { resolveKernel } from '../kernel/resolve.js';
import { parse } from './args.js';
import { KERNEL_HELP, KERNEL_OPTIONS, kernelSpecFrom } from './options.js';

export const IMAGE_HELP = `cxl-harness image [kernel options]

Build the guest's disks (the root image: Debian trixie with ndctl/cxl/daxctl, numactl, Node,
sshd and the kernel's modules; the payload image: the probe addon, dist/probe and dist/agent,
mounted read-only at /opt/cxl-harness) and the first-stage initramfs, or
report the cached ones. Prints their paths.

${KERNEL_HELP}

Exit codes: 0 done (the paths printed), 2 bad options, or the download or build failed.`;

export async function imageCommand(argv: string[], log: (line: string) => void): Promise<number> {
  const { values } = parse(argv, KERNEL_OPTIONS, IMAGE_HELP);
  const kernel = await resolveKernel(kernelSpecFrom(values, IMAGE_HELP), log);
  const t = Date.now();
  const image = await guestImage(kernel, { log });
  process.stdout.write(JSON.stringify({ kernel: kernel.image, release: kernel.release, image: image.image, payload: image.payload, initramfs: image.initramfs, cached: image.hit, ms: Date.now() - t }, null, 2) + '\n');
  return 0;
}

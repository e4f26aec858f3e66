/**
 * The kernels of the series the project does not ship: they live in ../shared beside the
 * checkout (this project's own machines have it), and a clone elsewhere has none. A test that
 * needs one skips with where the kernel comes from and how to build it with the harness,
 * except under CI (the CI variable set), where a missing kernel is a failure: CI must never go
 * green by skipping the series.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './cli.js';

export interface SharedKernel {
  path: string;
  /** Set when the kernel is missing and CI is not set: pass it as the test's `skip` option. */
  skip?: string;
}

export const SHARED = join(ROOT, '..', 'shared');

/**
 * A kernel image under ../shared: `rel` is its path there, `what` the series version in words,
 * `build` how to build it from its series with the harness.
 */
export function sharedKernel(rel: string, what: string, build: string): SharedKernel {
  const path = join(SHARED, rel);
  if (existsSync(path) || process.env.CI) return { path };
  return { path, skip: `${what} is not at ../shared/${rel} (it is not shipped with the project: the series rebased onto Debian's 7.2.13, kept beside the checkout); build it with \`${build}\` and copy the bzImage it prints to ../shared/${rel}, or set CI to make its absence a failure` };
}

/** The v2 kernel (SPM NUMA nodes RFC v2 on 7.2.13). */
export const V2_KERNEL = sharedKernel('kernels/spm-v2-7.2.13/bzImage', 'the SPM RFC v2 kernel',
  'cxl-harness kernel build --kernel-debian-source linux-source-7.2 --patches ../shared/kernels/spm-v2-7.2.13/series --base-config ../shared/kernels/spm-v2-7.2.13/config');

/** The v3 kernel (N_PRIVATE node isolation RFC v3 on 7.2.13). */
export const V3_KERNEL = sharedKernel('kernels/n-private-v3-7.2.13/bzImage', 'the N_PRIVATE RFC v3 kernel',
  'cxl-harness kernel build --kernel-debian-source linux-source-7.2 --patches ../shared/kernels/n-private-v3-7.2.13/series --base-config ../shared/kernels/n-private-v3-7.2.13/config');

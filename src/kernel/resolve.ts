/** Turn what the user asked for (distro package, prebuilt image, source tree) into a KernelArtifact. */
import type { KernelArtifact } from './artifact.js';
import { buildKernel, checkBuildInputs, type BuildOptions } from './build.js';
import { printProgress } from './build-progress.js';
import { checkDistroKernel, distroKernel, type DistroKernelOptions } from './distro.js';
import { prebuiltKernel } from './prebuilt.js';

export type KernelSpec =
  | ({ kind: 'distro' } & Omit<DistroKernelOptions, 'log'>)
  | { kind: 'prebuilt'; image: string; modules?: string }
  | ({ kind: 'source' } & Omit<BuildOptions, 'onProgress'>);

export async function resolveKernel(spec: KernelSpec, log: (line: string) => void): Promise<KernelArtifact> {
  switch (spec.kind) {
    case 'distro':
      return distroKernel({ ...spec, log });
    case 'prebuilt':
      return prebuiltKernel(spec.image, spec.modules);
    case 'source':
      return buildKernel({ ...spec, onProgress: printProgress((l) => log(l.trimEnd())) });
  }
}

/**
 * Check what a kernel spec names without downloading or building anything (package lists
 * aside): a missing image, a file that is no bzImage, an unknown suite or package, a missing
 * source tree, patch series or fragment is refused before a run makes its results dir.
 */
export async function checkKernelSpec(spec: KernelSpec): Promise<void> {
  switch (spec.kind) {
    case 'distro':
      return checkDistroKernel(spec);
    case 'prebuilt':
      await prebuiltKernel(spec.image, spec.modules);
      return;
    case 'source':
      return checkBuildInputs(spec);
  }
}

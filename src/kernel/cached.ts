/**
 * The kernels the cache already holds, so that a caller (the MCP server's list_kernels) can
 * choose one that needs no download or build: Debian packages unpacked in `kernels/`, the
 * harness's builds in `kernel/`, and the Debian source trees in `kernel-src/` a build starts
 * from. Each is read the way a run would use it (distro.ts, build.ts); an entry a run would
 * refuse is listed with the reason instead of being left out silently.
 */
import { cachedEntries, type StoredEntry } from '../cache.js';
import type { KernelIdentity } from '../report/model.js';
import type { KernelArtifact } from './artifact.js';
import { builtKernel } from './build.js';
import { unpackedKernel } from './distro.js';

interface Usable {
  /** Where the entry lives. */
  dir: string;
  createdAt?: string;
  release?: string;
  /** The bzImage / vmlinuz QEMU boots. */
  image?: string;
  modulesDir?: string;
  /** Why a run could not use it. */
  problem?: string;
}

export interface CachedDistroKernel extends Usable {
  suite: string;
  /** The versioned image package (linux-image-7.2.13+deb14-amd64), as --kernel-package takes it. */
  package: string;
  version: string;
}

export interface CachedBuild extends Usable {
  /** The source the build came from (git:COMMIT, tree:MANIFEST, debian:PKG=VERSION:SHA256). */
  source: string;
  /** The subjects of the patches applied, in order. */
  patches: string[];
  identity?: KernelIdentity;
}

export interface CachedSourceTree {
  dir: string;
  createdAt?: string;
  suite: string;
  package: string;
  version: string;
}

export interface KernelCache {
  distro: CachedDistroKernel[];
  builds: CachedBuild[];
  sources: CachedSourceTree[];
}

const text = (e: StoredEntry, field: string): string => (typeof e.meta[field] === 'string' ? (e.meta[field] as string) : '');

function created(e: StoredEntry): { createdAt?: string } {
  const at = text(e, 'createdAt');
  return at ? { createdAt: at } : {};
}

async function usable(dir: string, read: () => Promise<KernelArtifact>): Promise<Usable & { identity?: KernelIdentity }> {
  try {
    const a = await read();
    return { dir, ...(a.release ? { release: a.release } : {}), image: a.image, ...(a.modulesDir ? { modulesDir: a.modulesDir } : {}), identity: a.identity };
  } catch (e) {
    return { dir, problem: e instanceof Error ? e.message : String(e) };
  }
}

export async function cachedKernels(): Promise<KernelCache> {
  const distro: CachedDistroKernel[] = [];
  for (const e of await cachedEntries('kernels')) {
    const pkg = { name: text(e, 'package'), version: text(e, 'version') };
    // A package's identity is its name and version, already in the entry.
    const found = await usable(e.dir, () => unpackedKernel(e.dir, pkg));
    delete found.identity;
    distro.push({ ...found, ...created(e), suite: text(e, 'suite'), package: pkg.name, version: pkg.version });
  }
  const builds: CachedBuild[] = [];
  for (const e of await cachedEntries('kernel')) {
    const patches = Array.isArray(e.meta.patches) ? e.meta.patches.map(String) : [];
    builds.push({ ...(await usable(e.dir, () => builtKernel(e.dir))), ...created(e), source: text(e, 'source'), patches });
  }
  const sources = (await cachedEntries('kernel-src')).map((e) => ({ dir: e.dir, ...created(e), suite: text(e, 'suite'), package: text(e, 'package'), version: text(e, 'version') }));
  return { distro, builds, sources };
}

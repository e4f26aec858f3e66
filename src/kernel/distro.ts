/**
 * The default kernel: a Debian kernel package (sid's linux-image-amd64 by default), fetched
 * with a private apt configuration, unpacked and depmod'ed in the cache. Zero build.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cached } from '../cache.js';
import { HarnessError } from '../errors.js';
import { cacheDir } from '../paths.js';
import { run } from '../exec.js';
import { dependsNames, downloadPackages, privateApt, showPackage, type PrivateApt } from './apt.js';
import type { KernelArtifact } from './artifact.js';

export interface DistroKernelOptions {
  suite?: string;
  /** A linux-image package or metapackage, e.g. linux-image-amd64 or linux-image-7.2.13+deb14-amd64. */
  package?: string;
  log?: (line: string) => void;
}

export const DEFAULT_KERNEL_SUITE = 'sid';
export const DEFAULT_KERNEL_PACKAGE = 'linux-image-amd64';

/** The package a distro kernel spec names, looked up in the package lists (nothing else is downloaded). */
export async function checkDistroKernel(options: Pick<DistroKernelOptions, 'suite' | 'package'> = {}): Promise<void> {
  await resolvedOnce(await privateApt(options.suite ?? DEFAULT_KERNEL_SUITE), options.package ?? DEFAULT_KERNEL_PACKAGE);
}

export async function distroKernel(options: DistroKernelOptions = {}): Promise<KernelArtifact> {
  const suite = options.suite ?? DEFAULT_KERNEL_SUITE;
  const wanted = options.package ?? DEFAULT_KERNEL_PACKAGE;
  const apt = await privateApt(suite);
  const image = await resolvedOnce(apt, wanted);
  const entry = await cached(
    'kernels',
    `debian-${suite}-${image.name}-${image.version}`.replace(/[^A-Za-z0-9.+_-]/g, '_'),
    async (dir) => {
      options.log?.(`downloading ${image.name} ${image.version} from Debian ${suite}`);
      const debs = join(dir, 'debs');
      await downloadPackages(apt, image.packages, debs);
      const root = join(dir, 'root');
      await mkdir(root, { recursive: true });
      for (const deb of await readdir(debs)) await run('dpkg-deb', ['-x', join(debs, deb), root]);
      const { release } = await findModules(root);
      // depmod -b looks below <base>/lib/modules; sid and trixie ship /usr/lib/modules, bookworm /lib/modules.
      if (!existsSync(join(root, 'lib'))) await symlink('usr/lib', join(root, 'lib'));
      await run('depmod', ['-b', root, release], { hint: 'install kmod (apt-get install kmod)' });
    },
    { suite, package: image.name, version: image.version },
  );
  return unpackedKernel(entry.dir, image);
}

/** The kernel a `kernels/` entry of the cache holds: package `pkg` unpacked and depmod'ed in `dir`. */
export async function unpackedKernel(dir: string, pkg: { name: string; version: string }): Promise<KernelArtifact> {
  const root = join(dir, 'root');
  const { release, modulesDir } = await findModules(root);
  const imagePath = [join(modulesDir, 'vmlinuz'), join(root, 'boot', `vmlinuz-${release}`)].find((p) => existsSync(p));
  if (!imagePath) {
    throw new HarnessError('KERNEL_PACKAGE_UNUSABLE', `package ${pkg.name} ${pkg.version} holds no vmlinuz for ${release}`, {
      hint: 'choose another package with --kernel-package, or pass a kernel with --kernel PATH',
      context: { dir },
    });
  }
  const config = [join(modulesDir, 'config'), join(root, 'boot', `config-${release}`)].find((p) => existsSync(p));
  return {
    image: imagePath,
    release,
    modulesDir,
    config,
    identity: { origin: 'distro', release, package: `${pkg.name}=${pkg.version}`, imagePath, patches: [], patchsetHash: '' },
  };
}

interface ResolvedImage {
  name: string;
  version: string;
  /** The packages to download: the image and, on newer Debian kernels, its split-out binary/modules/base packages. */
  packages: string[];
}

/**
 * resolveImagePackage, remembered until the package lists are fetched again: the answer cannot
 * change in between, and the apt-cache calls cost every run seconds (more on a loaded host).
 */
async function resolvedOnce(apt: PrivateApt, wanted: string): Promise<ResolvedImage> {
  const memo = join(cacheDir('apt'), apt.suite, `resolved-${wanted.replace(/[^A-Za-z0-9.+_-]/g, '_')}.json`);
  const known = await readFile(memo, 'utf8').then((t) => JSON.parse(t) as { listsUpdated: string; image: ResolvedImage }).catch(() => undefined);
  if (known?.listsUpdated === apt.listsUpdated) return known.image;
  const image = await resolveImagePackage(apt, wanted);
  await writeFile(memo, JSON.stringify({ listsUpdated: apt.listsUpdated, image }));
  return image;
}

async function resolveImagePackage(apt: PrivateApt, wanted: string): Promise<ResolvedImage> {
  let name = wanted;
  for (let depth = 0; depth < 3; depth++) {
    const fields = await showPackage(apt, name);
    if (!fields) {
      throw new HarnessError('KERNEL_PACKAGE_UNKNOWN', `Debian ${apt.suite} has no package "${name}"`, {
        hint: 'check the name with `apt-cache search linux-image` for that suite, or choose another --kernel-suite',
        context: { suite: apt.suite, wanted },
      });
    }
    const deps = dependsNames(fields.Depends);
    // A metapackage (linux-image-amd64) depends on the versioned image package.
    const versioned = deps.find((d) => /^linux-image-\d/.test(d));
    if (/^linux-image-\d/.test(name) || !versioned) {
      const version = fields.Version ?? 'unknown';
      const parts = deps.filter((d) => /^linux-(binary|modules|base)-\d/.test(d));
      return { name, version, packages: [name, ...parts] };
    }
    name = versioned;
  }
  throw new HarnessError('KERNEL_PACKAGE_UNKNOWN', `could not resolve ${wanted} to a versioned linux-image package`, {
    hint: 'name a versioned package, e.g. linux-image-7.2.13+deb14-amd64',
  });
}

/** The package's one modules directory, wherever its Debian release put it (usr/lib/modules or lib/modules). */
async function findModules(root: string): Promise<{ release: string; modulesDir: string }> {
  const looked: string[] = [];
  for (const base of [join(root, 'usr', 'lib', 'modules'), join(root, 'lib', 'modules')]) {
    looked.push(base);
    if (!existsSync(base)) continue;
    const releases = (await readdir(base)).filter((r) => /^\d/.test(r) && existsSync(join(base, r, 'kernel')));
    if (releases.length === 1) return { release: releases[0]!, modulesDir: join(base, releases[0]!) };
  }
  throw new HarnessError('KERNEL_PACKAGE_UNUSABLE', `unpacked kernel package in ${root} has no single modules directory (looked in ${looked.join(' and ')})`, {
    hint: 'pass a kernel with --kernel PATH and --modules DIR instead',
    context: { root, looked },
  });
}

/**
 * Where a kernel's source comes from, and what identifies it:
 * - a git checkout (identity: the commit),
 * - a plain directory such as an unpacked tarball (identity: a manifest hash of paths, sizes, mtimes),
 * - a Debian `linux-source-X.Y` package (identity: package, version and .deb sha256), fetched with
 *   the private apt and unpacked once into the cache.
 * The user's directory is only ever read.
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { readFile, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { cached, hashParts, sha256 } from '../cache.js';
import { HarnessError } from '../errors.js';
import { run } from '../exec.js';
import { downloadPackages, privateApt, showPackage } from './apt.js';
import { parseMakefileVersion } from './identity.js';

export type KernelSource =
  | { kind: 'git'; dir: string; commit: string; dirty: boolean; version: string }
  | { kind: 'tree'; dir: string; manifest: string; version: string }
  | { kind: 'debian'; dir: string; package: string; debVersion: string; debSha256: string; version: string };

/** A stable string naming the exact source content (part of every cache key). */
export function sourceIdentity(s: KernelSource): string {
  switch (s.kind) {
    case 'git':
      return `git:${s.commit}`;
    case 'tree':
      return `tree:${s.manifest}`;
    case 'debian':
      return `debian:${s.package}=${s.debVersion}:${s.debSha256}`;
  }
}

/** A stable string naming the place the source lives (one work tree and build dir per place). */
export function sourceLocation(s: KernelSource): string {
  return s.kind === 'debian' ? `debian:${s.package}` : `${s.kind}:${s.dir}`;
}

/** Refuse a directory that is not a kernel source tree, saying what is missing. */
export async function assertKernelTree(dir: string): Promise<string> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new HarnessError('KERNEL_SRC_MISSING', `kernel source directory ${dir} does not exist`, {
      hint: 'pass --kernel-src with the top directory of a Linux source tree (a git checkout or an unpacked tarball)',
      context: { dir },
    });
  }
  const missing = ['Makefile', 'Kconfig', 'arch/x86/Kconfig', 'scripts/kconfig'].filter((p) => !existsSync(join(dir, p)));
  let version: string | undefined;
  if (!missing.includes('Makefile')) version = parseMakefileVersion(await readFile(join(dir, 'Makefile'), 'utf8'));
  if (missing.length || !version) {
    throw new HarnessError('KERNEL_SRC_INVALID', `${dir} is not a Linux kernel source tree (${missing.length ? `missing ${missing.join(', ')}` : 'its Makefile has no VERSION/PATCHLEVEL'})`, {
      hint: 'pass the top directory of a Linux source tree, the one holding Makefile, Kconfig and arch/',
      context: { dir, missing },
    });
  }
  return version;
}

/** Identify a user's source directory (git checkout or plain tree) without writing to it. */
export async function resolveSourceDir(dirArg: string, gitRef?: string): Promise<KernelSource> {
  const dir = resolve(dirArg);
  const version = await assertKernelTree(dir);
  const top = await run('git', ['-C', dir, 'rev-parse', '--show-toplevel'], { reject: false });
  // Only a tree that is the top of its own repository is built from git (a kernel tarball
  // unpacked somewhere inside another repository is a plain tree).
  if (top.exitCode === 0 && realpathSync(top.stdout.trim()) === realpathSync(dir)) {
    const ref = gitRef ?? 'HEAD';
    const rev = await run('git', ['-C', dir, 'rev-parse', '--verify', `${ref}^{commit}`], {
      reject: false,
    });
    if (rev.exitCode !== 0) {
      throw new HarnessError('KERNEL_SRC_REF', `${ref} is not a commit in ${dir}`, {
        hint: 'name a branch, tag or commit that exists in the kernel repository',
        context: { dir, ref, stderr: rev.stderr.trim() },
      });
    }
    // Uncommitted changes to tracked files are not built (the harness checks out the commit): say so.
    const status = await run('git', ['-C', dir, 'status', '--porcelain', '--untracked-files=no'], { reject: false });
    return { kind: 'git', dir, commit: rev.stdout.trim(), dirty: gitRef === undefined && status.stdout.trim() !== '', version };
  }
  if (gitRef) {
    throw new HarnessError('KERNEL_SRC_REF', `${dir} is not a git checkout, so a git ref (${gitRef}) cannot be used`, {
      hint: 'drop the ref, or point at the git repository',
      context: { dir, gitRef },
    });
  }
  return { kind: 'tree', dir, manifest: await treeManifestHash(dir), version };
}

/**
 * A hash over every file's path, size and mtime: cheap (no content read) and it changes
 * whenever the user edits, adds or removes a file in the tree.
 */
export async function treeManifestHash(dir: string): Promise<string> {
  const r = await run('find', ['.', '-path', './.git', '-prune', '-o', '-type', 'f', '-printf', '%P\t%s\t%T@\n'], { cwd: dir });
  const lines = r.stdout.split('\n').filter(Boolean).sort();
  return sha256(lines.join('\n'));
}

export interface DebianSourceOptions {
  /** Debian suite to take the package from (default sid). */
  suite?: string;
  /** Package name, e.g. linux-source-7.2. */
  package: string;
}

/** The archive's fields of a linux-source package (nothing is downloaded but the package lists). */
export async function debianSourcePackage(opts: DebianSourceOptions): Promise<Record<string, string>> {
  const suite = opts.suite ?? 'sid';
  const apt = await privateApt(suite);
  const fields = await showPackage(apt, opts.package);
  if (!fields || !fields.Version) {
    throw new HarnessError('KERNEL_SRC_PACKAGE', `Debian ${suite} has no package ${opts.package}`, {
      hint: `list the available ones with: apt-cache search --names-only '^linux-source' (suite ${suite})`,
      context: { suite, package: opts.package },
    });
  }
  return fields;
}

/**
 * Download and unpack a Debian linux-source package once: the tree lands in
 * `<cache>/kernel-src/<key>/tree`, keyed by package, version and the .deb's sha256.
 */
export async function fetchDebianKernelSource(opts: DebianSourceOptions): Promise<KernelSource & { kind: 'debian' }> {
  const suite = opts.suite ?? 'sid';
  const fields = await debianSourcePackage(opts);
  const debVersion = fields.Version!;
  const debSha256 = fields.SHA256 ?? '';
  const key = hashParts({ package: opts.package, version: debVersion, sha256: debSha256 });
  const entry = await cached(
    'kernel-src',
    key,
    async (tmp) => {
      const debDir = join(tmp, 'deb');
      await downloadPackages(await privateApt(suite), [`${opts.package}=${debVersion}`], debDir);
      const debs = (await readdir(debDir)).filter((f) => f.endsWith('.deb'));
      if (debs.length !== 1) throw new HarnessError('KERNEL_SRC_PACKAGE', `expected one .deb for ${opts.package}, found ${debs.length}`, { context: { debDir, debs } });
      const deb = join(debDir, debs[0]!);
      const got = sha256(await readFile(deb));
      if (debSha256 && got !== debSha256) {
        throw new HarnessError('KERNEL_SRC_CHECKSUM', `${debs[0]} has sha256 ${got}, the archive says ${debSha256}`, {
          hint: 'retry; if it persists the mirror is serving a stale or corrupt file',
          context: { deb },
        });
      }
      const extracted = join(tmp, 'extracted');
      await run('dpkg-deb', ['-x', deb, extracted]);
      const srcDir = join(extracted, 'usr', 'src');
      const tarball = (await readdir(srcDir)).find((f) => /^linux-source-.*\.tar\.(xz|gz|bz2|zst)$/.test(f));
      if (!tarball) throw new HarnessError('KERNEL_SRC_PACKAGE', `${opts.package} holds no linux-source tarball in /usr/src`, { context: { srcDir } });
      const tree = join(tmp, 'tree');
      await run('mkdir', ['-p', tree]);
      await run('tar', ['-xaf', join(srcDir, tarball), '-C', tree, '--strip-components=1', '--no-same-owner'], {
        timeoutMs: 30 * 60 * 1000,
        hint: 'tar needs xz-utils to unpack the source (apt-get install xz-utils)',
      });
      await rm(extracted, { recursive: true, force: true });
      await rm(debDir, { recursive: true, force: true });
    },
    { package: opts.package, version: debVersion, sha256: debSha256, suite },
  );
  const dir = join(entry.dir, 'tree');
  const version = await assertKernelTree(dir);
  return { kind: 'debian', dir, package: opts.package, debVersion, debSha256, version };
}

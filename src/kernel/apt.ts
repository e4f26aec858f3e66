/**
 * A private apt configuration per Debian suite, kept in the harness cache, so that
 * kernel packages and sources can be looked up and downloaded without touching the
 * system's apt sources or state.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lock } from '../cache.js';
import { HarnessError } from '../errors.js';
import { cacheDir } from '../paths.js';
import { run } from '../proc.js';

export const DEBIAN_MIRROR = 'http://deb.debian.org/debian';
const LISTS_MAX_AGE_MS = 12 * 3600 * 1000;

export interface PrivateApt {
  suite: string;
  /** When the package lists were last fetched (ISO time): answers derived from them stay valid until it changes. */
  listsUpdated: string;
  /** `-o` options that point apt-get/apt-cache at the private configuration. */
  options: string[];
}

export async function privateApt(suite: string, mirror = DEBIAN_MIRROR): Promise<PrivateApt> {
  const root = join(cacheDir('apt'), suite);
  const options = [
    `-o`, `Dir::Etc::SourceList=${join(root, 'sources.list')}`,
    `-o`, `Dir::Etc::SourceParts=/dev/null`,
    `-o`, `Dir::State=${join(root, 'state')}`,
    `-o`, `Dir::State::status=/dev/null`,
    `-o`, `Dir::Cache=${join(root, 'cache')}`,
    `-o`, `APT::Architecture=amd64`,
    `-o`, `APT::Sandbox::User=root`,
    `-o`, `Debug::NoLocking=1`,
  ];
  await mkdir(join(root, 'state', 'lists', 'partial'), { recursive: true });
  await mkdir(join(root, 'cache', 'archives', 'partial'), { recursive: true });
  const release = await lock(join(root, 'update.lock'));
  let unknownSuite = false;
  try {
    await writeFile(
      join(root, 'sources.list'),
      `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${mirror} ${suite} main\n`,
    );
    const stamp = join(root, 'state', 'updated');
    if (!existsSync(stamp) || Date.now() - statSync(stamp).mtimeMs > LISTS_MAX_AGE_MS) {
      await run('apt-get', [...options, '-q', 'update'], {
        timeoutMs: 10 * 60 * 1000,
        errorCode: 'APT_UPDATE_FAILED',
        hint: `check that ${mirror} is reachable and that the debian-archive-keyring package is installed`,
      }).catch(async (e: unknown) => {
        // A suite the archive does not have is the user's typo, not the network's fault: say
        // so in one line, and leave nothing of it in the cache.
        if (!(e instanceof Error) || !/does not have a Release file/.test(e.message)) throw e;
        unknownSuite = true;
        throw new HarnessError('KERNEL_SUITE_UNKNOWN', `Debian's archive has no suite "${suite}"`, {
          hint: 'name a Debian suite or codename: sid (unstable), trixie (stable), bookworm (oldstable), experimental, or CODENAME-backports',
          context: { suite, mirror },
        });
      });
      await writeFile(stamp, new Date().toISOString());
    }
  } finally {
    await release();
    if (unknownSuite) await rm(root, { recursive: true, force: true });
  }
  return { suite, options, listsUpdated: readFileSync(join(root, 'state', 'updated'), 'utf8').trim() };
}

/** `apt-cache show` fields of the candidate version of a package, or undefined when unknown. */
export async function showPackage(apt: PrivateApt, name: string): Promise<Record<string, string> | undefined> {
  const r = await run('apt-cache', [...apt.options, 'show', '--no-all-versions', name], { reject: false });
  if (r.exitCode !== 0 || !r.stdout.trim()) return undefined;
  return parseControl(r.stdout);
}

export async function downloadPackages(apt: PrivateApt, names: string[], destDir: string): Promise<void> {
  await mkdir(destDir, { recursive: true });
  await run('apt-get', [...apt.options, '-q', 'download', ...names], {
    cwd: destDir,
    timeoutMs: 20 * 60 * 1000,
    errorCode: 'APT_DOWNLOAD_FAILED',
    hint: `check the package names against \`apt-cache show\` for ${apt.suite}`,
  });
}

/** Parse one Debian control paragraph (continuation lines folded into their field). */
export function parseControl(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  let last: string | undefined;
  for (const line of text.split('\n')) {
    if (line === '') {
      if (Object.keys(fields).length) break;
      continue;
    }
    if (/^\s/.test(line) && last) {
      fields[last] += `\n${line.trim()}`;
      continue;
    }
    const m = /^([A-Za-z0-9-]+):\s?(.*)$/.exec(line);
    if (m) {
      last = m[1]!;
      fields[last] = m[2]!;
    }
  }
  return fields;
}

/** Names in a Depends field (alternatives and version constraints dropped; first alternative kept). */
export function dependsNames(field: string | undefined): string[] {
  if (!field) return [];
  return field
    .split(',')
    .map((d) => d.split('|')[0]!.trim().replace(/\s*\(.*\)$/, '').replace(/:any$/, ''))
    .filter(Boolean);
}

export function assertRoot(what: string): void {
  if (process.getuid && process.getuid() !== 0) {
    throw new HarnessError('NOT_ROOT', `${what} needs root`, { hint: `run it as root (sudo -E cxl-harness ...)` });
  }
}

/**
 * A private apt configuration per Debian suite, kept in the harness cache, so that
 * kernel packages and sources can be looked up and downloaded without touching the
 * system's apt sources or state.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lock } from '../cache.js';
import { HarnessError } from '../errors.js';
import { cacheDir } from '../paths.js';
import { run } from '../exec.js';
import { progress } from '../progress.js';

export const DEBIAN_MIRROR = 'http://deb.debian.org/debian';
const LISTS_MAX_AGE_MS = 12 * 3600 * 1000;

export interface PrivateApt {
  suite: string;
  /** When the package lists were last fetched (ISO time): answers derived from them stay valid until it changes. */
  listsUpdated: string;
  /** `-o` options that point apt-get/apt-cache at the private configuration. */
  options: string[];
}

/**
 * The private apt configuration of a suite, with its package lists fetched at most every 12 h.
 * The lists are a cache entry like any other: fetched into a fresh state dir and renamed into
 * place only when apt said every index arrived (--error-on=any: without it apt-get update exits
 * 0 with nothing fetched, offline) and the suite's Packages list is there. A failed update keeps
 * nothing, and lists that are not whole are fetched again, never believed.
 */
export async function privateApt(suite: string, mirror = DEBIAN_MIRROR, { sources = false }: { sources?: boolean } = {}): Promise<PrivateApt> {
  // Source packages (apt-cache showsrc): a configuration of its own with the Sources index only,
  // so the binary one most runs use does not fetch it every 12 h, nor this one the Packages index.
  const root = join(cacheDir('apt'), sources ? `${suite}+src` : suite);
  const existed = existsSync(root);
  const optionsFor = (state: string): string[] => [
    `-o`, `Dir::Etc::SourceList=${join(root, 'sources.list')}`,
    `-o`, `Dir::Etc::SourceParts=/dev/null`,
    `-o`, `Dir::State=${state}`,
    `-o`, `Dir::State::status=/dev/null`,
    `-o`, `Dir::Cache=${join(root, 'cache')}`,
    `-o`, `APT::Architecture=amd64`,
    `-o`, `APT::Sandbox::User=root`,
    `-o`, `Debug::NoLocking=1`,
  ];
  const state = join(root, 'state');
  await mkdir(join(root, 'cache', 'archives', 'partial'), { recursive: true });
  const release = await lock(join(root, 'update.lock'));
  let keep = false;
  try {
    const line = (type: string): string => `${type} [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${mirror} ${suite} main\n`;
    await writeFile(join(root, 'sources.list'), line(sources ? 'deb-src' : 'deb'));
    const updated = wholeListsUpdated(state, suite, sources);
    if (!updated || Date.now() - Date.parse(updated) > LISTS_MAX_AGE_MS) {
      // A refresh that fails leaves the last whole lists as they were (and as old as they say):
      // an offline machine keeps working from them; with none, the failure is the answer.
      await updateLists(root, state, suite, mirror, optionsFor, sources).catch((e: unknown) => {
        if (!updated || (e instanceof HarnessError && e.code === 'KERNEL_SUITE_UNKNOWN')) throw e;
      });
    }
    keep = true;
  } finally {
    await release();
    // Nothing of a suite whose first update failed is kept: not its sources.list, not its dirs.
    if (!keep && !existed) await rm(root, { recursive: true, force: true });
  }
  return { suite, options: optionsFor(state), listsUpdated: wholeListsUpdated(state, suite, sources)! };
}

/** When a state dir's lists were fetched, if they are whole: the stamp written last, and the suite's Packages (or, for `sources`, Sources) list. */
export function wholeListsUpdated(state: string, suite: string, sources = false): string | undefined {
  const stamp = join(state, 'updated');
  if (!existsSync(stamp)) return undefined;
  const lists = join(state, 'lists');
  const packages = existsSync(lists) && readdirSync(lists).some((f) => f.includes(`_dists_${suite}_main_${sources ? 'source_Sources' : 'binary-amd64_Packages'}`) && statSync(join(lists, f)).size > 0);
  return packages ? readFileSync(stamp, 'utf8').trim() : undefined;
}

async function updateLists(root: string, state: string, suite: string, mirror: string, optionsFor: (state: string) => string[], sources: boolean): Promise<void> {
  const fresh = join(root, `state.tmp-${process.pid}`);
  await rm(fresh, { recursive: true, force: true });
  await mkdir(join(fresh, 'lists', 'partial'), { recursive: true });
  try {
    await run('apt-get', [...optionsFor(fresh), '-q', '--error-on=any', 'update'], {
      timeoutMs: 10 * 60 * 1000,
      errorCode: 'APT_UPDATE_FAILED',
      hint: `check that ${mirror} is reachable and that the debian-archive-keyring package is installed`,
    }).catch((e: unknown) => {
      // A suite the archive does not have is the user's typo, not the network's fault: say so in one line.
      if (e instanceof Error && /does not have a Release file/.test(e.message)) {
        throw new HarnessError('KERNEL_SUITE_UNKNOWN', `Debian's archive has no suite "${suite}"`, {
          hint: 'name a Debian suite or codename: sid (unstable), trixie (stable), bookworm (oldstable), experimental, or CODENAME-backports',
          context: { suite, mirror },
        });
      }
      throw e;
    });
    await writeFile(join(fresh, 'updated'), new Date().toISOString());
    if (!wholeListsUpdated(fresh, suite, sources)) {
      throw new HarnessError('APT_UPDATE_FAILED', `apt-get update for Debian ${suite} ended without the suite's package list`, {
        hint: `check that ${mirror} serves ${suite}/main for amd64`,
        context: { suite, mirror, state: fresh },
      });
    }
    const old = join(root, `state.old-${process.pid}`);
    if (existsSync(state)) await rename(state, old);
    await rename(fresh, state);
    await rm(old, { recursive: true, force: true });
  } finally {
    await rm(fresh, { recursive: true, force: true });
  }
}

/** `apt-cache show` fields of the candidate version of a package, or undefined when unknown. */
export async function showPackage(apt: PrivateApt, name: string): Promise<Record<string, string> | undefined> {
  const r = await run('apt-cache', [...apt.options, 'show', '--no-all-versions', name], { reject: false });
  if (r.exitCode !== 0 || !r.stdout.trim()) return undefined;
  return parseControl(r.stdout);
}

export async function downloadPackages(apt: PrivateApt, names: string[], destDir: string): Promise<void> {
  await mkdir(destDir, { recursive: true });
  // The live line: bytes in destDir against the packages' Size fields.
  const total = (await Promise.all(names.map((n) => showPackage(apt, n)))).reduce((sum, f) => sum + Number(f?.Size ?? 0), 0);
  progress.begin(`downloading ${names.length === 1 ? names[0] : `${names.length} packages`} from Debian ${apt.suite}`);
  const timer = setInterval(() => {
    void bytesIn(destDir).then((got) => progress.update(`${mib(got)} of ${total ? mib(total) : '?'} MiB`));
  }, 500);
  try {
    await run('apt-get', [...apt.options, '-q', 'download', ...names], {
      cwd: destDir,
      timeoutMs: 20 * 60 * 1000,
      errorCode: 'APT_DOWNLOAD_FAILED',
      hint: `check the package names against \`apt-cache show\` for ${apt.suite}`,
    });
  } finally {
    clearInterval(timer);
    progress.end();
  }
}

const mib = (bytes: number): string => (bytes / (1 << 20)).toFixed(1);

/** The bytes of the files in a download dir and its partial/ dir. */
async function bytesIn(dir: string): Promise<number> {
  let sum = 0;
  for (const d of [dir, join(dir, 'partial')]) {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (e.isFile()) sum += (await stat(join(d, e.name)).catch(() => ({ size: 0 }))).size;
    }
  }
  return sum;
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

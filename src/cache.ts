/**
 * The one content-addressed cache: kernels, root trees, images, initramfs, keys.
 * An entry is a directory `<root>/<kind>/<key>` that appears atomically (built in a
 * temp dir, then renamed) under a lock, so two runs at once never see half an entry
 * and never build the same entry twice.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HarnessError } from './errors.js';
import { cacheDir } from './paths.js';

/** sha256 over labelled parts, so that reordering or moving bytes between parts changes the key. */
export function hashParts(parts: Record<string, string | Buffer>): string {
  const h = createHash('sha256');
  for (const name of Object.keys(parts).sort()) {
    const value = parts[name]!;
    h.update(`${name}\0${value.length}\0`);
    h.update(value);
  }
  return h.digest('hex');
}

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

const COMPLETE = '.complete';

export interface CacheEntry {
  dir: string;
  key: string;
  /** True when the entry was already there. */
  hit: boolean;
}

/**
 * Return the cache entry `kind/key`, building it with `build(tmpDir)` when it is missing.
 * `meta` is written next to the content as `.meta.json` to say what the entry is.
 */
export async function cached(
  kind: string,
  key: string,
  build: (dir: string) => Promise<void>,
  meta: Record<string, unknown> = {},
): Promise<CacheEntry> {
  const base = cacheDir(kind);
  const dir = join(base, key);
  if (existsSync(join(dir, COMPLETE))) return { dir, key, hit: true };
  await mkdir(base, { recursive: true });
  const release = await lock(join(base, `${key}.lock`));
  try {
    if (existsSync(join(dir, COMPLETE))) return { dir, key, hit: true };
    const tmp = join(base, `${key}.tmp-${process.pid}`);
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    try {
      await build(tmp);
      await writeFile(join(tmp, '.meta.json'), JSON.stringify({ kind, key, createdAt: new Date().toISOString(), ...meta }, null, 2));
      await writeFile(join(tmp, COMPLETE), '');
      await rm(dir, { recursive: true, force: true });
      await rename(tmp, dir);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
      throw e;
    }
    return { dir, key, hit: false };
  } finally {
    await release();
  }
}

/** A complete entry as cached() left it, with what its `.meta.json` says it is. */
export interface StoredEntry {
  dir: string;
  key: string;
  meta: Record<string, unknown>;
}

/**
 * The complete entries of one kind, sorted by key: an entry being built (its temp dir, its
 * lock) is not one yet. An entry whose meta cannot be read is listed with an empty meta.
 */
export async function cachedEntries(kind: string): Promise<StoredEntry[]> {
  const base = cacheDir(kind);
  const keys = await readdir(base).catch(() => [] as string[]);
  const entries: StoredEntry[] = [];
  for (const key of keys.sort()) {
    const dir = join(base, key);
    if (!existsSync(join(dir, COMPLETE))) continue;
    const meta = await readFile(join(dir, '.meta.json'), 'utf8').then((t) => JSON.parse(t) as Record<string, unknown>, () => ({}));
    entries.push({ dir, key, meta });
  }
  return entries;
}

/**
 * A directory lock holding the owner's pid; a lock whose owner is dead is taken over.
 * Taking over is itself atomic: the waiter that renames the dead owner's pid file away is the
 * only one that removes the lock, so two waiters never both take it (and build twice).
 */
export async function lock(path: string, waitMs = 30 * 60 * 1000): Promise<() => Promise<void>> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      await mkdir(path);
      await writeFile(join(path, 'pid'), String(process.pid));
      return async () => {
        await rm(path, { recursive: true, force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = Number(await readFile(join(path, 'pid'), 'utf8').catch(() => ''));
    if (owner && !isAlive(owner)) {
      await takeOver(path, owner);
      continue;
    }
    if (!owner && (await ageMs(path)) > 60_000) {
      // An owner that died between mkdir and writing its pid left an empty lock behind.
      await rm(path, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new HarnessError('CACHE_LOCKED', `cache entry ${path} is locked by process ${owner || '?'} for too long`, {
        hint: 'wait for the other cxl-harness run to finish, or remove the lock directory if no such process exists',
        context: { path, owner },
      });
    }
    await sleep(Math.min(500, Math.max(50, deadline - Date.now())));
  }
}

/** Remove the lock at `path` if its pid file still names `deadOwner`; exported for the race test. */
export async function takeOver(path: string, deadOwner: number): Promise<void> {
  const claimed = join(path, `pid.claimed-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  try {
    await rename(join(path, 'pid'), claimed);
  } catch {
    return; // another waiter claimed it first
  }
  const pid = Number(await readFile(claimed, 'utf8').catch(() => ''));
  if (pid !== deadOwner) {
    // Between reading and renaming, a new owner took the lock: give its pid file back.
    await rename(claimed, join(path, 'pid')).catch(() => undefined);
    return;
  }
  await rm(path, { recursive: true, force: true });
}

async function ageMs(path: string): Promise<number> {
  try {
    return Date.now() - (await stat(path)).mtimeMs;
  } catch {
    return 0;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

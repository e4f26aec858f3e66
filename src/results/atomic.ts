/**
 * Writing results: a file is written to a temp name and renamed, so a reader never sees half
 * of it, and a failure that is the disk's or the directory's (full, read-only, no permission)
 * is one error naming the file and the cause.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { HarnessError } from '../errors.js';

const UNWRITABLE: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOTDIR: 'a parent of it is not a directory',
  EISDIR: 'it is a directory',
};

/** Run `fn`, turning an unwritable-path errno into RESULTS_UNWRITABLE naming `path`. */
export async function guard<T>(path: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code ? UNWRITABLE[code] : undefined;
    if (why) {
      throw new HarnessError('RESULTS_UNWRITABLE', `cannot write ${path}: ${why} (${code})`, {
        hint: code === 'ENOSPC' || code === 'EDQUOT' ? 'free space, or choose a results dir on another file system with --results DIR' : 'choose a writable results dir with --results DIR',
        cause: e,
        context: { path, code },
      });
    }
    throw e;
  }
}

/** Write `path` atomically (temp file + rename), its directory made first. */
export async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`;
  await guard(path, async () => {
    await mkdir(dirname(path), { recursive: true });
    try {
      await writeFile(tmp, text);
      await rename(tmp, path);
    } catch (e) {
      // A half-written temp file would only hold on to the space that ran out.
      await rm(tmp, { force: true }).catch(() => undefined);
      throw e;
    }
  });
}

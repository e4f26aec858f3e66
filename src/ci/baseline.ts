/** The nightly baseline: a results dir, or a symlink to one, read before a run and moved to a new run. */
import { cp, lstat, readlink, rename, rm, stat, symlink } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { HarnessError } from '../errors.js';
import type { RunSummary } from '../report/model.js';
import { readBootedSummary } from '../results/report-files.js';

export type BaselineAction = 'repointed' | 'created' | 'copied';

/**
 * Make `baseline` the new run: a symlink (or nothing) becomes a relative symlink to `newDir`,
 * atomically; a real directory is replaced by a copy of `newDir`.
 */
export async function advanceBaseline(baseline: string, newDir: string): Promise<BaselineAction> {
  const st = await lstat(baseline).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  const tmp = join(dirname(baseline), `.${basename(baseline)}.tmp-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  if (!st || st.isSymbolicLink()) {
    await symlink(relative(dirname(resolve(baseline)), resolve(newDir)) || '.', tmp);
    await rename(tmp, baseline);
    return st ? 'repointed' : 'created';
  }
  if (!st.isDirectory()) throw new HarnessError('BASELINE_INVALID', `${baseline} is neither a results dir nor a symlink to one`, { hint: 'point --baseline at a results dir' });
  await cp(newDir, tmp, { recursive: true, verbatimSymlinks: true });
  const old = join(dirname(baseline), `.${basename(baseline)}.old-${process.pid}`);
  await rename(baseline, old);
  await rename(tmp, baseline);
  await rm(old, { recursive: true, force: true });
  return 'copied';
}

/** What the baseline path holds before the run: a summary, or nothing (only when it may be created). */
export async function readBaseline(baseline: string, updateBaseline: boolean): Promise<RunSummary | undefined> {
  const exists = await stat(baseline).then(() => true, () => false); // follows symlinks: a dangling link is "missing"
  const isLink = await lstat(baseline).then((s) => s.isSymbolicLink(), () => false);
  if (!exists && updateBaseline) return undefined;
  if (!exists && isLink) {
    throw new HarnessError('RESULTS_MISSING', `baseline ${baseline} is a symlink to ${await readlink(baseline)}, which does not exist`, {
      hint: 'pass --update-baseline to let this run become the baseline',
    });
  }
  try {
    return await readBootedSummary(baseline, 'baseline ');
  } catch (e) {
    if (e instanceof HarnessError && !exists) {
      throw new HarnessError(e.code, `baseline ${e.message}`, { hint: 'pass an existing results dir, or --update-baseline to let this run become the first baseline', cause: e });
    }
    throw e;
  }
}

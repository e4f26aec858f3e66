/**
 * The inputs of a merge: results dirs found at or under the given paths (a shard's
 * --results-base, a CI download of every shard's artifacts), each read back and given the
 * group it merges into: its matrix entry's kernel and topology, else its summary's kernel identity.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { HarnessError } from '../errors.js';
import type { RunSummary } from '../report/model.js';
import { readBootedSummary } from '../results/report-files.js';
import { jobId } from './matrix.js';

const MAX_DEPTH = 3;

async function isFile(p: string): Promise<boolean> {
  return stat(p).then((s) => s.isFile(), () => false);
}

/**
 * Results dirs at or under `path` (itself when it holds summary.json), in name order; dirs
 * holding a merge.json (earlier merge outputs) and `skip` are not searched. Matrix job dirs
 * without a summary (the job could not start) are added to `notRun`.
 */
async function findResultsDirs(path: string, skip: readonly string[] = [], depth = MAX_DEPTH, notRun: string[] = []): Promise<string[]> {
  const abs = resolve(path);
  if (skip.includes(abs)) return [];
  if (await isFile(join(abs, 'summary.json'))) return [abs];
  if (await isFile(join(abs, 'matrix-job.json'))) {
    notRun.push(abs);
    return [];
  }
  if (depth === 0) return [];
  const entries = await readdir(abs, { withFileTypes: true }).catch(() => []);
  const found: string[] = [];
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (!e.isDirectory() && !e.isSymbolicLink()) continue;
    const sub = join(abs, e.name);
    if (!(await stat(sub).then((s) => s.isDirectory(), () => false))) continue;
    if (await isFile(join(sub, 'merge.json'))) continue;
    found.push(...(await findResultsDirs(sub, skip, depth - 1, notRun)));
  }
  return found;
}

interface MatrixJobFile {
  kernel?: string;
  topology?: string;
}

export interface Shard {
  dir: string;
  summary: RunSummary;
  /** The group key and its filesystem-safe name. */
  key: string;
  name: string;
}

async function groupOf(dir: string, s: RunSummary): Promise<{ key: string; name: string }> {
  const job = await readFile(join(dir, 'matrix-job.json'), 'utf8').then((t) => JSON.parse(t) as MatrixJobFile, () => undefined);
  if (job?.kernel && job.topology) {
    return { key: `matrix\u0000${job.kernel}\u0000${job.topology}`, name: jobId(job.kernel, job.topology, '_').replace(/___$/, '') };
  }
  const k = s.kernel;
  const topology = s.topology?.name ?? 'no-topology';
  const fields = [k?.origin, k?.release, k?.package, k?.sourceVersion, k?.gitCommit, k?.patchsetHash];
  const kernel = k ? [k.package ?? k.release ?? k.sourceVersion ?? k.origin, k.patchsetHash ? k.patchsetHash.slice(0, 12) : ''].filter(Boolean).join('+') : 'no-kernel';
  return { key: `summary\u0000${JSON.stringify(fields)}\u0000${topology}`, name: jobId(kernel, topology, '_').replace(/___$/, '') };
}

/** Every results dir under `inputs` (once each, `out` left out), read back with its group. */
export async function loadShards(inputs: readonly string[], out: string, notRun: string[] = []): Promise<Shard[]> {
  const skip = [resolve(out)];
  const shards: Shard[] = [];
  const seen = new Set<string>();
  for (const input of inputs) {
    const exists = await stat(input).then((s) => s.isDirectory(), () => false);
    if (!exists) throw new HarnessError('RESULTS_MISSING', `${input} is not a directory`, { hint: 'pass results dirs (or dirs holding them) made by cxl-harness run or matrix --run' });
    const dirs = await findResultsDirs(input, skip, MAX_DEPTH, notRun);
    if (dirs.length === 0 && notRun.length === 0) {
      throw new HarnessError('RESULTS_MISSING', `${input} holds no results dir: no summary.json in it or up to ${MAX_DEPTH} levels below`, {
        hint: 'pass results dirs made by cxl-harness run or matrix --run (did the shard artifacts download?)',
      });
    }
    for (const dir of dirs) {
      if (seen.has(dir)) continue;
      seen.add(dir);
      const summary = await readBootedSummary(dir);
      shards.push({ dir, summary, ...(await groupOf(dir, summary)) });
    }
  }
  return shards;
}

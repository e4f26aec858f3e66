/**
 * Join the results dirs of shards (CI jobs that ran parts of one matrix) into one report. Runs
 * of the same kernel and topology are merged into one RunSummary (report/merge.ts); several
 * kernels or topologies give one merged report per group under OUT, plus an index (merge.json)
 * and a combined KCIDB file.
 */
import { join, relative, resolve, sep } from 'node:path';
import { ExitCode, HarnessError } from '../errors.js';
import { toKcidb, type KcidbData, type KcidbOptions } from '../report/kcidb.js';
import { mergeShards } from '../report/merge.js';
import type { RunSummary } from '../report/model.js';
import { worstExitCode } from '../report/verdict.js';
import { writeAtomic } from '../results/atomic.js';
import { writeReports } from '../results/report-files.js';
import { loadShards, type Shard } from './shards.js';

export interface MergedGroup {
  name: string;
  /** Where the merged report was written. */
  dir: string;
  summary: RunSummary;
  inputs: string[];
}

/** Group `shards` and merge each group; paths in the merged summaries are relative to where each group is written. */
function mergeGroups(shards: readonly Shard[], out: string, options: { runId?: string } = {}): MergedGroup[] {
  const groups = new Map<string, Shard[]>();
  for (const s of shards) groups.set(s.key, [...(groups.get(s.key) ?? []), s]);
  const names = new Set<string>();
  const single = groups.size === 1;
  const merged: MergedGroup[] = [];
  for (const members of groups.values()) {
    let name = members[0]!.name;
    for (let n = 2; names.has(name); n++) name = `${members[0]!.name}-${n}`;
    names.add(name);
    const dir = single ? resolve(out) : join(resolve(out), name);
    const runId = options.runId ? (single ? options.runId : `${options.runId}-${name}`) : undefined;
    const summary = mergeShards(members.map((m) => m.summary), {
      shardDirs: members.map((m) => posixRelative(dir, m.dir) || '.'),
      ...(runId ? { runId } : {}),
    });
    merged.push({ name: single ? '.' : name, dir, summary, inputs: members.map((m) => m.dir) });
  }
  return merged;
}

export interface MergeRequest {
  inputs: readonly string[];
  out: string;
  runId?: string;
  kcidb: KcidbOptions;
  /** The directory published at kcidb.artifactsBaseUrl (default: the deepest one holding OUT and every results dir). */
  artifactsRoot?: string;
}

/** merge.json: the exit code, each group's report, and the matrix jobs that never started. */
export interface MergeIndex {
  schema: 1;
  exitCode: number;
  groups: { name: string; dir: string; runId: string; outcome: RunSummary['outcome']; exitCode: number; checks: number; inputs: string[] }[];
  notRun: string[];
}

export interface MergeResult {
  index: MergeIndex;
  groups: MergedGroup[];
  /** How many results dirs were merged. */
  shards: number;
  /** Matrix job dirs without a summary. */
  notRun: string[];
}

/** Merge, write every group's report files, OUT/merge.json and (with several groups) OUT/kcidb.json. */
export async function mergeResults(r: MergeRequest): Promise<MergeResult> {
  const out = resolve(r.out);
  const notRun: string[] = [];
  const shards = await loadShards(r.inputs, out, notRun);
  const groups = mergeGroups(shards, out, r.runId ? { runId: r.runId } : {});
  const root = r.artifactsRoot ? resolve(r.artifactsRoot) : commonAncestor([out, ...shards.map((s) => s.dir)]);
  const combined: KcidbData = { version: { major: 5, minor: 0 }, checkouts: [], builds: [], tests: [] };
  for (const g of groups) {
    const kcidb = { ...r.kcidb, ...(r.kcidb.artifactsBaseUrl ? { artifactsBaseUrl: urlOf(r.kcidb.artifactsBaseUrl, root, g.dir) } : {}) };
    await writeReports(g.dir, g.summary, { summary: true, kcidb, transformKcidb: normalizeUrls });
    const data = normalizeUrls(toKcidb(g.summary, kcidb));
    combined.checkouts.push(...data.checkouts);
    combined.builds.push(...data.builds);
    combined.tests.push(...data.tests);
  }
  // A matrix job that never started has no summary to merge; it still makes the merge an infrastructure error.
  const exitCode = worstExitCode([...groups.map((g) => g.summary.exitCode), ...(notRun.length > 0 ? [ExitCode.infrastructure] : [])]);
  const index: MergeIndex = {
    schema: 1,
    exitCode,
    groups: groups.map((g) => ({
      name: g.name,
      dir: relative(out, g.dir) || '.',
      runId: g.summary.runId,
      outcome: g.summary.outcome,
      exitCode: g.summary.exitCode,
      checks: g.summary.checks.length,
      inputs: g.inputs.map((d) => posixRelative(out, d)),
    })),
    notRun: notRun.map((d) => posixRelative(out, d)),
  };
  await writeAtomic(join(out, 'merge.json'), JSON.stringify(index, null, 2) + '\n');
  if (groups.length > 1) await writeAtomic(join(out, 'kcidb.json'), JSON.stringify(combined, null, 2) + '\n');
  return { index, groups, shards: shards.length, notRun };
}

function posixRelative(from: string, to: string): string {
  return relative(from, to).split(sep).join('/');
}

/** The deepest directory holding every path. */
function commonAncestor(paths: readonly string[]): string {
  const split = paths.map((p) => resolve(p).split(sep));
  const first = split[0] ?? [sep];
  let n = 0;
  while (n < first.length && split.every((parts) => parts[n] === first[n])) n++;
  return first.slice(0, n).join(sep) || sep;
}

/** The URL of `dir` when `root` is published at `url`. */
function urlOf(url: string, root: string, dir: string): string {
  const rel = relative(root, dir).split(sep).filter(Boolean);
  if (rel[0] === '..') {
    throw new HarnessError('USAGE', `--artifacts-root ${root} does not hold ${dir}`, { hint: 'choose a root above --out and every results dir' });
  }
  return [url.replace(/\/+$/, ''), ...rel.map(encodeURIComponent)].join('/');
}

/** Resolve the ../ of evidence paths in output_files URLs (they stay under the published root). */
function normalizeUrls(data: KcidbData): KcidbData {
  const fix = (u: string): string => {
    try {
      return new URL(u).href;
    } catch {
      return u;
    }
  };
  return { ...data, tests: data.tests.map((x) => (x.output_files ? { ...x, output_files: x.output_files.map((f) => ({ ...f, url: fix(f.url) })) } : x)) };
}

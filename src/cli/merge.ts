/**
 * `cxl-harness merge DIR... --out OUT`: join the results dirs of shards (CI jobs that ran parts
 * of one matrix) into one report. Runs of the same kernel and topology are merged into one
 * RunSummary (src/report/merge.ts); a matrix with several kernels or topologies gives one
 * merged report per (kernel, topology) under OUT, plus an index and a combined KCIDB file.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { ExitCode, HarnessError } from '../errors.js';
import { toKcidb, type KcidbData } from '../report/kcidb.js';
import { jobId } from '../report/matrix.js';
import { mergeShards } from '../report/merge.js';
import type { RunSummary } from '../report/model.js';
import { renderSummary, shouldColor } from '../report/render.js';
import { kcidbOptionsFrom, parse } from './args.js';
import { worstExitCode } from './matrix.js';
import { readBootedSummary, writeAtomic, writeReports } from '../results/report-files.js';
import { processIo, type Io } from './io.js';

export const MERGE_HELP = `cxl-harness merge DIR... --out OUT [--run-id ID] [--origin NAME] [--artifacts-url URL [--artifacts-root ROOT]] [--json]

Join shard results into one report. Each DIR is a results dir (it holds summary.json) or a
directory holding results dirs up to 3 levels down (a shard's --results-base, or a CI
download of every shard's artifacts); dirs holding a merge.json (earlier merge outputs) and
OUT itself are skipped when searching.

Results dirs of the same kernel and topology (by the matrix entry in matrix-job.json when
present, else by the kernel identity in summary.json) are merged into one run: checks,
findings and steps of all shards, the worst outcome, timings of the slowest shard; evidence
and log paths are rewritten relative to the merged dir so they still resolve.
  - one kernel/topology: OUT gets summary.json, results.tap, junit.xml, kcidb.json, merge.json
    (so \`cxl-harness report OUT\` and \`cxl-harness compare\` work on it);
  - several: OUT/<kernel>__<topology>/ gets those files for each, OUT/merge.json lists them and
    OUT/kcidb.json holds all of them (one KCIDB submission).

  --run-id ID            the merged run's id (default: the shard run ids joined with +);
                         with several groups, ID-<group>
  --origin NAME          KCIDB origin (default cxl_harness)
  --artifacts-url URL    where ROOT is published: KCIDB output_files become URLs under it
  --artifacts-root ROOT  the directory published at URL (default: the deepest directory holding
                         OUT and every results dir, e.g. the CI download dir); evidence paths of
                         each merged report are resolved against it, so upload all of ROOT
  --json                 print merge.json on stdout instead of the summary table(s)

A check id found in two shards of one group is an error (a shard ran twice or the split is wrong).
A matrix job dir with matrix-job.json but no summary.json (the job could not start) is listed
in merge.json's notRun and makes the exit code at least 2.
Exit codes: the merged run's exit code, the worst over groups (0 pass, 1 a check failed or a
console finding, 2 infrastructure error or hang, 3 kernel crash, 4 nothing judged, 130/143 interrupted);
2 also when a DIR has no results dir, shards do not fit together, or on bad options.`;

const MAX_DEPTH = 3;

async function isFile(p: string): Promise<boolean> {
  return stat(p).then((s) => s.isFile(), () => false);
}

/**
 * Results dirs at or under `path` (itself when it holds summary.json), in name order.
 * Matrix job dirs without a summary (the job could not start) are added to `notRun`.
 */
export async function findResultsDirs(path: string, skip: readonly string[] = [], depth = MAX_DEPTH, notRun: string[] = []): Promise<string[]> {
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

export interface MergedGroup {
  name: string;
  /** Where the merged report was written. */
  dir: string;
  summary: RunSummary;
  inputs: string[];
}

/** Group `shards` and merge each group; paths in the merged summaries are relative to where each group is written. */
export function mergeGroups(shards: readonly Shard[], out: string, options: { runId?: string } = {}): MergedGroup[] {
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
      shardDirs: members.map((m) => relative(dir, m.dir).split(sep).join('/') || '.'),
      ...(runId ? { runId } : {}),
    });
    merged.push({ name: single ? '.' : name, dir, summary, inputs: members.map((m) => m.dir) });
  }
  return merged;
}

export async function mergeCommand(argv: string[], io: Io = processIo): Promise<number> {
  const { values, positionals } = parse(argv, {
    out: { type: 'string' },
    'run-id': { type: 'string' },
    origin: { type: 'string' },
    'artifacts-url': { type: 'string' },
    'artifacts-root': { type: 'string' },
    json: { type: 'boolean' },
  }, MERGE_HELP, { positionals: true });
  if (values['artifacts-root'] && !values['artifacts-url']) throw new HarnessError('USAGE', '--artifacts-root only goes with --artifacts-url');
  if (!values.out) throw new HarnessError('USAGE', `merge needs --out DIR\n\n${MERGE_HELP}`);
  if (positionals.length === 0) throw new HarnessError('USAGE', `merge needs at least one results dir\n\n${MERGE_HELP}`);
  const out = resolve(values.out);
  const kcidbBase = kcidbOptionsFrom(values);
  const notRun: string[] = [];
  const shards = await loadShards(positionals, out, notRun);
  const groups = mergeGroups(shards, out, values['run-id'] ? { runId: values['run-id'] } : {});

  const root = values['artifacts-root'] ? resolve(values['artifacts-root']) : commonAncestor([out, ...shards.map((s) => s.dir)]);
  const combined: KcidbData = { version: { major: 5, minor: 0 }, checkouts: [], builds: [], tests: [] };
  for (const g of groups) {
    const kcidb = { ...kcidbBase, ...(kcidbBase.artifactsBaseUrl ? { artifactsBaseUrl: urlOf(kcidbBase.artifactsBaseUrl, root, g.dir) } : {}) };
    await writeReports(g.dir, g.summary, { summary: true, kcidb, transformKcidb: normalizeUrls });
    const data = normalizeUrls(toKcidb(g.summary, kcidb));
    combined.checkouts.push(...data.checkouts);
    combined.builds.push(...data.builds);
    combined.tests.push(...data.tests);
  }
  // A matrix job that never started has no summary to merge; it still makes the merge an infrastructure error.
  const exitCode = worstExitCode([...groups.map((g) => g.summary.exitCode), ...(notRun.length > 0 ? [ExitCode.infrastructure] : [])]);
  for (const d of notRun) io.err(`merge: matrix job ${d} has no summary.json (it did not start; see its matrix-job.json)\n`);
  const index = {
    schema: 1,
    exitCode,
    groups: groups.map((g) => ({
      name: g.name,
      dir: relative(out, g.dir) || '.',
      runId: g.summary.runId,
      outcome: g.summary.outcome,
      exitCode: g.summary.exitCode,
      checks: g.summary.checks.length,
      inputs: g.inputs.map((d) => relative(out, d).split(sep).join('/')),
    })),
    notRun: notRun.map((d) => relative(out, d).split(sep).join('/')),
  };
  await writeAtomic(join(out, 'merge.json'), JSON.stringify(index, null, 2) + '\n');
  if (groups.length > 1) await writeAtomic(join(out, 'kcidb.json'), JSON.stringify(combined, null, 2) + '\n');

  if (values.json) io.out(JSON.stringify(index, null, 2) + '\n');
  else {
    const color = shouldColor(io.env, io.isTTY);
    for (const g of groups) {
      io.out(renderSummary(g.summary, { color, resultsDir: relative(process.cwd(), g.dir) || '.' }));
      if (groups.length > 1) io.out('\n');
    }
    if (groups.length > 1) {
      io.out(`merged ${shards.length} results dirs into ${groups.length} reports under ${out}:\n`);
      for (const g of index.groups) io.out(`  ${String(g.exitCode).padStart(3)}  ${g.outcome.padEnd(20)}  ${g.dir}\n`);
    }
  }
  io.err(`merged ${shards.length} results dir(s) into ${out} (exit ${exitCode})\n`);
  return exitCode;
}

/** The deepest directory holding every path. */
export function commonAncestor(paths: readonly string[]): string {
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

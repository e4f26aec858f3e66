/**
 * Join the summaries of shards of one run (same kernel, same topology, suites split across
 * CI jobs) into one summary, as if one job had run them all. Paths are re-rooted under each
 * shard's directory so evidence and logs still resolve from the merged results dir.
 */
import { posix } from 'node:path';
import { HarnessError } from '../errors.js';
import type { KernelIdentity, Outcome, RunSummary } from './model.js';
import { exitCodeFor, outcomeOf, type OutcomeOptions } from './verdict.js';

export interface MergeOptions extends OutcomeOptions {
  /** The merged run's id; defaults to the shard ids joined with `+`. */
  runId?: string;
  /** Each shard's results dir relative to the merged one (same order as the shards); paths get this prefix. */
  shardDirs?: string[];
}

/** Worst first: the merged outcome is the worst shard's. */
const SEVERITY: Outcome[] = ['kernel-crash', 'hang', 'infrastructure-error', 'interrupted', 'fail', 'skip', 'pass'];

function sameKernel(a: KernelIdentity | undefined, b: KernelIdentity | undefined): boolean {
  if (!a || !b) return a === b;
  const keys: (keyof KernelIdentity)[] = ['origin', 'release', 'package', 'sourceVersion', 'gitCommit', 'patchsetHash'];
  return keys.every((k) => a[k] === undefined || b[k] === undefined || a[k] === b[k]);
}

function describeKernel(k: KernelIdentity | undefined): string {
  return k ? `${k.origin} ${k.release ?? k.package ?? k.sourceVersion ?? '?'}` : 'none';
}

export function mergeShards(shards: readonly RunSummary[], options: MergeOptions = {}): RunSummary {
  const first = shards[0];
  if (!first) {
    throw new HarnessError('REPORT_MERGE_EMPTY', 'No shard summaries to merge.', {
      hint: 'Pass the summary.json of every shard of the run.',
    });
  }
  const dirs = options.shardDirs;
  if (dirs && dirs.length !== shards.length) {
    throw new HarnessError('REPORT_MERGE_DIRS', `Got ${dirs.length} shard dirs for ${shards.length} shards.`, {
      hint: 'Give one directory per shard summary, in the same order.',
    });
  }
  const at = (i: number, p: string): string => (dirs?.[i] ? posix.join(dirs[i] as string, p) : p);

  const seen = new Map<string, number>();
  shards.forEach((s, i) => {
    if (!sameKernel(first.kernel, s.kernel)) {
      throw new HarnessError(
        'REPORT_MERGE_MISMATCH',
        `Shard ${i} (${s.runId}) tested kernel ${describeKernel(s.kernel)}, shard 0 tested ${describeKernel(first.kernel)}.`,
        { hint: 'Merge only shards of the same kernel and topology; compare different kernels with compareRuns.' },
      );
    }
    if ((s.topology?.name ?? '') !== (first.topology?.name ?? '')) {
      throw new HarnessError(
        'REPORT_MERGE_MISMATCH',
        `Shard ${i} (${s.runId}) used topology ${s.topology?.name ?? 'none'}, shard 0 used ${first.topology?.name ?? 'none'}.`,
        { hint: 'Merge only shards of the same kernel and topology.' },
      );
    }
    for (const c of s.checks) {
      const other = seen.get(c.id);
      if (other !== undefined) {
        throw new HarnessError('REPORT_MERGE_DUPLICATE_CHECK', `Check ${c.id} appears in shard ${other} and shard ${i}.`, {
          hint: 'Each check must run in exactly one shard; check the shard split.',
        });
      }
      seen.set(c.id, i);
    }
  });

  const worst = SEVERITY.find((o) => shards.some((s) => s.outcome === o)) ?? 'pass';
  const worstShard = shards.find((s) => s.outcome === worst) ?? first;
  const finished = shards.map((s) => s.finishedAt);
  const timings: Record<string, number> = {};
  for (const s of shards) {
    for (const [k, v] of Object.entries(s.timings)) timings[k] = Math.max(timings[k] ?? 0, v);
  }
  const observations = new Map<string, RunSummary['observations'][number]>();
  for (const s of shards) for (const o of s.observations) observations.set(`${o.id}\u0000${o.check ?? ''}`, o);
  const suites = [...new Set(shards.map((s) => s.suite).filter((x): x is string => x !== undefined))];

  const merged: RunSummary = {
    schema: 1,
    tool: first.tool,
    runId: options.runId ?? shards.map((s) => s.runId).join('+'),
    startedAt: shards.map((s) => s.startedAt).reduce((a, b) => (Date.parse(b) < Date.parse(a) ? b : a)),
    outcome: worst,
    exitCode: 0,
    steps: shards.flatMap((s, i) => s.steps.map((st) => (st.log ? { ...st, log: at(i, st.log) } : st))),
    checks: shards.flatMap((s, i) => s.checks.map((c) => ({ ...c, evidence: c.evidence.map((e) => at(i, e)) }))),
    observations: [...observations.values()],
    findings: shards.flatMap((s, i) => s.findings.map((f) => ({ ...f, log: at(i, f.log ?? 'console.log') }))),
    timings,
  };
  if (finished.every((f): f is string => f !== undefined)) {
    merged.finishedAt = finished.reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a));
  }
  if (worstShard.error) merged.error = worstShard.error;
  const kernel = shards.find((s) => s.kernel)?.kernel;
  if (kernel) merged.kernel = kernel;
  if (first.qemu) merged.qemu = first.qemu;
  if (first.topology) merged.topology = first.topology;
  if (suites.length > 0) merged.suite = suites.join(',');
  const generation = shards.find((s) => s.generation)?.generation;
  if (generation) merged.generation = generation;

  merged.outcome = outcomeOf(merged, options);
  const interrupted = shards.find((s) => s.outcome === 'interrupted');
  merged.exitCode = exitCodeFor(merged.outcome, interrupted?.exitCode === 143 ? 'SIGTERM' : 'SIGINT');
  return merged;
}

/**
 * The CI job list: kernels x topologies x suites, in a stable order, as a GitHub Actions
 * `strategy.matrix` (`{"include": [...]}`) or a GitLab `parallel:matrix`, and sliced into
 * shards that together cover every job exactly once.
 */
import { HarnessError } from '../errors.js';

export interface MatrixJob {
  /** Stable, filesystem- and artifact-name-safe: `<kernel>__<topology>__<suite>`. */
  id: string;
  kernel: string;
  topology: string;
  suite: string;
}

export interface MatrixAxes {
  kernels: readonly string[];
  topologies: readonly string[];
  suites: readonly string[];
  /** Combinations to leave out; an omitted field matches anything. */
  exclude?: readonly Partial<Omit<MatrixJob, 'id'>>[];
}

const safe = (s: string): string => s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || '_';

export function jobId(kernel: string, topology: string, suite: string): string {
  return `${safe(kernel)}__${safe(topology)}__${safe(suite)}`;
}

/**
 * Every combination, kernel-major (jobs of one kernel are adjacent, so contiguous shards
 * share kernel builds), in the order the axes are given. Duplicate axis values are dropped.
 */
export function buildMatrix(axes: MatrixAxes): MatrixJob[] {
  const uniq = (xs: readonly string[]): string[] => [...new Set(xs)];
  const excluded = (j: Omit<MatrixJob, 'id'>): boolean =>
    (axes.exclude ?? []).some(
      (e) =>
        (e.kernel === undefined || e.kernel === j.kernel) &&
        (e.topology === undefined || e.topology === j.topology) &&
        (e.suite === undefined || e.suite === j.suite),
    );
  const jobs: MatrixJob[] = [];
  const ids = new Map<string, MatrixJob>();
  for (const kernel of uniq(axes.kernels)) {
    for (const topology of uniq(axes.topologies)) {
      for (const suite of uniq(axes.suites)) {
        if (excluded({ kernel, topology, suite })) continue;
        const job = { id: jobId(kernel, topology, suite), kernel, topology, suite };
        const clash = ids.get(job.id);
        if (clash) {
          throw new HarnessError(
            'MATRIX_ID_CLASH',
            `Jobs ${JSON.stringify([clash.kernel, clash.topology, clash.suite])} and ${JSON.stringify([kernel, topology, suite])} get the same id ${job.id}.`,
            { hint: 'Rename one of the kernels, topologies or suites so their safe names differ.' },
          );
        }
        ids.set(job.id, job);
        jobs.push(job);
      }
    }
  }
  return jobs;
}

/**
 * Shard `index` of `count` (1-based, like `--shard 2/4`): contiguous, sizes differing by at
 * most one, the first shards taking the remainder. All shards together are the jobs, once each.
 */
export function shard<T>(jobs: readonly T[], index: number, count: number): T[] {
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 1 || index > count) {
    throw new HarnessError('MATRIX_BAD_SHARD', `Shard ${index}/${count} does not exist.`, {
      hint: 'Use --shard i/n with 1 <= i <= n.',
    });
  }
  const base = Math.floor(jobs.length / count);
  const extra = jobs.length % count;
  const start = (index - 1) * base + Math.min(index - 1, extra);
  const size = base + (index <= extra ? 1 : 0);
  return jobs.slice(start, start + size);
}

/** Parse `i/n` as given on a command line. */
export function parseShard(spec: string): { index: number; count: number } {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(spec);
  if (!m) {
    throw new HarnessError('MATRIX_BAD_SHARD', `Cannot read shard "${spec}".`, { hint: 'Write it as i/n, e.g. 2/4.' });
  }
  const index = Number(m[1]);
  const count = Number(m[2]);
  shard([], index, count); // validates
  return { index, count };
}

/** For `strategy.matrix: ${{ fromJSON(needs.plan.outputs.matrix) }}`. */
export function toGitHubMatrix(jobs: readonly MatrixJob[]): { include: MatrixJob[] } {
  return { include: jobs.map((j) => ({ ...j })) };
}

/** GitLab refuses a `parallel:matrix` that expands to more jobs than this. */
export const GITLAB_MATRIX_MAX_JOBS = 200;

/** For a generated child pipeline's `parallel: matrix:` (JSON is valid YAML); one entry per job. */
export function toGitLabMatrix(jobs: readonly MatrixJob[]): {
  parallel: { matrix: { JOB_ID: string[]; KERNEL: string[]; TOPOLOGY: string[]; SUITE: string[] }[] };
} {
  if (jobs.length > GITLAB_MATRIX_MAX_JOBS) {
    throw new HarnessError('MATRIX_TOO_LARGE', `${jobs.length} jobs exceed GitLab's parallel:matrix limit of ${GITLAB_MATRIX_MAX_JOBS}.`, {
      hint: 'Split the matrix with shard() into several pipeline jobs, or exclude combinations.',
    });
  }
  return {
    parallel: {
      matrix: jobs.map((j) => ({ JOB_ID: [j.id], KERNEL: [j.kernel], TOPOLOGY: [j.topology], SUITE: [j.suite] })),
    },
  };
}

/** One shard of a `--shards N` listing: `i/N` and the ids of its jobs. */
export interface ShardEntry {
  shard: string;
  jobs: string[];
}

/** Every shard of `n` (lowered to the number of jobs, so none is empty) with its job ids. */
export function listShards(jobs: readonly MatrixJob[], n: number): ShardEntry[] {
  const count = Math.max(1, Math.min(n, jobs.length));
  return Array.from({ length: count }, (_, i) => ({ shard: `${i + 1}/${count}`, jobs: shard(jobs, i + 1, count).map((j) => j.id) })).filter((s) => s.jobs.length > 0);
}

/** For `strategy.matrix`: one entry per shard, its job ids space-separated. */
export function toGitHubShards(shards: readonly ShardEntry[]): { include: { shard: string; jobs: string }[] } {
  return { include: shards.map((s) => ({ shard: s.shard, jobs: s.jobs.join(' ') })) };
}

/** For `parallel: matrix:`: the shard names. */
export function toGitLabShards(shards: readonly ShardEntry[]): { parallel: { matrix: { SHARD: string[] }[] } } {
  return { parallel: { matrix: [{ SHARD: shards.map((s) => s.shard) }] } };
}

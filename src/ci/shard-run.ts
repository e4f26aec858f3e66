/**
 * `matrix --run`: a shard's jobs one after the other, one results dir per job. A job that
 * cannot start is that job's failure and the others still run; an interrupted one stops the
 * shard. The shard's manifest (every job, its dir and exit code) is rewritten after each job.
 * Jobs of one topology and suite on several kernels end in a side-by-side table of their rows,
 * in Markdown and as an HTML page.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ExitCode, isHarnessError } from '../errors.js';
import type { RunSummary } from '../report/model.js';
import { sideBySideMarkdown } from '../report/side-by-side.js';
import { isInterruptedExit, worstExitCode } from '../report/verdict.js';
import { writeAtomic } from '../results/atomic.js';
import { writeTrendPage } from '../results/report-files.js';
import type { CiRunOptions, RunExecutor } from './executor.js';
import type { MatrixJob } from './matrix.js';

/** A job ready to run: its matrix entry, its `cxl-harness run` arguments as listed, and the run's options. */
export interface PlannedJob {
  job: MatrixJob;
  args: string[];
  options: CiRunOptions;
}

/** One job in the manifest and in its dir's matrix-job.json. */
export interface ShardJobRecord {
  id: string;
  kernel: string;
  topology: string;
  suite: string;
  shard: string;
  args: string[];
  dir: string;
  exitCode: number;
  outcome?: string;
  error?: { code: string; message: string };
}

export interface ShardRun {
  records: ShardJobRecord[];
  /** The worst exit code of the jobs. */
  exitCode: number;
  manifest: string;
  /** Per topology and suite that ran on several kernels: its side-by-side table (report/side-by-side.ts) and its HTML page. */
  tables: string[];
}

/** Run `jobs` in order; the manifest is `<base>/shard-I-of-N.json`. */
export async function runShard(args: {
  jobs: readonly PlannedJob[];
  shard: { index: number; count: number };
  base: string;
  execute: RunExecutor;
  log: (line: string) => void;
}): Promise<ShardRun> {
  const base = resolve(args.base);
  await mkdir(base, { recursive: true });
  const label = `${args.shard.index}/${args.shard.count}`;
  const manifest = join(base, `shard-${args.shard.index}-of-${args.shard.count}.json`);
  const records: ShardJobRecord[] = [];
  const summaries = new Map<string, { dir: string; summary: RunSummary }>();
  const save = (): Promise<void> => writeAtomic(manifest, JSON.stringify({ shard: label, jobs: records }, null, 2) + '\n');
  for (const [n, { job, args: runArgs, options }] of args.jobs.entries()) {
    const dir = options.resultsDir;
    args.log(`matrix ${label}: job ${n + 1}/${args.jobs.length} ${job.id}: cxl-harness run ${runArgs.join(' ')}`);
    const record: ShardJobRecord = { id: job.id, kernel: job.kernel, topology: job.topology, suite: job.suite, shard: label, args: runArgs, dir, exitCode: ExitCode.infrastructure };
    try {
      const summary = await args.execute(options);
      summaries.set(job.id, { dir, summary });
      record.exitCode = summary.exitCode;
      record.outcome = summary.outcome;
    } catch (e) {
      // A job that cannot even start (bad suite for this kernel, unreadable topology...) is
      // that job's failure; the others still run. Usage errors would repeat: stop.
      if (isHarnessError(e) && e.code === 'USAGE') throw e;
      record.exitCode = isHarnessError(e) ? e.exitCode : ExitCode.infrastructure;
      record.error = { code: isHarnessError(e) ? e.code : 'HARNESS_BUG', message: e instanceof Error ? e.message : String(e) };
      args.log(`matrix ${label}: job ${job.id} did not run: ${record.error.message}`);
    }
    records.push(record);
    await writeAtomic(join(dir, 'matrix-job.json'), JSON.stringify(record, null, 2) + '\n').catch(() => undefined);
    await save();
    if (isInterruptedExit(record.exitCode)) {
      args.log(`matrix ${label}: interrupted; ${args.jobs.length - n - 1} job(s) not run`);
      break;
    }
  }
  await save();
  return { records, exitCode: worstExitCode(records.map((r) => r.exitCode)), manifest, tables: await writeSideBySide(base, records, summaries) };
}

/**
 * The runs of one topology and suite on several kernels, side by side:
 * base/side-by-side-<topology>-<suite>.md, and .html (the page of report --html, which puts
 * the kernels side by side first and links each run's report.html).
 */
async function writeSideBySide(base: string, records: readonly ShardJobRecord[], runs: ReadonlyMap<string, { dir: string; summary: RunSummary }>): Promise<string[]> {
  const groups = new Map<string, { dir: string; summary: RunSummary }[]>();
  for (const r of records) {
    const run = runs.get(r.id);
    if (run) groups.set(`${r.topology}-${r.suite}`, [...(groups.get(`${r.topology}-${r.suite}`) ?? []), run]);
  }
  const written: string[] = [];
  for (const [key, group] of groups) {
    if (group.length < 2) continue;
    const path = join(base, `side-by-side-${key.replace(/[^A-Za-z0-9._-]+/g, '_')}`);
    await writeAtomic(`${path}.md`, `${sideBySideMarkdown(group.map((g) => g.summary))}\n`);
    await writeTrendPage(`${path}.html`, group);
    written.push(`${path}.md`, `${path}.html`);
  }
  return written;
}

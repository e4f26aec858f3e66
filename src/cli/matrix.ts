/**
 * `cxl-harness matrix`: the CI job list (kernels x topologies x suites) as JSON for GitHub
 * Actions or GitLab, split into shards; with --run, one shard's jobs run one after the other
 * (src/ci/shard-run.ts), one results dir per job, for `cxl-harness merge` to join afterwards.
 */
import { join, resolve } from 'node:path';
import { runInProcess, type RunExecutor } from '../ci/executor.js';
import { buildMatrix, listShards, parseShard, shard, toGitHubMatrix, toGitHubShards, toGitLabMatrix, toGitLabShards, type MatrixJob } from '../ci/matrix.js';
import { runShard, type PlannedJob } from '../ci/shard-run.js';
import { loadTopology } from '../qemu/topology.js';
import { reproducerArgv } from '../machine/reproducer.js';
import type { Suite } from '../suites/check.js';
import { findSuite } from '../suites/index.js';
import { argvOf, parse, usageError } from './args.js';
import { processIo, type Io } from './io.js';
import { KERNEL_ENTRY_HELP, kernelEntry } from './kernel-entry.js';
import { formatOf, printingRuns, runOptions, runOptionsFrom, type RunValues } from './run.js';

export const MATRIX_HELP = `cxl-harness matrix --kernels K1,K2 --topologies T1,T2 --suites S1,S2
                   [--json | --github | --gitlab] [--shards N | --shard I/N]
                   [--run [--results-base DIR] [-- run options...]]

Print the CI job list: every kernel x topology x suite, kernel-major, each job with a stable
id <kernel>__<topology>__<suite> and the \`cxl-harness run\` arguments that run it.

Output (stdout, one line of JSON):
  --json (default)   [{"id","kernel","topology","suite","args":[...]}, ...]
  --github           {"include":[{"id","kernel","topology","suite"}, ...]} for strategy.matrix
                     (\`matrix: \${{ fromJSON(needs.plan.outputs.matrix) }}\`)
  --gitlab           {"parallel":{"matrix":[{"JOB_ID":[..],"KERNEL":[..],"TOPOLOGY":[..],"SUITE":[..]}]}}
                     for a generated child pipeline (at most 200 jobs)
Sharding (contiguous slices, sizes differing by at most one, every job in exactly one shard):
  --shard I/N        only the jobs of shard I of N (1-based)
  --shards N         one entry per shard instead of per job: --json [{"shard":"1/N","jobs":[ids]}],
                     --github {"include":[{"shard":"1/N","jobs":"id id"}]},
                     --gitlab {"parallel":{"matrix":[{"SHARD":["1/N",...]}]}}; shards that would be
                     empty are left out (N is lowered to the number of jobs)
Running:
  --run              run the selected jobs (all, or --shard I/N's) one after the other; job J's
                     results dir is DIR/J (default DIR: results); a job that fails does not stop
                     the others, an interrupted one does. DIR/shard-I-of-N.json lists the jobs,
                     their dirs and exit codes; each job dir gets matrix-job.json (its entry);
                     jobs of one topology and suite on several kernels get their rows side by
                     side in DIR/side-by-side-<topology>-<suite>.md (report --side-by-side) and
                     .html beside it (report --html's page, each job's report.html linked)
  -- OPTIONS         after --, options for every \`cxl-harness run\` (e.g. -- --kvm --boot-timeout 300);
                     --kernel*/--topology/--suite/--results* come from the matrix and are refused

${KERNEL_ENTRY_HELP}

Exit codes: printing 0; --run: the worst job exit code (130/143 interrupted > 3 kernel crash >
2 infrastructure error > 1 check failed > 4 nothing judged > 0); 2 for bad axes, kernel entries,
suites or options.`;

const SUITE_SPLIT = /\s*,\s*/;

/** Split a comma-separated axis, dropping empty items. */
function axis(value: string | undefined, name: string): string[] {
  const items = (value ?? '').split(SUITE_SPLIT).filter(Boolean);
  if (items.length === 0) throw usageError(MATRIX_HELP, `${name} needs at least one value (comma-separated)`);
  return items;
}

/** Run options a matrix job sets itself: refused after `--`. */
const JOB_OWNED = ['kernel', 'modules', 'kernel-suite', 'kernel-package', 'kernel-src', 'kernel-debian-source', 'topology', 'suite', 'results', 'results-base'] as const satisfies readonly (keyof RunValues)[];

/** The run options after `--`, for every job. */
export function passThrough(argv: string[]): RunValues {
  const { values } = parse(argv, runOptions, MATRIX_HELP);
  const owned = JOB_OWNED.find((name) => values[name] !== undefined);
  if (owned) throw usageError(MATRIX_HELP, `--${owned} after -- would override the matrix; put it in the axes instead`);
  return values;
}

/** A job's run options: its kernel entry's, its topology and suite, then the pass-through ones. */
export function jobValues(job: Pick<MatrixJob, 'kernel' | 'topology' | 'suite'>, pass: RunValues = {}): RunValues {
  return { ...kernelEntry(job.kernel), topology: job.topology, suite: job.suite, ...pass };
}

export async function matrixCommand(
  argv: string[],
  deps: { io?: Io; log?: (line: string) => void; execute?: RunExecutor; findSuite?: (name: string) => Suite } = {},
): Promise<number> {
  const io = deps.io ?? processIo;
  const log = deps.log ?? ((line: string) => io.err(`${line}\n`));
  const suiteOf = deps.findSuite ?? findSuite;
  const { values, positionals } = parse(argv, {
    kernels: { type: 'string' },
    topologies: { type: 'string' },
    suites: { type: 'string' },
    json: { type: 'boolean' },
    github: { type: 'boolean' },
    gitlab: { type: 'boolean' },
    shard: { type: 'string' },
    shards: { type: 'string' },
    run: { type: 'boolean' },
    'results-base': { type: 'string' },
  }, MATRIX_HELP, { positionals: true });
  const formats = (['json', 'github', 'gitlab'] as const).filter((f) => values[f]);
  if (formats.length > 1) throw usageError(MATRIX_HELP, 'choose one of --json, --github and --gitlab');
  if (values.shard && values.shards) throw usageError(MATRIX_HELP, '--shard I/N selects one shard, --shards N lists them: choose one');
  if (values.run && values.shards) throw usageError(MATRIX_HELP, '--run runs one shard: use --shard I/N (or no shard for all jobs)');
  if (!values.run && (values['results-base'] || positionals.length > 0)) {
    throw usageError(MATRIX_HELP, `${positionals.length > 0 ? `"${positionals[0]}"` : '--results-base'} only goes with --run (run options follow --)`);
  }
  const kernels = axis(values.kernels, '--kernels');
  for (const k of kernels) kernelEntry(k); // every entry must be runnable before any CI job starts
  const topologies = axis(values.topologies, '--topologies');
  for (const t of topologies) loadTopology(t); // a typo is refused now (exit 2), not in every job
  const suites = axis(values.suites, '--suites');
  for (const s of suites) suiteOf(s);
  const pass = passThrough(positionals);

  const all = buildMatrix({ kernels, topologies, suites });
  const selected = values.shard ? parseShard(values.shard) : { index: 1, count: 1 };
  const jobs = shard(all, selected.index, selected.count);

  if (values.run) {
    const base = resolve(values['results-base'] ?? 'results');
    const planned = jobs.map((job): PlannedJob => {
      const v = jobValues(job, pass);
      const args = argvOf(v);
      const resultsDir = join(base, job.id);
      return { job, args, options: { ...runOptionsFrom(v, { usage: MATRIX_HELP, log, argv: reproducerArgv(args), findSuite: suiteOf }), resultsDir } };
    });
    const execute = printingRuns(deps.execute ?? runInProcess, formatOf(pass.format, 'none', MATRIX_HELP), io);
    const r = await runShard({ jobs: planned, shard: selected, base, execute, log });
    io.out(r.records.map((x) => `${String(x.exitCode).padStart(3)}  ${x.outcome ?? x.error?.code ?? '?'}  ${x.id}  ${x.dir}`).join('\n') + (r.records.length ? '\n' : ''));
    for (const table of r.tables) log(`matrix ${selected.index}/${selected.count}: the kernels side by side: ${table}`);
    log(`matrix ${selected.index}/${selected.count}: ${r.records.length} job(s), manifest ${r.manifest}, exit ${r.exitCode}`);
    return r.exitCode;
  }

  const format = formats[0] ?? 'json';
  if (values.shards !== undefined) {
    const n = Number(values.shards);
    if (!Number.isInteger(n) || n < 1) throw usageError(MATRIX_HELP, `--shards takes a whole number >= 1 (got "${values.shards}")`);
    const shards = listShards(all, n);
    io.out(JSON.stringify(format === 'github' ? toGitHubShards(shards) : format === 'gitlab' ? toGitLabShards(shards) : shards) + '\n');
    return 0;
  }
  const out = format === 'github' ? toGitHubMatrix(jobs)
    : format === 'gitlab' ? toGitLabMatrix(jobs)
      : jobs.map((j) => ({ ...j, args: argvOf(jobValues(j)) }));
  io.out(JSON.stringify(out) + '\n');
  return 0;
}

/**
 * `cxl-harness matrix`: the CI job list (kernels x topologies x suites) as JSON for GitHub
 * Actions or GitLab, split into shards; with --run, run one shard's jobs one after the other,
 * one results dir per job, for `cxl-harness merge` to join afterwards.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ExitCode, HarnessError, isHarnessError } from '../errors.js';
import { loadTopology } from '../qemu/topology.js';
import { buildMatrix, parseShard, shard, toGitHubMatrix, toGitLabMatrix, type MatrixJob } from '../report/matrix.js';
import { parse } from './args.js';
import { runInProcess, type RunExecutor } from './nightly.js';
import { readSummary, writeAtomic } from '../results/report-files.js';
import { processIo, type Io } from './io.js';

export const KERNEL_ENTRY_HELP = `Kernel entries (--kernels, comma-separated; each becomes \`cxl-harness run\` kernel options):
  distro                        Debian sid's linux-image-amd64 (run's default)
  distro:SUITE                  --kernel-suite SUITE                 e.g. distro:trixie
  distro:SUITE:PACKAGE          --kernel-suite SUITE --kernel-package PACKAGE
                                                                    e.g. distro:sid:linux-image-amd64
  distro::PACKAGE               --kernel-package PACKAGE (suite sid)
  debian-source:PKG[:SUITE]     --kernel-debian-source PKG [--kernel-suite SUITE]  e.g. debian-source:linux-source-7.2
  src:DIR                       --kernel-src DIR (built with the run options --patches/--config-fragment)
  bzimage:PATH[:MODULES_DIR]    --kernel PATH [--modules MODULES_DIR]
  PATH                          any entry containing "/" (./bzImage, /boot/vmlinuz-6.12): --kernel PATH
Entries may not contain "," (the list separator).`;

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
                     their dirs and exit codes; each job dir gets matrix-job.json (its entry).
  -- OPTIONS         after --, options for every \`cxl-harness run\` (e.g. -- --kvm --boot-timeout 300);
                     --kernel*/--topology/--suite/--results* come from the matrix and are refused

${KERNEL_ENTRY_HELP}

Exit codes: printing 0; --run: the worst job exit code (130/143 interrupted > 3 kernel crash >
2 infrastructure error > 1 check failed > 4 nothing judged > 0); 2 for bad axes, kernel entries,
suites or options.`;

const SUITE_SPLIT = /\s*,\s*/;

/** Split a comma-separated axis, dropping empty items. */
export function axis(value: string | undefined, name: string): string[] {
  const items = (value ?? '').split(SUITE_SPLIT).filter(Boolean);
  if (items.length === 0) throw new HarnessError('USAGE', `${name} needs at least one value (comma-separated)\n\n${MATRIX_HELP}`);
  return items;
}

function entryError(entry: string, why: string): HarnessError {
  return new HarnessError('USAGE', `kernel entry "${entry}": ${why}`, { hint: KERNEL_ENTRY_HELP });
}

/** A kernel entry (see KERNEL_ENTRY_HELP) as `cxl-harness run` kernel options. */
export function kernelArgs(entry: string): string[] {
  const e = entry.trim();
  if (e === '') throw entryError(entry, 'empty');
  if (e.includes(',')) throw entryError(entry, 'contains ","');
  const [kind, ...rest] = e.split(':');
  switch (kind) {
    case 'distro': {
      if (rest.length > 2) throw entryError(entry, 'distro takes at most SUITE and PACKAGE');
      const [suite, pkg] = rest;
      return [...(suite ? ['--kernel-suite', suite] : []), ...(pkg ? ['--kernel-package', pkg] : [])];
    }
    case 'debian-source': {
      const [pkg, suite, ...more] = rest;
      if (!pkg || more.length > 0) throw entryError(entry, 'write debian-source:PKG or debian-source:PKG:SUITE');
      return ['--kernel-debian-source', pkg, ...(suite ? ['--kernel-suite', suite] : [])];
    }
    case 'src': {
      const dir = rest.join(':');
      if (!dir) throw entryError(entry, 'write src:DIR');
      return ['--kernel-src', dir];
    }
    case 'bzimage': {
      const [path, modules, ...more] = rest;
      if (!path || more.length > 0) throw entryError(entry, 'write bzimage:PATH or bzimage:PATH:MODULES_DIR');
      return ['--kernel', path, ...(modules ? ['--modules', modules] : [])];
    }
    default:
      if (e.includes('/')) return ['--kernel', e];
      throw entryError(entry, `unknown kind "${kind}"`);
  }
}

/** Options a matrix job sets itself; refused after `--`. */
const JOB_OWNED = ['--kernel', '--modules', '--kernel-suite', '--kernel-package', '--kernel-src', '--kernel-debian-source', '--topology', '--suite', '--results', '--results-base'];

export function checkPassThrough(extra: string[]): void {
  for (const a of extra) {
    const name = a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
    if (JOB_OWNED.includes(name)) throw new HarnessError('USAGE', `${name} after -- would override the matrix; put it in the axes instead`);
  }
}

/** The `cxl-harness run` arguments of one job (without --results, which the runner adds). */
export function jobRunArgs(job: Pick<MatrixJob, 'kernel' | 'topology' | 'suite'>, extra: string[] = []): string[] {
  return [...kernelArgs(job.kernel), '--topology', job.topology, '--suite', job.suite, ...extra];
}

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

const INTERRUPTED = new Set<number>([ExitCode.sigint, ExitCode.sigterm]);

/** The worst of exit codes: interrupted, then kernel crash, infrastructure, check failure, pass. */
/** Exit codes from best to worst: a skip (nothing judged) is worse than a pass, better than a failure. */
const EXIT_RANK = [0, 4, 1, 2, 3];

export function worstExitCode(codes: readonly number[]): number {
  const interrupted = codes.find((c) => INTERRUPTED.has(c));
  if (interrupted !== undefined) return interrupted;
  const rank = (c: number): number => (EXIT_RANK.includes(c) ? EXIT_RANK.indexOf(c) : EXIT_RANK.length);
  return codes.reduce((a, b) => (rank(b) > rank(a) ? b : a), 0);
}

/** Run `jobs` one after the other into `<base>/<job.id>`; returns the records and the worst exit code. */
export async function runJobs(args: {
  jobs: readonly MatrixJob[];
  shard: { index: number; count: number };
  base: string;
  extra: string[];
  execute: RunExecutor;
  log: (line: string) => void;
}): Promise<{ records: ShardJobRecord[]; exitCode: number; manifest: string }> {
  const base = resolve(args.base);
  await mkdir(base, { recursive: true });
  const label = `${args.shard.index}/${args.shard.count}`;
  const manifest = join(base, `shard-${args.shard.index}-of-${args.shard.count}.json`);
  const records: ShardJobRecord[] = [];
  const save = (): Promise<void> => writeAtomic(manifest, JSON.stringify({ shard: label, jobs: records }, null, 2) + '\n');
  for (const [n, job] of args.jobs.entries()) {
    const dir = join(base, job.id);
    const runArgs = jobRunArgs(job, args.extra);
    args.log(`matrix ${label}: job ${n + 1}/${args.jobs.length} ${job.id}: cxl-harness run ${runArgs.join(' ')}`);
    const record: ShardJobRecord = { id: job.id, kernel: job.kernel, topology: job.topology, suite: job.suite, shard: label, args: runArgs, dir, exitCode: ExitCode.infrastructure };
    try {
      record.exitCode = await args.execute(runArgs, dir, args.log);
      const s = await readSummary(dir).catch(() => undefined);
      if (s) record.outcome = s.outcome;
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
    if (INTERRUPTED.has(record.exitCode)) {
      args.log(`matrix ${label}: interrupted; ${args.jobs.length - n - 1} job(s) not run`);
      break;
    }
  }
  await save();
  return { records, exitCode: worstExitCode(records.map((r) => r.exitCode)), manifest };
}

/** Check suite names against the suites `run` knows (loaded lazily: it pulls in guest code). */
async function checkSuites(suites: string[]): Promise<void> {
  const { findSuite } = await import('../suites/index.js');
  for (const s of suites) findSuite(s);
}

export async function matrixCommand(
  argv: string[],
  deps: { io?: Io; log?: (line: string) => void; execute?: RunExecutor; checkSuites?: (suites: string[]) => Promise<void> } = {},
): Promise<number> {
  const io = deps.io ?? processIo;
  const log = deps.log ?? ((line: string) => io.err(`${line}\n`));
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
  if (formats.length > 1) throw new HarnessError('USAGE', `choose one of --json, --github and --gitlab`);
  if (values.shard && values.shards) throw new HarnessError('USAGE', '--shard I/N selects one shard, --shards N lists them: choose one');
  if (values.run && values.shards) throw new HarnessError('USAGE', '--run runs one shard: use --shard I/N (or no shard for all jobs)');
  if (!values.run && (values['results-base'] || positionals.length > 0)) {
    throw new HarnessError('USAGE', `${positionals.length > 0 ? `"${positionals[0]}"` : '--results-base'} only goes with --run (run options follow --)`);
  }
  const kernels = axis(values.kernels, '--kernels');
  for (const k of kernels) kernelArgs(k); // every entry must be runnable before any CI job starts
  const topologies = axis(values.topologies, '--topologies');
  for (const t of topologies) loadTopology(t); // a typo is refused now (exit 2), not in every job
  const suites = axis(values.suites, '--suites');
  await (deps.checkSuites ?? checkSuites)(suites);
  checkPassThrough(positionals);

  const all = buildMatrix({ kernels, topologies, suites });
  const selected = values.shard ? parseShard(values.shard) : { index: 1, count: 1 };
  const jobs = shard(all, selected.index, selected.count);

  if (values.run) {
    const r = await runJobs({ jobs, shard: selected, base: values['results-base'] ?? 'results', extra: positionals, execute: deps.execute ?? runInProcess, log });
    io.out(r.records.map((x) => `${String(x.exitCode).padStart(3)}  ${x.outcome ?? x.error?.code ?? '?'}  ${x.id}  ${x.dir}`).join('\n') + (r.records.length ? '\n' : ''));
    log(`matrix ${selected.index}/${selected.count}: ${r.records.length} job(s), manifest ${r.manifest}, exit ${r.exitCode}`);
    return r.exitCode;
  }

  const format = formats[0] ?? 'json';
  if (values.shards !== undefined) {
    const n = Number(values.shards);
    if (!Number.isInteger(n) || n < 1) throw new HarnessError('USAGE', `--shards takes a whole number >= 1 (got "${values.shards}")`);
    const count = Math.max(1, Math.min(n, all.length));
    const shards = Array.from({ length: count }, (_, i) => ({ shard: `${i + 1}/${count}`, jobs: shard(all, i + 1, count).map((j) => j.id) })).filter((s) => s.jobs.length > 0);
    const out = format === 'github' ? { include: shards.map((s) => ({ shard: s.shard, jobs: s.jobs.join(' ') })) }
      : format === 'gitlab' ? { parallel: { matrix: [{ SHARD: shards.map((s) => s.shard) }] } }
        : shards;
    io.out(JSON.stringify(out) + '\n');
    return 0;
  }
  const out = format === 'github' ? toGitHubMatrix(jobs)
    : format === 'gitlab' ? toGitLabMatrix(jobs)
      : jobs.map((j) => ({ ...j, args: jobRunArgs(j) }));
  io.out(JSON.stringify(out) + '\n');
  return 0;
}

/**
 * Bisecting a hotplug failure with `git bisect run`. The driver makes a linked worktree of
 * the user's kernel repository with no checkout (bisect state is per worktree, so the
 * user's checkout and their own bisect are untouched), runs `git bisect start --no-checkout`
 * there, and lets `git bisect run` call the step command once per commit. The step builds
 * BISECT_HEAD through the kernel builder (its cache and incremental work tree) and runs the
 * repro loop; its exit code tells git: 0 good, 1 bad, 125 cannot test (build or boot failed
 * for another reason, or the scenario does not apply), >= 128 abort (interrupted).
 */
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HarnessError, isHarnessError } from '../errors.js';
import { buildKernel, type BuildOptions } from '../kernel/build.js';
import { printProgress } from '../kernel/build-progress.js';
import { run } from '../exec.js';
import { runRepro, type ReproOptions } from './loop.js';
import type { ReproOutcome } from './report.js';
import { loadScenario } from './scenario.js';

export const BISECT_EXIT = { good: 0, bad: 1, skip: 125, abort: 130 } as const;
export type BisectVerdict = keyof typeof BISECT_EXIT;

/** What one bisect step established, before it becomes an exit code. */
export type StepAttempt =
  | { phase: 'source'; missing: SourceRequirement }
  | { phase: 'build'; error: { code: string; message: string } }
  | { phase: 'boot'; error: { code: string; message: string } }
  | { phase: 'repro'; outcome: ReproOutcome; error?: { code: string; message: string }; iterationsRun?: number; failures?: number };

/** Error codes that mean "this commit cannot be tested", whatever the step was doing. */
const UNTESTABLE = new Set([
  'KERNEL_MAKE_FAILED', 'CONFIG_NOT_LANDED', 'PATCH_FAILED', 'PATCH_CONFLICT', 'KERNEL_SRC_REF', 'INITRAMFS_FAILED', 'KERNEL_LACKS_ROOT_DRIVERS',
  'IMAGE_BUILD_FAILED', 'KERNEL_PANIC', 'GUEST_NO_SSH', 'GUEST_ROOT_FAILED', 'QEMU_EXITED', 'QEMU_EXITED_EARLY',
]);

/** Pure: the verdict for git bisect and why. */
export function bisectVerdict(a: StepAttempt): { verdict: BisectVerdict; exitCode: number; reason: string } {
  const v = (verdict: BisectVerdict, reason: string) => ({ verdict, exitCode: BISECT_EXIT[verdict], reason });
  if (a.phase === 'source') return v('skip', `${a.missing.file} has no "${a.missing.text}" at this commit (--require-source): what the scenario needs is not in this tree; not built`);
  if (a.phase === 'build') return v('skip', `the kernel did not build: ${a.error.code}`);
  if (a.phase === 'boot') return v('skip', `the guest did not boot: ${a.error.code}`);
  switch (a.outcome) {
    case 'pass':
      return v('good', `${a.iterationsRun ?? 0} iteration(s), no failure`);
    case 'fail':
      return v('bad', `${a.failures ?? 1} of ${a.iterationsRun ?? '?'} iteration(s) failed`);
    case 'kernel-crash':
      return v('bad', `the kernel crashed during the scenario (${a.failures ?? 1} failing iteration(s))`);
    case 'skip':
      return v('skip', 'the scenario does not apply to this kernel');
    case 'interrupted':
      return v('abort', 'interrupted: stop the bisect');
    case 'error':
      if (a.error && UNTESTABLE.has(a.error.code)) return v('skip', `the guest could not be brought up: ${a.error.code}`);
      return v('skip', `infrastructure error: ${a.error?.code ?? 'unknown'}`);
  }
}

/** Pure: the failing phase of a thrown error (kernel build vs the rest). */
export function attemptFromError(phase: 'build' | 'boot', e: unknown): StepAttempt {
  const error = isHarnessError(e) ? { code: e.code, message: e.message } : { code: 'HARNESS_BUG', message: String(e) };
  return { phase, error };
}

export interface BisectOptions {
  /** The user's kernel git repository. */
  tree: string;
  good: string;
  bad: string;
  /** The step command git bisect runs (argv); gets BISECT_WORKTREE in its environment. */
  stepArgv: string[];
  /** Where bisect.log, bisect.json and the worktree go. */
  dir: string;
  log: (line: string) => void;
}

export interface BisectResult {
  good: string;
  bad: string;
  firstBad?: string;
  firstBadSubject?: string;
  /** When skipped commits hide it: the commits git says the first bad one is among. */
  candidates?: Array<{ commit: string; subject: string }>;
  /**
   * The step run once more on the first bad commit when the bisect never tested it (git takes
   * --bad on trust): its exit code, and its results dir with a reproducer.sh for that kernel.
   */
  confirmed?: { exitCode: number; dir: string };
  /** git bisect log. */
  bisectLog: string;
  exitCode: number;
}

async function git(cwd: string, args: string[], options: { reject?: boolean; logFile?: string; env?: Record<string, string> } = {}) {
  return run('git', ['-C', cwd, ...args], { reject: options.reject ?? true, errorCode: 'GIT_FAILED', ...(options.logFile ? { logFile: options.logFile } : {}), ...(options.env ? { env: options.env } : {}) });
}

/** Exit code of a bisect that narrowed the first bad commit to a set it could not split (skips in the way). */
export const BISECT_EXIT_UNDECIDED = 4;

/** Pure: the commits of git bisect's "The first bad commit could be any of:" list. */
export function skippedCandidates(output: string): string[] {
  const m = /The first bad commit could be any of:\n((?:[0-9a-f]{40}\n?)+)/.exec(output);
  return m ? m[1]!.trim().split('\n') : [];
}

async function subjectOf(tree: string, commit: string): Promise<string> {
  return (await git(tree, ['log', '-1', '--format=%s', commit], { reject: false })).stdout.trim();
}

async function commitOf(tree: string, rev: string, what: string): Promise<string> {
  const r = await git(tree, ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], { reject: false });
  if (r.exitCode !== 0) {
    throw new HarnessError('BISECT_REV', `${what} ${rev} is not a commit in ${tree}`, { hint: 'name a branch, tag or commit of the kernel repository', context: { tree, rev } });
  }
  return r.stdout.trim();
}

/** Drive git bisect run; leaves no bisect state and no worktree behind. */
export async function runBisect(o: BisectOptions): Promise<BisectResult> {
  const top = await git(o.tree, ['rev-parse', '--show-toplevel'], { reject: false });
  if (top.exitCode !== 0) {
    throw new HarnessError('BISECT_NOT_GIT', `${o.tree} is not a git repository`, { hint: '--src must be a git checkout of the kernel to bisect', context: { tree: o.tree } });
  }
  const good = await commitOf(o.tree, o.good, '--good');
  const bad = await commitOf(o.tree, o.bad, '--bad');
  const ancestor = await git(o.tree, ['merge-base', '--is-ancestor', good, bad], { reject: false });
  if (ancestor.exitCode !== 0) {
    throw new HarnessError('BISECT_ORDER', `--good ${o.good} is not an ancestor of --bad ${o.bad}`, { hint: 'swap them, or pick a good commit the bad one descends from', context: { good, bad } });
  }
  await mkdir(o.dir, { recursive: true });
  const wt = join(o.dir, 'worktree');
  const logFile = join(o.dir, 'bisect-run.log');
  await git(o.tree, ['worktree', 'add', '--no-checkout', '--detach', wt, bad]);
  let result: BisectResult = { good, bad, bisectLog: '', exitCode: 2 };
  try {
    await git(wt, ['bisect', 'start', '--no-checkout', bad, good], { logFile });
    o.log(`bisecting ${good.slice(0, 12)}..${bad.slice(0, 12)} in ${wt}`);
    const r = await run('git', ['-C', wt, 'bisect', 'run', ...o.stepArgv], { reject: false, logFile, env: { BISECT_WORKTREE: wt }, processGroup: true });
    const found = /^([0-9a-f]{40}) is the first bad commit/m.exec(r.stdout);
    const bisectLog = (await git(wt, ['bisect', 'log'], { reject: false })).stdout;
    const candidates = skippedCandidates(r.stdout);
    result = { good, bad, bisectLog, exitCode: found ? 0 : candidates.length ? BISECT_EXIT_UNDECIDED : 2 };
    if (found) {
      result.firstBad = found[1]!;
      result.firstBadSubject = await subjectOf(o.tree, found[1]!);
    } else if (candidates.length) {
      result.candidates = [];
      for (const c of candidates) result.candidates.push({ commit: c, subject: await subjectOf(o.tree, c) });
    } else {
      o.log(`git bisect run did not name a first bad commit (exit ${r.exitCode}); see ${logFile}`);
    }
    await writeFile(join(o.dir, 'bisect.log'), bisectLog);
  } finally {
    await git(wt, ['bisect', 'reset'], { reject: false });
    await git(o.tree, ['worktree', 'remove', '--force', wt], { reject: false });
    if (existsSync(wt)) await git(o.tree, ['worktree', 'prune'], { reject: false });
  }
  if (result.firstBad && !existsSync(stepDir(o.dir, result.firstBad))) {
    o.log(`confirming the first bad commit ${result.firstBad.slice(0, 12)} (the bisect took it as given)`);
    const [cmd, ...args] = o.stepArgv;
    const c = await run(cmd!, args, { reject: false, logFile, env: { BISECT_COMMIT: result.firstBad }, processGroup: true });
    result.confirmed = { exitCode: c.exitCode, dir: stepDir(o.dir, result.firstBad) };
  }
  await writeFile(join(o.dir, 'bisect.json'), JSON.stringify(result, null, 2) + '\n');
  return result;
}

/** Where a step keeps its repro results. */
export function stepDir(dir: string, commit: string): string {
  return join(dir, 'steps', commit.slice(0, 12));
}

/** The commit a step must test: BISECT_HEAD of the bisect worktree (no checkout happens). */
export async function bisectHead(worktree: string): Promise<string> {
  const r = await git(worktree, ['rev-parse', '--verify', 'BISECT_HEAD'], { reject: false });
  if (r.exitCode !== 0) {
    throw new HarnessError('BISECT_NO_HEAD', `${worktree} has no BISECT_HEAD: is a bisect running there?`, { hint: 'the step is meant to be run by `cxl-harness bisect`, not by hand' });
  }
  return r.stdout.trim();
}

/** `--require-source FILE:TEXT`: a commit whose FILE lacks TEXT cannot have what the scenario needs. */
export interface SourceRequirement { file: string; text: string }

/** Pure: `FILE:TEXT` (the first colon splits; TEXT is a literal string). */
export function parseSourceRequirement(arg: string): SourceRequirement {
  const at = arg.indexOf(':');
  if (at <= 0 || at === arg.length - 1) {
    throw new HarnessError('USAGE', `--require-source takes FILE:TEXT, a path in the kernel tree and a literal string (got "${arg}")`, { hint: 'for example --require-source drivers/cxl/core/region.c:spm_node' });
  }
  return { file: arg.slice(0, at), text: arg.slice(at + 1) };
}

/** The first requirement `commit` does not meet (git grep in the commit's tree, no checkout), or undefined. */
export async function unmetRequirement(tree: string, commit: string, reqs: readonly SourceRequirement[]): Promise<SourceRequirement | undefined> {
  for (const r of reqs) {
    const g = await git(tree, ['grep', '-q', '-F', '-e', r.text, commit, '--', r.file], { reject: false });
    if (g.exitCode === 1) return r;
    if (g.exitCode !== 0) throw new HarnessError('GIT_FAILED', `git grep for --require-source ${r.file}:${r.text} at ${commit} failed: ${g.stderr.trim()}`, { context: { tree, commit } });
  }
  return undefined;
}

/**
 * Everything a step needs, decided and validated once by the driver and handed to each step
 * as a JSON file (not as argv to re-parse): the tree, the build inputs, the scenario, the
 * loop's options and, for each step's reproducer.sh, the same loop options as argv.
 */
export interface BisectStepSpec {
  tree: string;
  build: Omit<BuildOptions, 'source' | 'onProgress'>;
  scenario: string;
  loop: Omit<ReproOptions, 'scenario' | 'kernel' | 'log' | 'argv' | 'resultsDir' | 'resultsBase'>;
  loopArgv: string[];
  requireSource: SourceRequirement[];
  /** The bisect's results dir: steps.jsonl and steps/<commit>/ go there. */
  dir: string;
}

/** Environment variables through which git points a child at a repository. */
const GIT_REPO_ENV = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_COMMON_DIR', 'GIT_OBJECT_DIRECTORY', 'GIT_PREFIX'];

/** One `git bisect run` step: check the tree, build BISECT_HEAD, run the scenario; the exit code is the answer. */
export async function runBisectStep(specFile: string, log: (line: string) => void): Promise<number> {
  // git bisect run exports GIT_DIR (the bisect worktree's repository) to the step: every
  // `git -C <dir>` the kernel builder runs would then act on that repository instead of <dir>
  // (measured: its clone was checked out afresh, every mtime new, a full rebuild per step).
  for (const name of GIT_REPO_ENV) delete process.env[name];
  const spec = JSON.parse(await readFile(specFile, 'utf8')) as BisectStepSpec;
  const worktree = process.env.BISECT_WORKTREE ?? process.cwd();
  let commit = '?';
  let attempt: StepAttempt | undefined;
  const started = Date.now();
  const times: { buildS?: number; reproS?: number } = {};
  try {
    commit = process.env.BISECT_COMMIT ?? (await bisectHead(worktree));
    const missing = await unmetRequirement(spec.tree, commit, spec.requireSource);
    if (missing) attempt = { phase: 'source', missing };
    else {
      log(`bisect step: building ${commit.slice(0, 12)}`);
      let artifact;
      try {
        artifact = await buildKernel({ source: { dir: spec.tree, gitRef: commit }, ...spec.build, onProgress: printProgress((l) => log(l.trimEnd())) });
      } catch (e) {
        attempt = attemptFromError('build', e);
      }
      times.buildS = Math.round((Date.now() - started) / 1000);
      if (artifact) {
        const kernelArgv = ['--kernel', artifact.image, ...(artifact.modulesDir ? ['--modules', artifact.modulesDir] : [])];
        const { repro } = await runRepro({
          ...spec.loop,
          scenario: loadScenario(spec.scenario),
          kernel: { kind: 'artifact', artifact },
          resultsDir: stepDir(spec.dir, commit),
          argv: ['repro', ...spec.loopArgv, ...kernelArgv, spec.scenario, '--seed', String(spec.loop.seed)],
          log,
        });
        times.reproS = Math.round((Date.now() - started) / 1000) - times.buildS;
        attempt = { phase: 'repro', outcome: repro.outcome, iterationsRun: repro.iterationsRun, failures: repro.failures, ...(repro.error ? { error: repro.error } : {}) };
      }
    }
  } catch (e) {
    attempt = attemptFromError('boot', e);
  }
  const verdict = bisectVerdict(attempt!);
  log(`bisect step ${commit.slice(0, 12)}: ${verdict.verdict} (exit ${verdict.exitCode}): ${verdict.reason}`);
  await recordStep(spec.dir, { commit, ...verdict, attempt, ...times, totalS: Math.round((Date.now() - started) / 1000) });
  return verdict.exitCode;
}

/** One line per step in steps.jsonl of the bisect dir. */
export async function recordStep(dir: string, entry: Record<string, unknown>): Promise<void> {
  await mkdir(dir, { recursive: true });
  await appendFile(join(dir, 'steps.jsonl'), JSON.stringify({ at: new Date().toISOString(), ...entry }) + '\n');
}

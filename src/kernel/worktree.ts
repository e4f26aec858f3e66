/**
 * The harness-owned copy of a kernel tree that patches are applied to, and its O= build dir.
 * One work dir per source location and base config, kept across runs so make stays incremental:
 *   <cache>/kernel-work/<key>/tree    git: a `git clone --shared` of the user's repo (nothing is
 *                                     written to the user's repo, not even worktree metadata);
 *                                     plain tree: a hardlink farm (`cp -al`) of it
 *                             /build   make O=
 *                             /state.json, /logs/, /series/
 * Resetting it rewrites only the files the last series touched, with a fresh mtime, so make
 * rebuilds exactly what changed. patch(1) and git replace files (new inode) instead of writing
 * through a hardlink, so the user's tree is never modified.
 */
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { hashParts, lock } from '../cache.js';
import { HarnessError, tail } from '../errors.js';
import { cacheDir } from '../paths.js';
import { run } from '../exec.js';
import { extractHunk, type Patch } from './patches.js';
import { sourceIdentity, sourceLocation, type KernelSource } from './source.js';

export interface WorkTree {
  root: string;
  tree: string;
  build: string;
  logs: string;
  source: KernelSource;
}

interface State {
  source: string;
  /** Files the applied (or being applied) series touched: reset restores them. */
  touched: string[];
  patches: string[];
}

const LOCK_WAIT_MS = 6 * 3600 * 1000;

export function workTreeRoot(source: KernelSource, base: string): string {
  return join(cacheDir('kernel-work'), hashParts({ location: sourceLocation(source), base }).slice(0, 24));
}

/** Run `fn` with the work tree for this source and base locked, reset to the pristine source. */
export async function withWorkTree<T>(source: KernelSource, base: string, fn: (wt: WorkTree) => Promise<T>): Promise<T> {
  const root = workTreeRoot(source, base);
  await mkdir(root, { recursive: true });
  const release = await lock(`${root}.lock`, LOCK_WAIT_MS);
  try {
    const wt: WorkTree = { root, tree: join(root, 'tree'), build: join(root, 'build'), logs: join(root, 'logs'), source };
    await mkdir(wt.logs, { recursive: true });
    await writeFile(join(root, 'location.txt'), `${sourceLocation(source)}\nbase: ${base}\n`);
    await resetWorkTree(wt);
    return await fn(wt);
  } finally {
    await release();
  }
}

async function readState(wt: WorkTree): Promise<State | undefined> {
  try {
    return JSON.parse(await readFile(join(wt.root, 'state.json'), 'utf8')) as State;
  } catch {
    return undefined;
  }
}

async function writeState(wt: WorkTree, state: State): Promise<void> {
  const tmp = join(wt.root, 'state.json.tmp');
  await writeFile(tmp, JSON.stringify(state, null, 2));
  await rename(tmp, join(wt.root, 'state.json'));
}

/** Replace `rel` in the work tree by a fresh copy of the pristine file (new inode, new mtime), or remove it. */
async function restoreFile(pristine: string, tree: string, rel: string): Promise<void> {
  const dest = join(tree, rel);
  await rm(dest, { force: true, recursive: true });
  const src = join(pristine, rel);
  if (!existsSync(src)) return;
  await mkdir(dirname(dest), { recursive: true });
  await copyFile(src, dest);
  await chmod(dest, (await stat(src)).mode & 0o7777);
}

async function resetWorkTree(wt: WorkTree): Promise<void> {
  const state = await readState(wt);
  const id = sourceIdentity(wt.source);
  if (wt.source.kind === 'git') {
    const ok = existsSync(join(wt.tree, '.git')) && state !== undefined && (await resetGitTree(wt).then(() => true, () => false));
    if (!ok) {
      // Unknown history: every file gets a new mtime from the fresh checkout, so the build dir stays valid.
      await rm(wt.tree, { recursive: true, force: true });
      await run('git', ['clone', '--quiet', '--shared', '--no-checkout', wt.source.dir, wt.tree], { timeoutMs: 30 * 60 * 1000 });
      await run('git', ['-C', wt.tree, 'config', 'user.name', 'cxl-harness']);
      await run('git', ['-C', wt.tree, 'config', 'user.email', 'cxl-harness@localhost']);
      await run('git', ['-C', wt.tree, 'config', 'gc.auto', '0']);
      await resetGitTree(wt);
    }
    await writeState(wt, { source: id, touched: [], patches: [] });
    return;
  }
  const pristine = wt.source.dir;
  if (state && state.source === id && existsSync(wt.tree)) {
    for (const rel of state.touched) await restoreFile(pristine, wt.tree, rel);
  } else {
    await rm(wt.tree, { recursive: true, force: true });
    await linkFarm(pristine, wt.tree);
    if (state) {
      // Files the last series changed are older in the new farm than their objects: refresh them.
      for (const rel of state.touched) await restoreFile(pristine, wt.tree, rel);
    } else if (existsSync(wt.build)) {
      // No record of what the tree held when the build dir was made: its objects cannot be trusted.
      await rm(wt.build, { recursive: true, force: true });
    }
  }
  await writeState(wt, { source: id, touched: [], patches: [] });
}

async function resetGitTree(wt: WorkTree): Promise<void> {
  if (wt.source.kind !== 'git') return;
  await run('git', ['-C', wt.tree, 'am', '--abort'], { reject: false });
  await run('git', ['-C', wt.tree, 'checkout', '--quiet', '--force', '--detach', wt.source.commit], { timeoutMs: 30 * 60 * 1000 });
  await run('git', ['-C', wt.tree, 'clean', '-fdq']);
}

/** A hardlink copy when the cache is on the same filesystem, else a reflink/plain copy. */
async function linkFarm(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  const r = await run('cp', ['-al', from, to], { reject: false });
  if (r.exitCode === 0) return;
  await rm(to, { recursive: true, force: true });
  await run('cp', ['-a', '--reflink=auto', from, to], { timeoutMs: 60 * 60 * 1000 });
}

export interface HunkFailure {
  file: string;
  /** 1-based hunk number within that file's diff, when patch(1) named one. */
  hunk?: number;
  line?: number;
  /** The hunk's text (header and lines). */
  text?: string;
  /** "missing file", "already applied"... when the failure is not a hunk. */
  problem?: string;
}

/** Failures from `patch --dry-run` output: "Hunk #2 FAILED at 40." under "patching file X". */
export function parsePatchOutput(output: string, patchText: string): HunkFailure[] {
  const failures: HunkFailure[] = [];
  let file: string | undefined;
  let lastPlus: string | undefined;
  for (const line of output.split('\n')) {
    const patching = /^(?:checking|patching) file '?([^']+?)'?$/.exec(line);
    if (patching) {
      file = patching[1]!;
      continue;
    }
    const plus = /^\|\+\+\+ (?:b\/)?(\S+)/.exec(line);
    if (plus) lastPlus = plus[1];
    const hunk = /^Hunk #(\d+) FAILED at (\d+)/.exec(line);
    if (hunk && file) {
      const n = Number(hunk[1]);
      failures.push({ file, hunk: n, line: Number(hunk[2]), text: extractHunk(patchText, file, n) });
      continue;
    }
    if (/^can't find file to patch/.test(line)) {
      failures.push({ file: lastPlus ?? '?', problem: 'the file does not exist in the tree' });
      continue;
    }
    if (/Reversed \(or previously applied\) patch detected/.test(line)) {
      failures.push({ file: file ?? '?', problem: 'the change is already in the tree (reversed or previously applied)' });
    }
  }
  return failures;
}

function conflictError(patch: Patch, total: number, failures: HunkFailure[], output: string, wt: WorkTree): HarnessError {
  const first = failures[0];
  const where = failures
    .map((f) => (f.problem ? `${f.file}: ${f.problem}` : `${f.file} hunk #${f.hunk} (${f.text?.split('\n')[0] ?? '?'}) failed at line ${f.line}`))
    .join('; ');
  const base = wt.source.kind === 'git' ? `commit ${wt.source.commit.slice(0, 12)}` : `version ${wt.source.version}`;
  return new HarnessError(
    'PATCH_CONFLICT',
    `patch ${patch.index}/${total} "${patch.subject}" (${patch.origin}) does not apply to ${base}: ${where || tail(output, 5)}` +
      (first?.text ? `\nfailing hunk:\n${first.text}` : ''),
    {
      hint: 'rebase the series onto this tree, or build it on the base it was written for (--kernel-src at that commit)',
      context: { patch: { index: patch.index, subject: patch.subject, origin: patch.origin, sha256: patch.sha256 }, failures, output: tail(output, 40), workTree: wt.tree },
    },
  );
}

/** Say which hunks of `patch` fail in the tree as it is now (patch --dry-run, writes nothing). */
async function diagnose(wt: WorkTree, file: string, patch: Patch): Promise<{ failures: HunkFailure[]; output: string; exitCode: number }> {
  const r = await run('patch', ['-p1', '--dry-run', '--batch', '--forward', '-i', file], { cwd: wt.tree, reject: false });
  const output = `${r.stdout}\n${r.stderr}`;
  return { failures: parsePatchOutput(output, patch.text), output, exitCode: r.exitCode };
}

/**
 * Apply a series in order: `git am -3` in a git work tree (plain diffs get a minimal mail
 * header first), `patch -p1` after a clean dry run otherwise. The first patch that does not
 * apply ends it with a PATCH_CONFLICT naming the patch, the file and the hunk.
 */
export async function applySeries(wt: WorkTree, patches: readonly Patch[]): Promise<void> {
  const seriesDir = join(wt.root, 'series');
  await rm(seriesDir, { recursive: true, force: true });
  await mkdir(seriesDir, { recursive: true });
  const state = (await readState(wt)) ?? { source: sourceIdentity(wt.source), touched: [], patches: [] };
  // Record what is about to change before changing it, so a crash mid-series is undone next time.
  state.touched = [...new Set(patches.flatMap((p) => p.files))];
  state.patches = patches.map((p) => p.sha256);
  await writeState(wt, state);
  const log = join(wt.logs, 'patch.log');
  await writeFile(log, '');
  for (const patch of patches) {
    const file = join(seriesDir, `${String(patch.index).padStart(4, '0')}.patch`);
    if (wt.source.kind === 'git') {
      const text = patch.isMail ? patch.text : `From: cxl-harness <cxl-harness@localhost>\nSubject: [PATCH] ${patch.subject}\n\n${patch.text}`;
      await writeFile(file, text);
      const r = await run('git', ['-C', wt.tree, 'am', '-3', '--quiet', file], { reject: false, logFile: log });
      if (r.exitCode !== 0) {
        const amOutput = `${r.stdout}\n${r.stderr}`;
        await run('git', ['-C', wt.tree, 'am', '--abort'], { reject: false });
        const { failures, output } = await diagnose(wt, file, patch);
        throw conflictError(patch, patches.length, failures, `${amOutput}\n${output}`, wt);
      }
    } else {
      await writeFile(file, patch.text);
      const dry = await diagnose(wt, file, patch);
      if (dry.exitCode !== 0 || dry.failures.length) throw conflictError(patch, patches.length, dry.failures, dry.output, wt);
      await run('patch', ['-p1', '--batch', '--forward', '--no-backup-if-mismatch', '-i', file], { cwd: wt.tree, logFile: log, errorCode: 'PATCH_FAILED' });
    }
  }
}

/**
 * The bisect driver against a real git repository with a stand-in step command (no kernel
 * build): git bisect run finds the first bad commit through 0/1/125, in a worktree of its
 * own, leaving the user's checkout and bisect state alone.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isHarnessError } from '../../src/errors.js';
import { BISECT_EXIT_UNDECIDED, bisectVerdict, parseSourceRequirement, runBisect, skippedCandidates, unmetRequirement } from '../../src/repro/bisect.js';

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-C', cwd, ...args], { encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } }).trim();
}

function repo(): { dir: string; commits: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'cxlh-bisect-'));
  git(dir, 'init', '-q', '-b', 'main');
  const commits: string[] = [];
  for (let i = 1; i <= 8; i++) {
    writeFileSync(join(dir, 'n'), `${i}\n`);
    if (i === 6) writeFileSync(join(dir, 'bug'), 'introduced\n');
    if (i === 3) writeFileSync(join(dir, 'broken-build'), 'cannot test this one\n');
    if (i === 4) git(dir, 'rm', '-q', 'broken-build');
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', `commit ${i}`);
    commits.push(git(dir, 'rev-parse', 'HEAD'));
  }
  return { dir, commits };
}

// Stands in for `cxl-harness bisect --step`: 125 when the commit "does not build", 1 when it has the bug, 0 otherwise.
// After the bisect it is run once more on the first bad commit, named by BISECT_COMMIT.
const STEP = ['sh', '-c', 'c=${BISECT_COMMIT:-$(git rev-parse BISECT_HEAD)}; echo "$c" >> "$LOG"; git -C "$REPO" cat-file -e $c:broken-build 2>/dev/null && exit 125; git -C "$REPO" cat-file -e $c:bug 2>/dev/null && exit 1; exit 0'];

t.test('git bisect run finds the first bad commit through 0/1/125', async (t) => {
  const { dir, commits } = repo();
  const out = mkdtempSync(join(tmpdir(), 'cxlh-bisect-out-'));
  const stepLog = join(out, 'tested.txt');
  process.env.LOG = stepLog;
  process.env.REPO = dir;
  t.teardown(() => { delete process.env.LOG; delete process.env.REPO; });
  const headBefore = git(dir, 'rev-parse', 'HEAD');
  const r = await runBisect({ tree: dir, good: commits[0]!, bad: 'main', stepArgv: STEP, dir: out, log: () => undefined });
  t.equal(r.firstBad, commits[5], 'commit 6 introduced the bug');
  t.equal(r.firstBadSubject, 'commit 6');
  t.equal(r.exitCode, 0);
  t.match(r.bisectLog, /git bisect start/);
  const tested = readFileSync(stepLog, 'utf8').trim().split('\n');
  t.equal(tested.at(-1), commits[5], 'then the step ran once more on the first bad commit alone (it left no step dir)');
  t.equal(r.confirmed?.exitCode, 1, 'and found it bad on its own');
  t.ok(tested.length >= 3 && tested.length <= 6, `bisect tested ${tested.length - 1} commits, not all 7`);
  t.ok(existsSync(join(out, 'bisect.json')) && existsSync(join(out, 'bisect.log')), 'bisect.json and bisect.log written');
  t.equal(git(dir, 'rev-parse', 'HEAD'), headBefore, 'the user\'s checkout did not move');
  t.equal(git(dir, 'worktree', 'list').split('\n').length, 1, 'the bisect worktree is gone');
  t.throws(() => git(dir, 'bisect', 'log'), 'no bisect state left in the user\'s repository');
});

t.test('bad input is refused before anything runs', async (t) => {
  const { dir, commits } = repo();
  const out = mkdtempSync(join(tmpdir(), 'cxlh-bisect-out-'));
  const code = async (o: Partial<Parameters<typeof runBisect>[0]>): Promise<string> => {
    try {
      await runBisect({ tree: dir, good: commits[0]!, bad: 'main', stepArgv: ['true'], dir: out, log: () => undefined, ...o });
    } catch (e) {
      return isHarnessError(e) ? e.code : String(e);
    }
    return 'no error';
  };
  t.equal(await code({ good: 'v999' }), 'BISECT_REV');
  t.equal(await code({ good: 'main', bad: commits[0]! }), 'BISECT_ORDER', 'good must be an ancestor of bad');
  t.equal(await code({ tree: mkdtempSync(join(tmpdir(), 'cxlh-notgit-')) }), 'BISECT_NOT_GIT');
});

t.test('--require-source: a commit without the text is a skip, decided from git without a checkout', async (t) => {
  const { dir, commits } = repo();
  t.same(parseSourceRequirement('drivers/cxl/core/region.c:spm_node'), { file: 'drivers/cxl/core/region.c', text: 'spm_node' });
  t.same(parseSourceRequirement('a.c:x:y'), { file: 'a.c', text: 'x:y' }, 'the first colon splits');
  for (const bad of ['spm_node', ':x', 'file:']) t.throws(() => parseSourceRequirement(bad), { code: 'USAGE' }, bad);
  const need = [{ file: 'bug', text: 'introduced' }];
  t.same(await unmetRequirement(dir, commits[4]!, need), need[0], 'commit 5 has no bug file');
  t.equal(await unmetRequirement(dir, commits[5]!, need), undefined, 'commit 6 has it');
  t.same(await unmetRequirement(dir, commits[7]!, [{ file: 'n', text: '7' }]), { file: 'n', text: '7' }, 'the text must be in that file at that commit');
  const v = bisectVerdict({ phase: 'source', missing: need[0]! });
  t.equal(v.exitCode, 125);
  t.match(v.reason, /bug has no "introduced" at this commit \(--require-source\).*not built/);
});

t.test('skips in the way: the set git narrowed it to is the answer, exit 4', async (t) => {
  const out = 'There are only \'skip\'ped commits left to test.\nThe first bad commit could be any of:\n' + 'a'.repeat(40) + '\n' + 'b'.repeat(40) + '\nWe cannot bisect more!\n';
  t.same(skippedCandidates(out), ['a'.repeat(40), 'b'.repeat(40)]);
  t.same(skippedCandidates('abc is the first bad commit'), []);
  const { dir, commits } = repo();
  const o = mkdtempSync(join(tmpdir(), 'cxlh-bisect-out-'));
  // Every commit but the last is untestable: git can only say "one of 2..8".
  const r = await runBisect({ tree: dir, good: commits[0]!, bad: 'main', stepArgv: ['sh', '-c', 'exit 125'], dir: o, log: () => undefined });
  t.equal(r.exitCode, BISECT_EXIT_UNDECIDED);
  t.equal(r.firstBad, undefined);
  t.same(new Set(r.candidates?.map((c) => c.commit)), new Set(commits.slice(1)), 'the candidates are every commit after good');
  t.ok(r.candidates?.every((c) => /^commit \d$/.test(c.subject)), 'each with its subject');
});

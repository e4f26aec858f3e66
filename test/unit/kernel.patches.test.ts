import t from 'tap';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256 } from '../../src/cache.js';
import { HarnessError } from '../../src/errors.js';
import { run } from '../../src/exec.js';
import {
  decodeMimeWords,
  diffFiles,
  extractHunk,
  loadPatchSeries,
  parseHeaders,
  parseSubject,
  patchesFromMbox,
  splitMbox,
} from '../../src/kernel/patches.js';

const mboxPath = join(import.meta.dirname, '..', 'fixtures', 'kernel', 'series.mbox');
const mbox = readFileSync(mboxPath, 'utf8');

t.test('splitMbox splits on From lines that start a message only', async (t) => {
  const messages = splitMbox(mbox);
  t.equal(messages.length, 3, 'cover letter + 2 patches; body lines starting with "From " do not split');
  t.equal(messages.join(''), mbox, 'the pieces are the file, byte for byte');
  t.match(messages[0]!, /From the point of view of an mbox/);
  t.match(messages[2]!, /^From 3333/);
});

t.test('subjects: [PATCH n/m] prefixes, folded headers, MIME words', async (t) => {
  t.same(parseSubject('[PATCH RFC v2 03/11] mm: foo'), { subject: 'mm: foo', number: 3, total: 11 });
  t.same(parseSubject('[RFC][PATCH 1/2] x: y'), { subject: 'x: y', number: 1, total: 2 });
  t.same(parseSubject('Re: [PATCH] mm: bar'), { subject: 'mm: bar' });
  t.equal(decodeMimeWords('=?UTF-8?q?caf=C3=A9_au_lait?='), 'café au lait');
  t.equal(decodeMimeWords('=?utf-8?b?w6l0w6k=?='), 'été');
  const h = parseHeaders('From x Mon Sep 17 00:00:00 2001\nSubject: [PATCH 2/2] a long\n subject line\nFrom: A <a@b>\n\nbody: not a header\n');
  t.equal(h.subject, '[PATCH 2/2] a long subject line');
  t.equal(h.from, 'A <a@b>');
  t.equal(h.body, undefined);
});

t.test('patchesFromMbox: cover letter dropped, ordered by n/m, sha256 of each mail', async (t) => {
  const messages = splitMbox(mbox);
  const patches = patchesFromMbox(mbox, 'series.mbox');
  t.equal(patches.length, 2);
  t.same(
    patches.map((p) => [p.index, p.subject, p.origin]),
    [
      [1, 'mm: first change — with a dash', 'series.mbox#3'],
      [2, 'mm: second change with a folded subject line', 'series.mbox#2'],
    ],
  );
  t.equal(patches[0]!.sha256, sha256(messages[2]!));
  t.equal(patches[1]!.sha256, sha256(messages[1]!));
  t.same(patches[0]!.files, ['mm/a.c']);
  t.equal(patches[0]!.isMail, true);
});

t.test('diffFiles and extractHunk', async (t) => {
  const [first] = patchesFromMbox(mbox, 'x');
  t.same(diffFiles('--- a/x/y.c\n+++ b/x/y.c\n@@ -1 +1 @@\n-a\n+b\n'), ['x/y.c']);
  t.same(diffFiles('diff --git a/old.c b/new.c\nsimilarity index 100%\nrename from old.c\nrename to new.c\n'), ['old.c', 'new.c']);
  t.equal(extractHunk(first!.text, 'mm/a.c', 2), '@@ -10,2 +11,3 @@\n int z;\n+int z2;\n int zz;', 'the -- signature is not part of the hunk');
  t.equal(extractHunk(first!.text, 'mm/a.c', 1), '@@ -1,2 +1,3 @@\n int a;\n+int a2;\n int aa;');
  t.equal(extractHunk(first!.text, 'mm/a.c', 3), undefined);
  t.equal(extractHunk(first!.text, 'mm/other.c', 1), undefined);
});

t.test('a directory: *.patch in name order, cover letter and plain diffs', async (t) => {
  const dir = t.testdir({
    '0000-cover-letter.patch': 'From 0 Mon Sep 17 00:00:00 2001\nSubject: [PATCH 0/2] cover\n\nno diff here\n',
    '0002-second.patch': 'From 0 Mon Sep 17 00:00:00 2001\nFrom: A <a@b>\nSubject: [PATCH 2/2] second\n\n---\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-x\n+y\n',
    '0001-first.patch': '--- a/g\n+++ b/g\n@@ -1 +1 @@\n-x\n+y\n',
    'notes.txt': 'ignored',
  });
  const patches = await loadPatchSeries(dir);
  t.same(
    patches.map((p) => [p.index, p.subject, p.isMail]),
    [
      [1, 'first', false],
      [2, 'second', true],
    ],
  );
  t.equal(patches[0]!.sha256, sha256(readFileSync(join(dir, '0001-first.patch'))));
  t.equal(patches[0]!.origin, join(dir, '0001-first.patch'));
});

t.test('a directory with a quilt series file keeps the series order', async (t) => {
  const dir = t.testdir({
    series: '# quilt\nb.diff\na.diff -p1\n',
    'a.diff': '--- a/a\n+++ b/a\n@@ -1 +1 @@\n-x\n+y\n',
    'b.diff': '--- a/b\n+++ b/b\n@@ -1 +1 @@\n-x\n+y\n',
  });
  t.same((await loadPatchSeries(dir)).map((p) => p.subject), ['b.diff', 'a.diff']);
});

t.test('a git range in a repository', async (t) => {
  const repo = t.testdir({});
  const git = (...args: string[]) => run('git', ['-C', repo, '-c', 'user.name=T', '-c', 'user.email=t@e', ...args]);
  await git('init', '-q', '-b', 'main');
  writeFileSync(join(repo, 'f.txt'), 'one\n');
  await git('add', 'f.txt');
  await git('commit', '-q', '-m', 'base');
  writeFileSync(join(repo, 'f.txt'), 'one\ntwo\n');
  await git('commit', '-q', '-am', 'mm: add two');
  mkdirSync(join(repo, 'sub'));
  writeFileSync(join(repo, 'sub', 'g.txt'), 'g\n');
  await git('add', 'sub/g.txt');
  await git('commit', '-q', '-m', 'sub: add g with a subject long enough to be folded by format-patch when it writes the mail header');
  const patches = await loadPatchSeries('HEAD~2..HEAD', repo);
  t.same(patches.map((p) => p.subject), ['mm: add two', 'sub: add g with a subject long enough to be folded by format-patch when it writes the mail header']);
  t.same(patches.map((p) => p.files), [['f.txt'], ['sub/g.txt']]);
  t.match(patches[0]!.text, /^From 0000000000000000000000000000000000000000 /, 'zero commit: the text does not depend on the commit id');
  const again = await loadPatchSeries('HEAD~2..HEAD', repo);
  t.same(again.map((p) => p.sha256), patches.map((p) => p.sha256), 'stable');
  await t.rejects(loadPatchSeries('nope..HEAD', repo), { code: 'PATCH_SERIES_INVALID' });
  await t.rejects(loadPatchSeries('HEAD..HEAD', repo), { code: 'PATCH_SERIES_EMPTY' });
});

t.test('a path that is nothing is refused', async (t) => {
  const err = await loadPatchSeries('/nonexistent/series.mbox').catch((e: unknown) => e);
  t.ok(err instanceof HarnessError);
  t.equal((err as HarnessError).code, 'PATCH_SERIES_MISSING');
});

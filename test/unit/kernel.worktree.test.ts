import t from 'tap';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HarnessError } from '../../src/errors.js';
import { run } from '../../src/exec.js';
import { prepareKernelTree } from '../../src/kernel/build.js';
import { patchsetHash } from '../../src/kernel/identity.js';
import { assertHostTools, HOST_PACKAGES } from '../../src/kernel/toolchain.js';
import { parsePatchOutput } from '../../src/kernel/worktree.js';
import { fakeKernelTree, INIT_KCONFIG, mailPatch, snapshot } from '../fixtures/kernel/helpers.js';

const root = t.testdir({});
process.env.CXL_HARNESS_CACHE = join(root, 'cache');

const ADDED = '\t  cxl-harness test line added by patch 1.\n';
const patched1 = INIT_KCONFIG.replace('for example.\n', `for example.\n${ADDED}`);

/** patch 1 adds a help line; patch 2 rewrites a line that is not in the tree, so it conflicts. */
async function writeSeries(dir: string, withConflict: boolean): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, '0001-init-help.patch'), await mailPatch('[PATCH 1/2] init: say more in the LOCALVERSION help', 'init/Kconfig', INIT_KCONFIG, patched1, join(dir, '.tmp')));
  if (withConflict) {
    const other = patched1.replace('in that order.', 'in some other order.');
    writeFileSync(join(dir, '0002-init-order.patch'), await mailPatch('[PATCH 2/2] init: reword the order', 'init/Kconfig', other, other.replace('in some other order.', 'in the order given.'), join(dir, '.tmp2')));
  }
}

for (const kind of ['plain', 'git'] as const) {
  t.test(`${kind} tree: a series is applied in a harness-owned copy, never in the user's tree`, async (t) => {
    const src = join(root, `${kind}-src`);
    fakeKernelTree(src);
    let headBefore = '';
    if (kind === 'git') {
      await run('git', ['-C', src, 'init', '-q', '-b', 'main']);
      await run('git', ['-C', src, 'add', '-A']);
      await run('git', ['-C', src, '-c', 'user.name=T', '-c', 'user.email=t@e', 'commit', '-q', '-m', 'base']);
      headBefore = (await run('git', ['-C', src, 'rev-parse', 'HEAD'])).stdout.trim();
    }
    const before = snapshot(src);
    const good = join(root, `${kind}-good`);
    const bad = join(root, `${kind}-bad`);
    await writeSeries(good, false);
    await writeSeries(bad, true);

    const p = await prepareKernelTree({ source: { dir: src }, patches: good, stopAfter: 'patch' });
    t.not(p.tree, src);
    t.equal(readFileSync(join(p.tree, 'init/Kconfig'), 'utf8'), patched1, 'patch applied in the work tree');
    t.equal(p.identity.sourceVersion, '7.2.0-rc1');
    t.equal(p.identity.origin, 'source');
    t.same(p.identity.patches!.map((x) => x.subject), ['init: say more in the LOCALVERSION help']);
    t.equal(p.identity.patches![0]!.sha256, p.patches[0]!.sha256);
    t.equal(p.identity.patchsetHash, patchsetHash([p.patches[0]!.sha256]));
    t.match(p.identity.patchsetHash!, /^[0-9a-f]{64}$/);
    if (kind === 'git') {
      t.equal(p.identity.gitCommit, headBefore);
      const log = await run('git', ['-C', p.tree, 'log', '-1', '--format=%s']);
      t.equal(log.stdout.trim(), 'init: say more in the LOCALVERSION help', 'git am made a commit in the work tree');
    } else {
      t.equal(p.identity.gitCommit, undefined);
    }

    const err = (await prepareKernelTree({ source: { dir: src }, patches: bad, stopAfter: 'patch' }).catch((e: unknown) => e)) as HarnessError;
    t.ok(err instanceof HarnessError, 'a conflict is a HarnessError');
    t.equal(err.code, 'PATCH_CONFLICT');
    t.match(err.message, /^patch 2\/2 "init: reword the order" \(.*0002-init-order\.patch\) does not apply/);
    t.match(err.message, /init\/Kconfig hunk #1 \(@@ -\d+,\d+ \+\d+,\d+ @@\) failed at line \d+/);
    t.match(err.message, /failing hunk:\n@@ .*\n(.*\n)*-\t  object and source tree, in some other order\./);
    t.match(err.hint!, /rebase/);
    t.equal((err.context.patch as { index: number }).index, 2);
    t.equal((err.context.failures as Array<{ file: string }>)[0]!.file, 'init/Kconfig');

    t.same(snapshot(src), before, "the user's tree is byte for byte unchanged");
    if (kind === 'git') {
      t.equal((await run('git', ['-C', src, 'rev-parse', 'HEAD'])).stdout.trim(), headBefore, 'user HEAD unchanged');
      t.equal((await run('git', ['-C', src, 'status', '--porcelain'])).stdout, '', 'user checkout clean');
      t.equal((await run('git', ['-C', src, 'worktree', 'list'])).stdout.trim().split('\n').length, 1, 'no worktree registered in the user repo');
    }

    // Next run without patches: the file the last series touched is back to pristine, with a fresh
    // mtime (newer than anything built from the patched text), so make would recompile it.
    const started = Date.now() - 1000;
    const clean = await prepareKernelTree({ source: { dir: src }, stopAfter: 'patch' });
    t.equal(clean.tree, p.tree, 'the same work tree is reused (incremental builds)');
    t.equal(readFileSync(join(clean.tree, 'init/Kconfig'), 'utf8'), INIT_KCONFIG);
    t.ok(statSync(join(clean.tree, 'init/Kconfig')).mtimeMs >= started, 'restored file has a fresh mtime');
    t.equal(clean.identity.patchsetHash, '');
    t.same(snapshot(src), before);
  });
}

t.test('a directory that is not a kernel tree is named as such', async (t) => {
  const dir = t.testdir({ 'README.md': 'hello' });
  await t.rejects(prepareKernelTree({ source: { dir }, stopAfter: 'patch' }), {
    code: 'KERNEL_SRC_INVALID',
    message: /is not a Linux kernel source tree \(missing Makefile, Kconfig, arch\/x86\/Kconfig, scripts\/kconfig\)/,
  });
  await t.rejects(prepareKernelTree({ source: { dir: join(dir, 'nope') }, stopAfter: 'patch' }), { code: 'KERNEL_SRC_MISSING' });
});

t.test('a missing host tool names its Debian package', async (t) => {
  const path = process.env.PATH;
  process.env.PATH = t.testdir({});
  t.teardown(() => {
    process.env.PATH = path;
  });
  const err = t.throws(() => assertHostTools('configure')) as HarnessError;
  t.equal(err.code, 'TOOLCHAIN_MISSING');
  t.match(err.message, /flex \(Debian package flex\)/);
  t.match(err.message, /bison \(Debian package bison\)/);
  t.equal(err.hint, 'install them as root: apt-get install gcc make flex bison binutils');
  t.ok(HOST_PACKAGES.includes('libelf-dev') && HOST_PACKAGES.includes('libssl-dev') && HOST_PACKAGES.includes('dwarves'));
});

t.test('parsePatchOutput reads patch(1) failures', async (t) => {
  const patchText = '--- a/x.c\n+++ b/x.c\n@@ -1,1 +1,2 @@\n a\n+b\n@@ -9,1 +10,2 @@\n y\n+z\n';
  const out = 'checking file x.c\nHunk #2 FAILED at 9.\n1 out of 2 hunks FAILED\n';
  t.same(parsePatchOutput(out, patchText), [{ file: 'x.c', hunk: 2, line: 9, text: '@@ -9,1 +10,2 @@\n y\n+z' }]);
  const missing = "can't find file to patch at input line 3\nPerhaps you used the wrong -p or --strip option?\nThe text leading up to this was:\n--------------------------\n|--- a/gone.c\n|+++ b/gone.c\n--------------------------\nNo file to patch.  Skipping patch.\n";
  t.same(parsePatchOutput(missing.replace(/^can't.*\n/, '') + "can't find file to patch at input line 3\n", patchText), [{ file: 'gone.c', problem: 'the file does not exist in the tree' }]);
});

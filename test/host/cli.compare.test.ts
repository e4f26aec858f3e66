import t from 'tap';
import { execa } from 'execa';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { compareCommand, parseThreshold } from '../../src/cli/compare.js';
import type { RunSummary } from '../../src/report/model.js';
import { CLI, ROOT, runCli } from '../lib/cli.js';
import { check, finding, summary } from '../fixtures/report/summaries.js';
import { capture, scratch, writeResultsDir } from '../fixtures/report/dirs.js';

interface Pair {
  old: string;
  new: string;
}

function pair(t: Parameters<typeof scratch>[0], oldRun: RunSummary, newRun: RunSummary): Pair {
  const root = scratch(t);
  return { old: writeResultsDir(join(root, 'old'), oldRun), new: writeResultsDir(join(root, 'new'), { ...newRun, runId: `${newRun.runId}-new` }) };
}

async function compare(args: string[]): Promise<{ code: number; out: string }> {
  const c = capture();
  const code = await compareCommand(args, c.io);
  return { code, out: c.stdout };
}

const base = () => summary({ checks: [check('spm.a', 'pass'), check('spm.b', 'pass'), check('spm.c', 'skip'), check('spm.d', 'fail')], outcome: 'fail', exitCode: 1 });

t.test('10 the same run twice: no regression, exit 0, nothing listed', async (t) => {
  const p = pair(t, base(), base());
  const r = await compare([p.old, p.new]);
  t.equal(r.code, 0);
  t.match(r.out, /^no regression: outcome fail$/m);
  t.notMatch(r.out, /new failures|fixed|changed skips|timing changes/);
});

t.test('20 a check that passed and now fails is a regression: exit 1, listed with its reason', async (t) => {
  const next = base();
  next.checks[0] = check('spm.a', 'fail', { reason: 'node 2 is\nnot private' });
  const p = pair(t, base(), next);
  const r = await compare([p.old, p.new]);
  t.equal(r.code, 1);
  t.match(r.out, /new failures \(1\)\n  spm\.a: pass -> fail  \(node 2 is not private\)/);
  t.match(r.out, /^REGRESSION: outcome fail$/m);
  const added = base();
  added.checks.push(check('spm.new', 'error'));
  const q = pair(t, base(), added);
  const r2 = await compare([q.old, q.new]);
  t.equal(r2.code, 1, 'a new check that errors is a new failure too');
  t.match(r2.out, /spm\.new: absent -> error/);
});

t.test('30 a fixed check and a changed skip are reported but are no regression', async (t) => {
  const next = base();
  next.checks[3] = check('spm.d', 'pass');
  next.checks[1] = check('spm.b', 'skip', { reason: 'no SPM node' });
  next.checks[2] = check('spm.c', 'pass');
  next.outcome = 'pass';
  next.exitCode = 0;
  const p = pair(t, base(), next);
  const r = await compare([p.old, p.new]);
  t.equal(r.code, 0);
  t.match(r.out, /fixed \(1\)\n  spm\.d: fail -> pass\n/);
  t.match(r.out, /changed skips \(2\)\n  spm\.b: pass -> skip  \(no SPM node\)\n  spm\.c: skip -> pass\n/);
  t.match(r.out, /no regression: outcome fail -> pass/);
  const gone = base();
  gone.checks.pop();
  const q = pair(t, base(), gone);
  const r2 = await compare([q.old, q.new]);
  t.equal(r2.code, 0, 'a missing check is listed, not a regression');
  t.match(r2.out, /missing in new \(1\)\n  spm\.d \(was fail\)/);
});

t.test('40 a new console finding is a regression; the same one with other addresses is not new', async (t) => {
  const w = (pid: number, off: string) => finding('warning', `WARNING: CPU: 1 PID: ${pid} at mm/migrate.c:300 migrate_pages+0x${off}/0x800`);
  const old = summary({ findings: [w(10, '1a')] });
  const same = summary({ findings: [w(99, 'ff')] });
  const p = pair(t, old, same);
  t.equal((await compare([p.old, p.new])).code, 0, 'the known WARNING with another PID and offset is no news');
  const more = summary({ findings: [w(99, 'ff'), finding('kasan', 'BUG: KASAN: slab-use-after-free in cxl_region_probe+0x20/0x90', { step: 'suite:spm', line: 77 })] });
  const q = pair(t, old, more);
  const r = await compare([q.old, q.new]);
  t.equal(r.code, 1);
  t.match(r.out, /new console findings \(1\)\n  kasan: BUG: KASAN: slab-use-after-free in cxl_region_probe\+0x20\/0x90  \(console\.log:77, step suite:spm\)/);
  const r2 = await compare([q.new, q.old]);
  t.equal(r2.code, 0, 'the other way round the finding is gone: no regression');
  t.match(r2.out, /gone console findings \(1\)/);
});

t.test('50 a worse outcome is a regression even with no check changing', async (t) => {
  const crash = summary({ outcome: 'kernel-crash', exitCode: 3, error: { code: 'KERNEL_PANIC', message: 'panic' } });
  const p = pair(t, summary(), crash);
  const r = await compare([p.old, p.new]);
  t.equal(r.code, 1);
  t.match(r.out, /REGRESSION: outcome pass -> kernel-crash/);
});

t.test('60 timings beyond the threshold are listed, below it not, and never regress', async (t) => {
  const p = pair(t, summary({ timings: { boot: 10_000, suite: 100_000, collect: 0 } }), summary({ timings: { boot: 16_000, suite: 120_000, collect: 500, only_new: 1 } }));
  const r = await compare([p.old, p.new]);
  t.equal(r.code, 0, 'slower is no regression');
  t.match(r.out, /timing changes beyond 50% \(2\)\n  boot: 10 s -> 16 s \(\+60%\)\n  collect: 0 ms -> 500 ms \(from 0\)\n/);
  t.notMatch(r.out, /suite:/, '+20% is within the default threshold');
  const tight = await compare([p.old, p.new, '--timing-threshold', '0.1']);
  t.match(tight.out, /timing changes beyond 10% \(3\)[\s\S]*suite: 100 s -> 120 s \(\+20%\)/);
  const noisy = await compare([p.old, p.new, '--timing-threshold', '10%', '--min-timing-delta', '1000']);
  t.match(noisy.out, /timing changes beyond 10% \(2\)/, 'the 500 ms change is under --min-timing-delta');
  t.equal(parseThreshold('25%'), 0.25);
  t.throws(() => parseThreshold('-1'), { code: 'USAGE' });
  t.throws(() => parseThreshold('fast'), { code: 'USAGE' });
});

t.test('70 --json carries the whole comparison; an infinite ratio is null', async (t) => {
  const old = summary({ timings: { collect: 0 } });
  const next = summary({ timings: { collect: 400 }, checks: [check('spm.cpuset.mems_sysram_file', 'fail'), check('spm.node.private', 'pass')] });
  const p = pair(t, old, next);
  const r = await compare([p.old, p.new, '--json']);
  t.equal(r.code, 1);
  const j = JSON.parse(r.out) as {
    old: { dir: string; runId: string };
    new: { dir: string; runId: string };
    options: { timingThreshold: number };
    comparison: { newFailures: { id: string }[]; missing: { id: string }[]; timingChanges: { ratio: number | null }[]; isRegression: boolean };
  };
  t.same([j.old.dir, j.new.dir, j.new.runId], [p.old, p.new, `${next.runId}-new`]);
  t.equal(j.options.timingThreshold, 0.5);
  t.same(j.comparison.newFailures.map((x) => x.id), ['spm.cpuset.mems_sysram_file']);
  t.same(j.comparison.missing.map((x) => x.id), ['cxl.region.online']);
  t.same(j.comparison.timingChanges.map((x) => x.ratio), [null]);
  t.equal(j.comparison.isRegression, true);
});

t.test('80 bad input: a dir without summary.json is named; wrong arity is usage', async (t) => {
  const root = scratch(t);
  const good = writeResultsDir(join(root, 'good'), summary());
  await t.rejects(compareCommand([join(root, 'empty-or-missing'), good], capture().io), { code: 'RESULTS_MISSING', exitCode: 2, message: new RegExp(join(root, 'empty-or-missing')) });
  await t.rejects(compareCommand([good, root], capture().io), { code: 'RESULTS_MISSING', message: new RegExp(`${join(root, 'summary.json')}`) });
  await t.rejects(compareCommand([good], capture().io), { code: 'USAGE' });
  await t.rejects(compareCommand([good, good, '--timing-threshold', 'x'], capture().io), { code: 'USAGE' });
});

t.test('90 the built CLI: exit 1 on regression, 0 without, 2 naming a dir without summary.json', async (t) => {
  // Build dist from the current sources when it is older than them (tsc emits even with type errors elsewhere).
  const built = join(ROOT, 'dist', 'cli', 'compare.js');
  const src = join(ROOT, 'src', 'cli', 'compare.ts');
  if (!existsSync(built) || statSync(built).mtimeMs < statSync(src).mtimeMs || statSync(join(ROOT, 'dist', 'cli', 'report.js')).mtimeMs < statSync(join(ROOT, 'src', 'cli', 'report.ts')).mtimeMs) {
    await execa('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, reject: false });
  }
  t.ok(existsSync(built), `${CLI} and its compare module are built`);
  const next = base();
  next.checks[0] = check('spm.a', 'fail');
  const p = pair(t, base(), next);
  const env = { NO_COLOR: '1' };
  const reg = await runCli(['compare', p.old, p.new], { env, timeoutMs: 60_000 });
  t.equal(reg.exitCode, 1, reg.stderr);
  t.match(reg.stdout, /new failures \(1\)/);
  const same = await runCli(['compare', p.old, p.old], { env, timeoutMs: 60_000 });
  t.equal(same.exitCode, 0, same.stderr);
  const missing = join(scratch(t), 'not-a-results-dir');
  const bad = await runCli(['compare', missing, p.new], { env, timeoutMs: 60_000 });
  t.equal(bad.exitCode, 2);
  t.match(bad.stderr, new RegExp(`error \\[RESULTS_MISSING\\]: ${missing} is not a results dir`));
  const help = await runCli(['compare', '--help'], { env, timeoutMs: 60_000 });
  t.match(help.stdout, /Exit codes: 0 no regression, 1 regression, 2/);
});

import t from 'tap';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { advanceBaseline } from '../../src/ci/baseline.js';
import type { CiRunOptions, RunExecutor } from '../../src/ci/executor.js';
import { finishNightly, nightlyDecision } from '../../src/ci/nightly.js';
import { nightlyCommand } from '../../src/cli/nightly.js';
import { describeComparison } from '../../src/report/compare.js';
import type { RunSummary } from '../../src/report/model.js';
import { check, finding, summary } from '../fixtures/report/summaries.js';
import { capture, scratch, writeResultsDir } from '../fixtures/report/dirs.js';

const OPTS = { timingThreshold: 0.5 };
const good = (runId = 'good') => summary({ runId, checks: [check('hotplug.a', 'pass'), check('hotplug.b', 'pass')] });
const broken = (runId = 'broken') => summary({ runId, outcome: 'fail', exitCode: 1, checks: [check('hotplug.a', 'pass'), check('hotplug.b', 'fail')] });
const cmp = (o: RunSummary, n: RunSummary) => describeComparison('old', o, 'new', n, OPTS);

t.test('10 nightlyDecision: exit 1 on regression, else the run\'s code; only complete runs may become the baseline', async (t) => {
  t.same(nightlyDecision(good(), 0, cmp(good(), good())), { exitCode: 0, regression: false, mayBecomeBaseline: true, reason: 'no regression' });
  const reg = nightlyDecision(broken(), 1, cmp(good(), broken()));
  t.same([reg.exitCode, reg.regression, reg.mayBecomeBaseline], [1, true, false]);
  t.match(reg.reason, /regression: 1 new failure, outcome pass -> fail/);
  const known = nightlyDecision(broken(), 1, cmp(broken(), broken()));
  t.same([known.exitCode, known.regression, known.mayBecomeBaseline], [1, false, true], 'a failure the baseline had: the run\'s exit 1, and it may advance');
  const withFinding = summary({ findings: [finding('bug', 'BUG: unable to handle page fault for address: ffff8880deadbeef')] });
  t.equal(nightlyDecision(withFinding, 1, cmp(good(), withFinding)).exitCode, 1);
  const crash = summary({ outcome: 'kernel-crash', exitCode: 3 });
  const again = nightlyDecision(crash, 3, cmp(crash, crash));
  t.same([again.exitCode, again.regression, again.mayBecomeBaseline], [3, false, false], 'crashing like the baseline: exit 3, never the new baseline');
  const infra = summary({ outcome: 'infrastructure-error', exitCode: 2 });
  t.same(nightlyDecision(infra, 2, cmp(good(), infra)).exitCode, 1, 'an infrastructure error after a pass is a worse outcome');
  const stopped = summary({ outcome: 'interrupted', exitCode: 130 });
  t.same(nightlyDecision(stopped, 130, cmp(good(), stopped)), { exitCode: 130, regression: false, mayBecomeBaseline: false, reason: 'the run was interrupted: no verdict against the baseline' });
  t.same(nightlyDecision(good(), 0, undefined).mayBecomeBaseline, true, 'no baseline yet: a complete run seeds it');
  t.same(nightlyDecision(infra, 2, undefined).mayBecomeBaseline, false);
});

t.test('20 finishNightly writes compare.json into the new dir and repoints a symlink baseline only without regression', async (t) => {
  const root = scratch(t);
  const first = writeResultsDir(join(root, 'results', 'run-1'), good('run-1'));
  const baseline = join(root, 'baseline');
  symlinkSync('results/run-1', baseline);

  const badDir = writeResultsDir(join(root, 'results', 'run-2'), broken('run-2'));
  const bad = await finishNightly({ newDir: badDir, newRun: broken('run-2'), runExitCode: 1, baselineDir: baseline, baseline: good('run-1'), updateBaseline: true, options: OPTS });
  t.same([bad.decision.exitCode, bad.baselineAction], [1, undefined]);
  t.equal(realpathSync(baseline), realpathSync(first), 'a regression leaves the baseline alone');
  const written = JSON.parse(readFileSync(join(badDir, 'compare.json'), 'utf8')) as {
    old: { runId: string };
    new: { runId: string };
    comparison: { newFailures: { id: string }[]; isRegression: boolean };
    nightly: { exitCode: number; regression: boolean; baselineUpdated: string | null; runExitCode: number };
  };
  t.same([written.old.runId, written.new.runId, written.comparison.newFailures.map((x) => x.id), written.comparison.isRegression], ['run-1', 'run-2', ['hotplug.b'], true]);
  t.same(written.nightly, { ...written.nightly, exitCode: 1, regression: true, baselineUpdated: null, runExitCode: 1 });
  t.equal(bad.trend, join(badDir, 'trend.html'));
  const trend = readFileSync(bad.trend, 'utf8');
  t.match(trend, /<h1>2 runs of spm on 1 kernel<\/h1>/, 'trend.html: the baseline and the new run on one page');
  t.match(trend, /<tr><td><code>hotplug\.b<\/code><\/td><td class="cell v-pass"[^>]*>P<\/td><td class="cell v-fail"[^>]*>F<\/td><\/tr>/, 'the new failure in the grid, the baseline first');

  const okDir = writeResultsDir(join(root, 'results', 'run-3'), good('run-3'));
  const ok = await finishNightly({ newDir: okDir, newRun: good('run-3'), runExitCode: 0, baselineDir: baseline, baseline: good('run-1'), updateBaseline: true, options: OPTS });
  t.same([ok.decision.exitCode, ok.baselineAction], [0, 'repointed']);
  t.ok(lstatSync(baseline).isSymbolicLink(), 'still a symlink');
  t.equal(readlinkSync(baseline), 'results/run-3', 'relative link to the new run');
  t.equal(realpathSync(baseline), realpathSync(okDir));

  const noUpdate = writeResultsDir(join(root, 'results', 'run-4'), good('run-4'));
  const kept = await finishNightly({ newDir: noUpdate, newRun: good('run-4'), runExitCode: 0, baselineDir: baseline, baseline: good('run-3'), updateBaseline: false, options: OPTS });
  t.equal(kept.baselineAction, undefined, 'without --update-baseline nothing moves');
  t.equal(realpathSync(baseline), realpathSync(okDir));
});

t.test('30 a real-directory baseline is replaced by a copy; a missing one is created as a link', async (t) => {
  const root = scratch(t);
  const baseline = writeResultsDir(join(root, 'baseline'), good('old'));
  const next = writeResultsDir(join(root, 'run'), good('new'));
  mkdirSync(join(next, 'evidence', 'deep'), { recursive: true });
  t.equal(await advanceBaseline(baseline, next), 'copied');
  t.notOk(lstatSync(baseline).isSymbolicLink());
  t.equal((JSON.parse(readFileSync(join(baseline, 'summary.json'), 'utf8')) as RunSummary).runId, 'new');
  t.ok(existsSync(join(baseline, 'evidence', 'deep')), 'the whole results dir is copied');
  t.ok(existsSync(join(next, 'summary.json')), 'the new run stays where it is');
  t.same(readFileSync(join(root, 'run', 'summary.json'), 'utf8'), readFileSync(join(baseline, 'summary.json'), 'utf8'));

  const fresh = join(root, 'nightly-baseline');
  t.equal(await advanceBaseline(fresh, next), 'created');
  t.equal(readlinkSync(fresh), 'run');
});

/** A stand-in for a run: writes the summary (and TAP) a run would leave and returns the summary. */
function fakeRun(s: RunSummary): { execute: RunExecutor; calls: { options: CiRunOptions; dir: string }[] } {
  const calls: { options: CiRunOptions; dir: string }[] = [];
  return {
    calls,
    execute: async (options) => {
      calls.push({ options, dir: options.resultsDir });
      writeResultsDir(options.resultsDir, s);
      writeFileSync(join(options.resultsDir, 'results.tap'), `TAP version 14\n# run ${s.runId}\n`);
      return s;
    },
  };
}

t.test('40 nightlyCommand: run options pass through, the baseline is checked before the run, exit codes', async (t) => {
  const root = scratch(t);
  const baseline = join(root, 'baseline');
  const c0 = capture();
  const f0 = fakeRun(good('n0'));
  await t.rejects(nightlyCommand(['--baseline', baseline, '--suite', 'hotplug'], { io: c0.io, log: () => {}, execute: f0.execute }), { code: 'RESULTS_MISSING', exitCode: 2, message: new RegExp(`baseline ${baseline}`) });
  t.equal(f0.calls.length, 0, 'a missing baseline fails before any run');
  await t.rejects(nightlyCommand(['--suite', 'hotplug'], { io: c0.io, execute: f0.execute }), { code: 'USAGE', message: /--baseline/ });

  const seed = capture();
  const code0 = await nightlyCommand(['--baseline', baseline, '--update-baseline', '--results-base', join(root, 'results'), '--suite', 'hotplug', '--kvm'], { io: seed.io, log: () => {}, execute: f0.execute });
  t.equal(code0, 0);
  t.same(f0.calls[0]?.options.argv, ['run', '--suite', 'hotplug', '--kvm'], 'nightly\'s own options are taken out, run\'s pass through (reproducer.sh repeats the run)');
  t.same([f0.calls[0]?.options.suite.name, f0.calls[0]?.options.accel], ['hotplug', 'kvm'], 'and the run gets them as options');
  t.match(f0.calls[0]?.dir, new RegExp(`^${join(root, 'results')}/\\d{8}T\\d{6}-[0-9a-f]{6}$`));
  t.equal(realpathSync(baseline), realpathSync(f0.calls[0]!.dir), 'the first nightly seeds the baseline');
  t.match(seed.stdout, /no baseline to compare with/);

  const f1 = fakeRun(broken('n1'));
  const c1 = capture();
  const dir1 = join(root, 'results', 'n1');
  t.equal(await nightlyCommand(['--baseline', baseline, '--update-baseline', '--results', dir1, '--json'], { io: c1.io, log: () => {}, execute: f1.execute }), 1, 'regression: exit 1');
  t.equal(f1.calls[0]?.dir, dir1);
  t.same(JSON.parse(c1.stdout), JSON.parse(readFileSync(join(dir1, 'compare.json'), 'utf8')), '--json prints compare.json');
  t.equal(realpathSync(baseline), realpathSync(f0.calls[0]!.dir), 'the regressing run did not become the baseline');

  const f2 = fakeRun(good('n2'));
  const c2 = capture();
  t.equal(await nightlyCommand(['--baseline=' + baseline, '--results', join(root, 'results', 'n2'), '--timing-threshold', '0.2'], { io: c2.io, log: () => {}, execute: f2.execute }), 0);
  t.match(c2.stdout, /no regression: outcome pass/);
  await t.rejects(nightlyCommand(['--baseline', baseline, '--results', realpathSync(baseline)], { io: c2.io, log: () => {}, execute: f2.execute }), { code: 'USAGE', message: /is the baseline itself/ });

  const f3 = fakeRun(good('n3'));
  const c3 = capture();
  const dir3 = join(root, 'results', 'n3');
  t.equal(await nightlyCommand(['--baseline', baseline, '--format', 'tap', '--kernel=x', '--update-baseline', '--results', dir3], { io: c3.io, log: () => {}, execute: f3.execute }), 0);
  t.same(f3.calls[0]?.options.argv, ['run', '--format', 'tap', '--kernel', resolve('x')], 'run\'s options pass through in any form, nightly\'s are left out');
  t.same(f3.calls[0]?.options.kernel, { kind: 'prebuilt', image: resolve('x') });
  t.match(c3.stdout, /^TAP version 14\n# run n3\n/, '--format tap prints the run\'s report before the comparison');
  t.equal(realpathSync(baseline), realpathSync(dir3), '--update-baseline still counts after run options');
  await t.rejects(nightlyCommand(['--baseline'], { io: c3.io, log: () => {}, execute: f3.execute }), { code: 'USAGE', message: /--baseline needs a value/ });
});

t.test('50 a baseline whose run never booted is refused before the run, named', async (t) => {
  const root = scratch(t);
  const baseline = writeResultsDir(join(root, 'baseline'), summary({
    runId: 'never', outcome: 'infrastructure-error', exitCode: 2, checks: [],
    steps: [{ name: 'kernel', startedAt: '2024-05-01T12:00:01.000Z', status: 'failed', error: 'no such suite' }],
    error: { code: 'KERNEL_SUITE_UNKNOWN', message: 'Debian\'s archive has no suite "sidd"' },
  }));
  const c = capture();
  const f = fakeRun(good('n1'));
  await t.rejects(nightlyCommand(['--baseline', baseline, '--results', join(root, 'n1')], { io: c.io, log: () => {}, execute: f.execute }), {
    code: 'RESULTS_NOT_RUN', exitCode: 2, message: new RegExp(`^baseline ${baseline} holds a run that never booted \\(KERNEL_SUITE_UNKNOWN: `),
  });
  t.equal(f.calls.length, 0, 'no run was started');
});

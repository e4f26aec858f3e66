import t from 'tap';
import { compareRuns, findingSignature } from '../../src/report/compare.js';
import { check, finding, summary } from '../fixtures/report/summaries.js';

const opts = { timingThreshold: 0.25 };

t.test('10 identical runs: nothing changed, no regression', async (t) => {
  const r = compareRuns(summary(), summary(), opts);
  t.same(r, {
    newFailures: [],
    fixed: [],
    changedSkips: [],
    missing: [],
    newFindings: [],
    goneFindings: [],
    timingChanges: [],
    outcome: { old: 'pass', new: 'pass' },
    isRegression: false,
  });
});

t.test('20 a check that passed and now fails is a new failure and a regression', async (t) => {
  const old = summary({ checks: [check('spm.a', 'pass'), check('spm.b', 'fail'), check('spm.c', 'pass')] });
  const neu = summary({
    outcome: 'fail',
    checks: [check('spm.a', 'fail'), check('spm.b', 'pass'), check('spm.c', 'error'), check('spm.d', 'fail')],
  });
  const r = compareRuns(old, neu, opts);
  t.same(r.newFailures, [
    { id: 'spm.a', old: 'pass', new: 'fail', reason: 'value differs' },
    { id: 'spm.c', old: 'pass', new: 'error', reason: 'precondition not met: region0 online' },
    { id: 'spm.d', new: 'fail', reason: 'value differs' },
  ]);
  t.same(r.fixed, [{ id: 'spm.b', old: 'fail', new: 'pass' }]);
  t.equal(r.isRegression, true);
});

t.test('30 fixing checks is not a regression; a pass without evidence counts as an error', async (t) => {
  const old = summary({ outcome: 'fail', checks: [check('spm.a', 'fail')] });
  const neu = summary({ checks: [check('spm.a', 'pass')] });
  const r = compareRuns(old, neu, opts);
  t.same([r.fixed.length, r.newFailures.length, r.isRegression], [1, 0, false]);
  const hollow = compareRuns(summary({ checks: [check('spm.a', 'pass')] }), summary({ checks: [check('spm.a', 'pass', { evidence: [] })] }), opts);
  t.same(hollow.newFailures.map((c) => [c.id, c.new]), [['spm.a', 'error']]);
  t.equal(hollow.isRegression, true);
});

t.test('40 skips that appear or disappear are reported, missing checks listed', async (t) => {
  const old = summary({ checks: [check('zswap.a', 'skip'), check('zswap.b', 'pass'), check('zswap.c', 'pass')] });
  const neu = summary({ checks: [check('zswap.a', 'pass'), check('zswap.b', 'skip')] });
  const r = compareRuns(old, neu, opts);
  t.same(r.changedSkips.map((c) => [c.id, c.old, c.new]), [
    ['zswap.a', 'skip', 'pass'],
    ['zswap.b', 'pass', 'skip'],
  ]);
  t.same(r.missing, [{ id: 'zswap.c', old: 'pass' }]);
  t.equal(r.isRegression, false);
});

t.test('50 console findings match across runs by signature, not by addresses or PIDs', async (t) => {
  t.equal(
    findingSignature({ kind: 'warning', title: 'WARNING: CPU: 0 PID: 233 at mm/memory_hotplug.c:1179 online_pages+0x2b1/0x2f0' }),
    findingSignature({ kind: 'warning', title: 'WARNING: CPU: 3 PID: 9 at mm/memory_hotplug.c:1179 online_pages+0x2b1/0x2f0' }),
  );
  t.not(
    findingSignature({ kind: 'warning', title: 'WARNING: CPU: 0 PID: 1 at mm/a.c:1 f+0x1/0x2' }),
    findingSignature({ kind: 'warning', title: 'WARNING: CPU: 0 PID: 1 at mm/b.c:1 f+0x1/0x2' }),
  );
  const w = (cpu: number, file: string) => finding('warning', `WARNING: CPU: ${cpu} PID: ${cpu * 7} at ${file}:12 f+0x1/0x2`);
  const old = summary({ findings: [w(0, 'mm/a.c'), w(1, 'mm/gone.c')] });
  const neu = summary({
    findings: [w(2, 'mm/a.c'), w(3, 'mm/a.c'), w(0, 'mm/new.c'), finding('oom', 'x invoked oom-killer:')],
  });
  const r = compareRuns(old, neu, opts);
  t.same(r.newFindings.map((f) => f.title), [
    'WARNING: CPU: 3 PID: 21 at mm/a.c:12 f+0x1/0x2',
    'WARNING: CPU: 0 PID: 0 at mm/new.c:12 f+0x1/0x2',
  ], 'a second occurrence is new; OOM is informational');
  t.same(r.goneFindings.map((f) => f.title), ['WARNING: CPU: 1 PID: 7 at mm/gone.c:12 f+0x1/0x2']);
  t.equal(r.isRegression, true);
  const expected = compareRuns(summary(), summary({ findings: [{ ...w(0, 'mm/x.c'), expected: true }] }), opts);
  t.same([expected.newFindings.length, expected.isRegression], [0, false]);
});

t.test('60 an outcome that got worse is a regression even with no check change', async (t) => {
  t.equal(compareRuns(summary(), summary({ outcome: 'kernel-crash', checks: summary().checks }), opts).isRegression, true);
  t.equal(compareRuns(summary({ outcome: 'hang' }), summary({ outcome: 'fail' }), opts).isRegression, false);
  t.equal(compareRuns(summary({ outcome: 'infrastructure-error' }), summary({ outcome: 'hang' }), opts).isRegression, true);
});

t.test('70 timing changes beyond the threshold are reported and never make a regression', async (t) => {
  const old = summary({ timings: { boot: 10000, suite: 200000, tiny: 2, zero: 0, onlyOld: 5 } });
  const neu = summary({ timings: { boot: 12400, suite: 100000, tiny: 4, zero: 0, onlyNew: 9 } });
  const r = compareRuns(old, neu, { timingThreshold: 0.25, minTimingDeltaMs: 10 });
  t.same(r.timingChanges, [{ name: 'suite', oldMs: 200000, newMs: 100000, ratio: 0.5 }]);
  t.equal(r.isRegression, false);
  const noFloor = compareRuns(old, neu, { timingThreshold: 0.2 });
  t.same(noFloor.timingChanges.map((c) => [c.name, c.ratio]), [
    ['boot', 1.24],
    ['suite', 0.5],
    ['tiny', 2],
  ]);
});

import t from 'tap';
import { mergeShards } from '../../src/report/merge.js';
import { check, finding, summary } from '../fixtures/report/summaries.js';

const shardA = () =>
  summary({
    runId: 'run-1',
    suite: 'spm',
    startedAt: '2024-05-01T12:00:00.000Z',
    finishedAt: '2024-05-01T12:10:00.000Z',
    checks: [check('spm.a', 'pass'), check('spm.b', 'skip')],
    findings: [finding('warning', 'WARNING: CPU: 0 PID: 1 at mm/a.c:1 f', { line: 10, step: 'spm' })],
    observations: [{ id: 'obs.slow-online', title: 'slow online', detail: '3s' }],
    timings: { boot: 9000, suite: 100 },
  });
const shardB = () =>
  summary({
    runId: 'run-2',
    suite: 'zswap',
    startedAt: '2024-05-01T11:59:00.000Z',
    finishedAt: '2024-05-01T12:20:00.000Z',
    checks: [check('zswap.a', 'pass')],
    observations: [{ id: 'obs.slow-online', title: 'slow online', detail: '3s' }],
    timings: { boot: 12000, other: 5 },
  });

t.test('10 two passing shards merge into one run covering both', async (t) => {
  const m = mergeShards([shardA(), shardB()], { shardDirs: ['shard-1', 'shard-2'] });
  t.equal(m.runId, 'run-1+run-2');
  t.equal(m.startedAt, '2024-05-01T11:59:00.000Z');
  t.equal(m.finishedAt, '2024-05-01T12:20:00.000Z');
  t.equal(m.suite, 'spm,zswap');
  t.same(m.checks.map((c) => [c.id, c.evidence]), [
    ['spm.a', ['shard-1/checks/spm.a.txt']],
    ['spm.b', []],
    ['zswap.a', ['shard-2/checks/zswap.a.txt']],
  ]);
  t.same(m.findings.map((f) => [f.log, f.line, f.step]), [['shard-1/console.log', 10, 'spm']]);
  t.same(m.steps.map((s) => s.log), ['shard-1/steps/boot.log', 'shard-1/steps/spm.log', 'shard-2/steps/boot.log', 'shard-2/steps/spm.log']);
  t.same(m.timings, { boot: 12000, suite: 100, other: 5 }, 'the slowest shard bounds each timing');
  t.equal(m.observations.length, 1, 'identical observations are kept once');
  t.same([m.outcome, m.exitCode], ['fail', 1], 'the unexpected WARNING in shard 1 fails the merged run');
});

t.test('20 the worst shard outcome wins and its error is kept', async (t) => {
  const crashed = summary({
    runId: 'run-3',
    outcome: 'kernel-crash',
    exitCode: 3,
    error: { code: 'KERNEL_PANIC', message: 'panic during zswap' },
    checks: [check('zswap.z', 'pass')],
  });
  const m = mergeShards([shardA(), crashed], { runId: 'nightly-42' });
  t.same([m.runId, m.outcome, m.exitCode, m.error?.code], ['nightly-42', 'kernel-crash', 3, 'KERNEL_PANIC']);
  t.same(m.findings.map((f) => f.log), ['console.log'], 'without shard dirs paths stay as they were');
  const term = mergeShards([summary({ runId: 'a', checks: [check('x.a', 'pass')] }), summary({ runId: 'b', outcome: 'interrupted', exitCode: 143, checks: [] })]);
  t.same([term.outcome, term.exitCode], ['interrupted', 143]);
  const one = mergeShards([summary()]);
  t.same([one.outcome, one.exitCode, one.checks.length], ['pass', 0, 3]);
  const unfinished = summary({ runId: 'z', checks: [] });
  delete unfinished.finishedAt;
  t.notOk('finishedAt' in mergeShards([summary(), unfinished]), 'no finish time while a shard has none');
});

t.test('30 shards that cannot be one run are refused', async (t) => {
  t.throws(() => mergeShards([]), { code: 'REPORT_MERGE_EMPTY' });
  t.throws(() => mergeShards([shardA(), shardB()], { shardDirs: ['only-one'] }), { code: 'REPORT_MERGE_DIRS' });
  t.throws(() => mergeShards([shardA(), shardA()]), { code: 'REPORT_MERGE_DUPLICATE_CHECK', message: /spm\.a appears in shard 0 and shard 1/ });
  const otherKernel = summary({ runId: 'x', checks: [], kernel: { origin: 'source', release: '6.9.0' } });
  t.throws(() => mergeShards([shardA(), otherKernel]), { code: 'REPORT_MERGE_MISMATCH', message: /kernel source 6\.9\.0/ });
  const otherTopo = summary({ runId: 'y', checks: [], topology: { name: 'interleave-2' } });
  t.throws(() => mergeShards([shardA(), otherTopo]), { code: 'REPORT_MERGE_MISMATCH', message: /topology interleave-2/ });
});

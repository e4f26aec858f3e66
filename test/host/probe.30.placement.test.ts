// Placement and moving against the running kernel: pages land on node 0, moves to a node
// that does not exist are refused with the kernel's errno, contents survive.
import t from 'tap';
import { isProbeFailure, probeMigratePages, probeMovePages, probePlace } from '../../src/probe/index.js';
import type { ProbeFailure } from '../../src/probe/index.js';

function ran<R>(r: R | ProbeFailure): R {
  if (isProbeFailure(r)) throw new Error(`probe child failed: ${r.message}\n${r.stderr}`);
  return r;
}

t.test('10 every backing and fill places all pages on node 0, seen by move_pages and get_mempolicy alike', async (t) => {
  for (const backing of ['anon', 'shmem', 'file'] as const) {
    for (const fill of ['zero', 'pattern', 'random'] as const) {
      const r = ran(await probePlace({ pages: 32, backing, fill }));
      t.equal(r.ok, true, `${backing}/${fill} ok`);
      t.same(r.placed?.nodes, { 0: 32 }, `${backing}/${fill} on node 0`);
      t.same(r.placedByGetMempolicy?.nodes, { 0: 32 });
      t.equal(r.corruptPages, 0);
    }
  }
});

t.test('20 a task policy or mbind to node 0 places there and reads back', async (t) => {
  const policy = ran(await probePlace({ pages: 16, policy: 'bind', policyNodes: [0] }));
  t.equal(policy.policy?.ok, true);
  t.same(policy.placed?.nodes, { 0: 16 });
  const bound = ran(await probePlace({ pages: 16, mbind: 'interleave', mbindNodes: [0], mbindFlags: ['static'] }));
  t.equal(bound.mbind?.ok, true);
  t.same(bound.mbind?.readback, { ok: true, errno: 0, code: 'OK', mode: 'interleave', flags: ['static'], nodes: [0] });
  const moved = ran(await probePlace({ pages: 16, mbind: 'bind', mbindNodes: [0], mbindMove: ['strict', 'move'], mbindAfterFill: true }));
  t.equal(moved.mbind?.ok, true, 'MPOL_MF_STRICT|MOVE on pages already on node 0');
});

t.test('30 a policy or mbind to a missing node is EINVAL and nothing is faulted under it', async (t) => {
  const policy = ran(await probePlace({ pages: 8, policy: 'bind', policyNodes: [63] }));
  t.same([policy.ok, policy.code, policy.policy?.code], [false, 'EINVAL', 'EINVAL']);
  t.same(policy.placed?.errors, { ENOENT: 8 }, 'pages were never faulted');
  const bound = ran(await probePlace({ pages: 8, mbind: 'bind', mbindNodes: [63] }));
  t.same([bound.ok, bound.code], [false, 'EINVAL']);
  const bothMoves = ran(await probePlace({ pages: 8, mbind: 'bind', mbindNodes: [0], mbindMove: ['move', 'move-all'] }));
  t.equal(bothMoves.ok, true, 'MOVE|MOVE_ALL together is accepted by mbind as root');
});

t.test('40 move_pages to node 0 keeps every page there; to an offline node it is ENODEV', async (t) => {
  const r = ran(await probeMovePages({ pages: 16, to: 0 }));
  t.equal(r.ok, true);
  t.same(r.move?.status, new Array(16).fill(0));
  t.same(r.after?.nodes, { 0: 16 });
  const off = ran(await probeMovePages({ pages: 16, to: 63, moveAll: true }));
  t.same([off.ok, off.errno, off.code], [false, 19, 'ENODEV']);
  t.same(off.after?.nodes, { 0: 16 }, 'nothing moved');
});

t.test('50 migrate_pages between node sets: identity works, a missing target is EINVAL', async (t) => {
  const same = ran(await probeMigratePages({ pages: 16, from: [0], to: [0] }));
  t.same([same.ok, same.migrate?.notMigrated], [true, 0]);
  t.same(same.after?.nodes, { 0: 16 });
  const missing = ran(await probeMigratePages({ pages: 16, from: [0], to: [63] }));
  t.same([missing.ok, missing.code], [false, 'EINVAL']);
  t.same(missing.after?.nodes, { 0: 16 });
});

t.test('60 an unprivileged migrate_pages outside the allowed set is refused', async (t) => {
  // As uid 65534 (no CAP_SYS_NICE), a target outside the task's nodes is EPERM before anything else.
  const r = ran(await probeMigratePages({ pages: 8, from: [0], to: [63], asUid: 65534 }));
  t.same([r.ok, r.code], [false, 'EPERM']);
});

t.test('70 stopOnNode: the hog stops at the first page on that node, and touches nothing past it', async (t) => {
  // Everything lands on node 0 here: the first check (after 16 pages) finds it and stops.
  const stopped = ran(await probePlace({ pages: 1000, fill: 'pattern', stopOnNode: 0 }));
  t.equal(stopped.filled, 16, 'stopped at the first check (every 16 pages)');
  t.same(stopped.placed?.nodes, { 0: 16 }, 'only the filled pages are resident');
  t.same(stopped.placed?.errors, {}, 'only the pages written are asked about: the other 984 are neither counted nor faulted in');
  t.equal(stopped.placedByGetMempolicy, undefined, 'get_mempolicy(MPOL_F_ADDR) would fault pages in: not asked');
  // No page can land on a node that does not exist: all are written.
  const all = ran(await probePlace({ pages: 200, fill: 'pattern', stopOnNode: 63 }));
  t.equal(all.filled, 200);
  t.same(all.placed?.nodes, { 0: 200 });
});

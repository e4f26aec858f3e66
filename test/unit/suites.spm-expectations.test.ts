/**
 * The interface table as expectations: each row judges an observation per version of the
 * series (src/suites/spm/generations/). Hand-made observations are the values the versions'
 * documents name; the recorded ones come from real runs of stock, v1, v2 and v3 on 7.2.13
 * (test/fixtures/spm/*-observed-7.2.13.json).
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { GENERATIONS, generationById, lookup, type GenerationId } from '../../src/suites/spm/generations/index.js';
import { ROWS, all, type ObsOf, type RowName } from '../../src/suites/spm/rows.js';

const nodes = { control: 1, spm: 2 };

function judge<K extends RowName>(row: K, gen: GenerationId, observed: ObsOf<K>): true | string {
  const found = lookup(row, generationById(gen)!);
  if (found.kind !== 'expect') throw new Error(`${ROWS[row].id} has no expectation for ${gen}: ${found.reason}`);
  return found.expectation.judge(observed, nodes);
}

const KEYS = Object.keys(ROWS) as RowName[];

t.test('lookup: encoded, not applicable, and versions no kernel proved', async (t) => {
  t.equal(lookup('bindSpm', generationById('stock')!).kind, 'expect');
  t.equal(lookup('bindSpm', generationById('spm-v2')!).kind, 'expect');
  t.same(lookup('spmInvalid', generationById('stock')!), { kind: 'skip', reason: 'spm_node does not exist on unpatched kernels (n/a in the table)' });
  t.same(lookup('bindSpm', generationById('private-v4')!), { kind: 'skip', reason: 'generation private-v4: no kernel of this version was available to prove expectations' });
  t.match(lookup('spmFoo', generationById('private-v3')!), { kind: 'skip', reason: /v3 has no region or dax bit/ });
});

t.test('every row has an entry (expectation or not-applicable reason) for every proven version, and a unique id', async (t) => {
  const ids = new Set<string>();
  for (const key of KEYS) {
    const row = ROWS[key];
    t.notOk(ids.has(row.id), `${row.id} unique`);
    ids.add(row.id);
    t.match(row.id, /^spm\.[a-z_]+(\.[a-z_]+)?$/, `${row.id} is a stable dotted id`);
    for (const g of GENERATIONS.filter((x) => !x.unproven)) t.ok(g.column[key], `${row.id} covers ${g.id}`);
  }
  for (const g of GENERATIONS.filter((x) => x.unproven)) t.same(Object.keys(g.column), [], `${g.id} encodes nothing it could not prove`);
});

t.test('all() passes only when every condition holds, naming the failing ones', async (t) => {
  t.equal(all([true, 'a'], [true, 'b']), true);
  t.equal(all([true, 'a'], [false, 'b'], [false, 'c']), 'b; c');
});

t.test('set_mempolicy/mbind BIND {S}: stock accepts, v2 refuses with EINVAL', async (t) => {
  const stockObs = { setMempolicyCode: 'OK', mbindCode: 'OK', pages: 16, onSpm: 16 };
  const v2Obs = { setMempolicyCode: 'EINVAL', mbindCode: 'EINVAL', pages: 16, onSpm: 0 };
  t.equal(judge('bindSpm', 'stock', stockObs), true);
  t.equal(judge('bindSpm', 'spm-v2', v2Obs), true);
  t.equal(judge('bindSpm', 'spm-v2', stockObs), 'set_mempolicy OK; mbind OK; 16 pages on S', 'a v2 kernel behaving like stock fails, naming both calls and the pages');
  t.equal(judge('bindSpm', 'stock', v2Obs), 'set_mempolicy EINVAL; mbind EINVAL; 0/16 pages on S');
  t.equal(judge('bindSpm', 'stock', { ...stockObs, onSpm: 3 }), '3/16 pages on S', 'an mbind that succeeds but places elsewhere fails');
});

t.test('BIND {0,S} readback: {0,S} on stock, {0} on v2', async (t) => {
  t.equal(judge('bindMixed', 'stock', { setCode: 'OK', readback: [0, 2] }), true);
  t.equal(judge('bindMixed', 'spm-v2', { setCode: 'OK', readback: [0] }), true);
  t.equal(judge('bindMixed', 'spm-v2', { setCode: 'OK', readback: [0, 2] }), 'read back [0,2]');
});

t.test('STATIC_NODES: {S} alone is EINVAL on v2 but {0,S} is echoed back', async (t) => {
  t.equal(judge('staticNodes', 'spm-v2', { aloneCode: 'EINVAL', mixedCode: 'OK', mixedReadback: [0, 2] }), true);
  t.equal(judge('staticNodes', 'spm-v2', { aloneCode: 'EINVAL', mixedCode: 'OK', mixedReadback: [0] }), 'read back [0]');
  t.equal(judge('staticNodes', 'stock', { aloneCode: 'OK', mixedCode: 'OK', mixedReadback: [0, 2] }), true);
});

t.test('move_pages and migrate_pages', async (t) => {
  t.equal(judge('movePages', 'stock', { code: 'OK', pages: 64, onSpmAfter: 64 }), true);
  t.equal(judge('movePages', 'stock', { code: 'OK', pages: 64, onSpmAfter: 60 }), '60/64 pages on S');
  t.equal(judge('movePages', 'spm-v2', { code: 'EACCES', pages: 64, onSpmAfter: 0 }), true);
  t.equal(judge('migrateRoot', 'stock', { code: 'OK', anonOnNode0Before: 120, onSpmAfter: 118, leftOnNode0: 0 }), true);
  t.equal(judge('migrateRoot', 'stock', { code: 'OK', anonOnNode0Before: 0, onSpmAfter: 0, leftOnNode0: 0 }), 'the target had no pages on node 0; 0 pages on S, 0 left on node 0', 'nothing to move is not a pass');
  t.equal(judge('migrateRoot', 'spm-v2', { code: 'EINVAL', anonOnNode0Before: 120, onSpmAfter: 0, leftOnNode0: 120 }), true);
  t.equal(judge('migrateUser', 'spm-v2', { code: 'EPERM', anonOnNode0Before: 120, onSpmAfter: 0, leftOnNode0: 120 }), true);
  t.equal(judge('migrateUser', 'spm-v2', { code: 'EINVAL', anonOnNode0Before: 120, onSpmAfter: 0, leftOnNode0: 120 }), 'migrate_pages EINVAL');
});

t.test('onlining S: each version keeps S out of its own views only, and the flow complains of nothing', async (t) => {
  const v2 = { ok: true, node: 2, hasMemory: [0, 1, 2], memsEffective: [0, 1, 2], ordinary: [0, 1], statusNodes: [0, 1], statusField: 'Sysram_nodes', daxAttrs: { spm_node: '1' }, complaints: [] };
  t.equal(judge('spmOnline', 'spm-v2', v2), true);
  t.equal(judge('spmOnline', 'spm-v2', { ...v2, ordinary: [0, 1, 2] }), 'cpuset.mems.sysram [0,1,2]');
  t.equal(judge('spmOnline', 'spm-v2', { ...v2, daxAttrs: { spm_node: '0' } }), 'dax spm_node 0', 'a region bit that did not reach the dax device fails');
  t.equal(judge('spmOnline', 'protected-v1', { ...v2, statusField: 'Mems_default', daxAttrs: { protected_memory: '1' } }), true, 'v1: the same in its names');
  t.equal(judge('spmOnline', 'protected-v1', { ...v2, statusField: 'Mems_default' }), 'dax protected_memory undefined');
  const v3 = { ok: true, node: 2, hasMemory: [0, 1], hasPrivate: [2], memsEffective: [0, 1, 2], ordinary: [0, 1], statusNodes: [0, 1], statusField: 'Mems_allowed', regionAttrs: { mode: 'private', private_type: 'zswap' }, complaints: [] };
  t.equal(judge('spmOnline', 'private-v3', v3), true);
  t.equal(judge('spmOnline', 'private-v3', { ...v3, hasMemory: [0, 1, 2] }), 'S in has_memory', 'v3: a private node is never N_MEMORY');
  t.equal(judge('spmOnline', 'private-v3', { ...v3, regionAttrs: { mode: 'ram', private_type: '' } }), 'region {"mode":"ram","private_type":""}');
  t.equal(judge('spmOnline', 'private-v3', { ...v3, complaints: ['[    7.16] mempolicy: failed to add sysfs for node2 during hotplug: -17'] }), 'the kernel logged: mempolicy: failed to add sysfs for node2 during hotplug: -17');
  const stock = { ok: true, node: 2, hasMemory: [0, 1, 2], memsEffective: [0, 1, 2], statusNodes: [0, 1, 2], statusField: 'Mems_allowed', complaints: [] };
  t.equal(judge('spmOnline', 'stock', stock), true);
  t.equal(judge('spmOnline', 'stock', { ...stock, ok: false }), 'onlining failed');
});

t.test('zswap: v2 stores on S 1:1 with the pool flat; the leak fails the v2 check', async (t) => {
  t.equal(judge('zswapStore', 'stock', { swappedOut: 256, spmMemFreeDeltaKiB: 0, storedPagesDelta: 256, incompressibleDelta: 256, poolTotalSizeDelta: 1048576 }), true);
  t.equal(judge('zswapStore', 'stock', { swappedOut: 256, spmMemFreeDeltaKiB: 0, storedPagesDelta: 0, incompressibleDelta: 0, poolTotalSizeDelta: 0 }), true, 'how stock zswap stores (6.12 rejects random pages) is observed, not judged');
  t.match(judge('zswapStore', 'spm-v2', { swappedOut: 256, spmMemFreeDeltaKiB: 0, storedPagesDelta: 256, incompressibleDelta: 256, poolTotalSizeDelta: 1048576 }), /S MemFree moved 0 KiB.*pool_total_size grew/);
  // Recorded on the v2 kernel: 104 KiB of earlier checks' pages on S freed while zswap stored 256 pages there.
  t.equal(judge('zswapStore', 'spm-v2', { swappedOut: 256, spmMemFreeDeltaKiB: -920, storedPagesDelta: 256, incompressibleDelta: 256, poolTotalSizeDelta: 0 }), true, 'pages freed on S meanwhile do not hide the store');
  t.equal(judge('zswapStore', 'spm-v2', { swappedOut: 256, spmMemFreeDeltaKiB: -700, storedPagesDelta: 256, incompressibleDelta: 256, poolTotalSizeDelta: 0 }), 'S MemFree moved -700 KiB for 256 pages');
  // Recorded on a cold CI run of the stock kernel: S MemFree rose while zswap stored in its pool.
  t.equal(judge('zswapStore', 'stock', { swappedOut: 256, spmMemFreeDeltaKiB: 396, storedPagesDelta: 256, incompressibleDelta: 256, poolTotalSizeDelta: 1048576 }), true, 'a rise on S is not zswap storing there');
  t.equal(judge('zswapStore', 'stock', { swappedOut: 256, spmMemFreeDeltaKiB: -1024, storedPagesDelta: 256, incompressibleDelta: 256, poolTotalSizeDelta: 1048576 }), 'S MemFree dropped 1024 KiB', 'a v2-like drop on a stock kernel fails');
  t.equal(judge('zswapStore', 'stock', { swappedOut: 0, spmMemFreeDeltaKiB: 0, storedPagesDelta: 0, incompressibleDelta: 0, poolTotalSizeDelta: 0 }), 'nothing was swapped out', 'no pressure is never a pass');
  const leak = { swappedOut: 256, spmFreeBeforeKiB: 524288, perCpuFreeAfterKiB: 836, zswpoutMinusZswpin: 256 };
  t.equal(judge('zswapLeak', 'stock', { ...leak, spmFreeAfterKiB: 524500, zswpoutMinusZswpin: 0 }), true, 'a rise passes the stock leak row');
  t.equal(judge('zswapLeak', 'stock', { ...leak, spmFreeAfterKiB: 523264 }), 'S free 524288 -> 523264 KiB: 1024 KiB held');
  // A fixed kernel: the freed pages still wait on the per-cpu lists (836 KiB measured) but free
  // counts them, so it passes; the real v2 kernel's run is judged in the recorded-run test below.
  t.equal(judge('zswapLeak', 'spm-v2', { ...leak, spmFreeAfterKiB: 524288, zswpoutMinusZswpin: 256 }), true);
});

t.test('hugetlb: a write still in the kernel at the bound fails on v2; stock grows the pool to 4', async (t) => {
  t.equal(judge('hugetlb', 'stock', { timedOut: false, code: 'OK', durationMs: 3300, boundMs: 15000, poolOnSpm: 4 }), true);
  t.match(judge('hugetlb', 'spm-v2', { timedOut: true, code: 'TIMED_OUT', durationMs: 17000, boundMs: 15000, poolOnSpm: 0 }), /did not return within 15 s: the kernel spins in it/);
  t.equal(judge('hugetlb', 'spm-v2', { timedOut: false, code: 'OK', durationMs: 200, boundMs: 15000, poolOnSpm: 0 }), true);
});

t.test('cpuset.mems=S in a child: confined on stock, parent\'s sysram nodes on v2, and the pages follow', async (t) => {
  const stock = { writeCode: 'OK', effective: [2], taskField: 'Mems_allowed', taskNodes: [2], spmShmemDeltaKiB: 256, sizeKiB: 256 };
  t.equal(judge('spmOnlyCpuset', 'stock', stock), true);
  t.match(judge('spmOnlyCpuset', 'stock', { ...stock, spmShmemDeltaKiB: 0 }), /S Shmem grew 0 of the 256 KiB/, 'confined on paper but placed elsewhere fails');
  const v2 = { writeCode: 'OK', effective: [2], ordinary: [], parentOrdinary: [0, 1], taskField: 'Sysram_nodes', taskNodes: [0, 1], spmShmemDeltaKiB: 0, sizeKiB: 256 };
  t.equal(judge('spmOnlyCpuset', 'spm-v2', v2), true);
  t.match(judge('spmOnlyCpuset', 'spm-v2', { ...v2, taskNodes: [2] }), /task Sysram_nodes_list \[2\]/);
  t.match(judge('spmOnlyCpuset', 'spm-v2', { ...v2, spmShmemDeltaKiB: 256 }), /S Shmem grew 256 KiB/);
});

t.test('pressure: fallback to S on stock, OOM with nothing allocated on S and sysram_nodes on v2', async (t) => {
  t.equal(judge('pressure', 'stock', { killed: false, oom: false, pagesOnSpm: 1, hogPages: 30000, allocatedOnSpm: 64, spmMemFreeBeforeKiB: 500000, spmMemFreeAfterKiB: 500000 }), true);
  t.equal(judge('pressure', 'stock', { killed: true, oom: true, pagesOnSpm: 0, allocatedOnSpm: 0, spmMemFreeBeforeKiB: 500000, spmMemFreeAfterKiB: 500000 }), 'the OOM killer ran; nothing was allocated on S under the pressure');
  // Recorded in CI on trixie's 6.12: the hog never got a page of its own on S before its bound,
  // but S took 494 pages under the pressure and nothing was OOM-killed: that is the fallback.
  t.equal(judge('pressure', 'stock', { killed: true, oom: false, pagesOnSpm: 0, allocatedOnSpm: 494, spmMemFreeBeforeKiB: 518992, spmMemFreeAfterKiB: 519420 }), true);
  const v2 = { killed: true, oom: true, pagesOnSpm: 0, allocatedOnSpm: 0, spmMemFreeBeforeKiB: 522800, spmMemFreeAfterKiB: 523264, oomLine: 'oom-kill:constraint=CONSTRAINT_MEMORY_POLICY,nodemask=0-1,cpuset=/,sysram_nodes=0,global_oom,task_memcg=/cxlh-hog,task=node,pid=1129,uid=0' };
  t.equal(judge('pressure', 'spm-v2', v2), true);
  t.match(judge('pressure', 'spm-v2', { ...v2, allocatedOnSpm: 12 }), /12 pages allocated on S/, 'pages on S that the OOM killer freed again still fail');
  t.match(judge('pressure', 'spm-v2', { ...v2, oomLine: 'oom-kill:constraint=CONSTRAINT_NONE,mems_allowed=0-2' }), /OOM line/);
  t.match(judge('pressure', 'spm-v2', { killed: false, oom: false, pagesOnSpm: 0, allocatedOnSpm: 0, spmMemFreeBeforeKiB: 1, spmMemFreeAfterKiB: 1 }), /no OOM kill: the hog was not killed/);
});

t.test('demotion: stock demotes to the CXL tier; v2 never to S but still to C', async (t) => {
  t.equal(judge('demotion', 'stock', { pages: 134, offNode0: 128, onSpm: 124, onControl: 4 }), true);
  t.equal(judge('demotion', 'spm-v2', { pages: 133, offNode0: 127, onSpm: 0, onControl: 127 }), true);
  t.match(judge('demotion', 'spm-v2', { pages: 133, offNode0: 0, onSpm: 0, onControl: 0 }), /0 reached C/, 'a kernel with demotion broken entirely fails the v2 column');
  t.match(judge('demotion', 'stock', { pages: 134, offNode0: 128, onSpm: 0, onControl: 0 }), /128 pages left node 0, 0 reached S and 0 C/, 'pages that left node 0 for nowhere are not demotion');
});

t.test('static interfaces: cgroup files, status lines, the region/dax bit in each version\'s name', async (t) => {
  t.equal(judge('sysramFile', 'stock', { rootExists: false, createCode: 'EACCES' }), true);
  t.equal(judge('sysramFile', 'spm-v2', { rootExists: true, rootMode: '0444', childExists: true, rootWriteCode: 'EINVAL' }), true);
  t.equal(judge('sysramFile', 'spm-v2', { rootExists: true, rootMode: '0644', childExists: true, rootWriteCode: 'EINVAL' }), 'mode 0644');
  t.equal(judge('sysramFile', 'private-v3', { rootExists: true, rootMode: '0444', childExists: true, rootWriteCode: 'EINVAL' }), true);
  t.equal(judge('sysramFile', 'protected-v1', { rootExists: false, createCode: 'EACCES' }), true, 'v1 has cpuset.mems.default instead');
  const v1Default = { rootExists: true, rootMode: '0444', childExists: true, rootWriteCode: 'EINVAL', rootNodes: [0], childNodes: [0], effective: [0] };
  t.equal(judge('defaultFile', 'protected-v1', v1Default), true);
  t.equal(judge('defaultFile', 'protected-v1', { ...v1Default, rootNodes: [] }), 'root cpuset.mems.default [] with cpuset.mems.effective [0]', 'the root empty at boot is v1\'s bug');
  t.equal(judge('defaultFile', 'stock', { rootExists: false, createCode: 'EACCES', effective: [0] }), true);
  t.equal(judge('statusLines', 'stock', { fields: ['Mems_allowed', 'Mems_allowed_list'] }), true);
  t.equal(judge('statusLines', 'spm-v2', { fields: ['Sysram_nodes', 'Sysram_nodes_list'] }), true);
  t.match(judge('statusLines', 'spm-v2', { fields: ['Mems_allowed', 'Mems_allowed_list'] }), /Sysram_nodes lines missing; Mems_allowed lines present/);
  t.equal(judge('statusLines', 'protected-v1', { fields: ['Mems_default', 'Mems_default_list'] }), true);
  t.equal(judge('statusLines', 'private-v3', { fields: ['Mems_allowed', 'Mems_allowed_list'] }), true, 'v3 keeps the name');
  t.equal(judge('spmAttrs', 'stock', { attr: 'spm_node', dax: { exists: false }, region: { exists: false } }), true);
  t.equal(judge('spmAttrs', 'spm-v2', { attr: 'spm_node', dax: { exists: true, value: '0' }, region: { exists: true, value: '0' } }), true);
  t.equal(judge('spmAttrs', 'protected-v1', { attr: 'protected_memory', dax: { exists: true, value: '0' }, region: { exists: true, value: '0' } }), true);
  t.equal(judge('spmAttrs', 'protected-v1', { attr: 'spm_node', dax: { exists: true, value: '0' }, region: { exists: true, value: '0' } }), 'read spm_node', 'v1\'s row reads v1\'s bit');
  t.equal(judge('spmInvalid', 'spm-v2', { attr: 'spm_node', writes: [{ value: '2', code: 'EINVAL' }, { value: 'x', code: 'EINVAL' }] }), true);
  t.equal(judge('spmBusy', 'spm-v2', { attr: 'spm_node', writes: [{ value: '1', code: 'EBUSY' }], before: '0', after: '0' }), true);
  t.equal(judge('spmFoo', 'spm-v2', { attr: 'spm_node', writes: [{ value: 'foo', code: 'EBUSY' }], before: '1', after: '1' }), true);
  const refused = { bindCode: 'EBUSY', memoryAddFailedLogged: true, restored: true };
  t.equal(judge('typeConflict', 'spm-v2', { sysramGetsSpm: refused, spmGetsSysram: refused }), true);
  t.equal(judge('typeConflict', 'spm-v2', { sysramGetsSpm: refused, spmGetsSysram: { bindCode: 'OK', memoryAddFailedLogged: false, restored: true } }), 'S with spm_node=0: bind gave OK; S with spm_node=0: no "memory add failed" in the kernel log', 'the SPM side of the conflict is judged too');
  t.equal(judge('regionBitAfterBind', 'spm-v2', { attr: 'spm_node', writeCode: 'OK', regionAfter: '1', daxAfter: '0', controlInOrdinary: true }), true);
  t.equal(judge('regionBitAfterBind', 'spm-v2', { attr: 'spm_node', writeCode: 'OK', regionAfter: '1', daxAfter: '1', controlInOrdinary: true }), 'dax spm_node became 1');
  t.equal(judge('regionBitAfterBind', 'protected-v1', { attr: 'protected_memory', writeCode: 'OK', regionAfter: '1', daxAfter: '0', controlInOrdinary: false }), 'C left cpuset.mems.default');
});

t.test('v3\'s private regions: the type rules, a bind without a type, and what a destroyed S leaves behind', async (t) => {
  const typeAttr = {
    control: { exists: true, value: '', writes: [{ value: 'zswap', code: 'EBUSY' }, { value: 'bogus', code: 'EINVAL' }] },
    spm: { exists: true, value: 'zswap', mode: 'private', writes: [{ value: 'zswap', code: 'EBUSY' }, { value: 'bogus', code: 'EINVAL' }] },
  };
  t.equal(judge('privateType', 'private-v3', typeAttr), true);
  t.equal(judge('privateType', 'private-v3', { ...typeAttr, spm: { ...typeAttr.spm, writes: [{ value: 'zswap', code: 'OK' }] } }), 'S: zswap gave OK', 'a committed region that takes a new type fails');
  t.equal(judge('privateType', 'stock', { control: { exists: false, writes: [] }, spm: { exists: false, writes: [] } }), true);
  t.equal(judge('privateType', 'spm-v2', typeAttr), 'C\'s region has private_type; S\'s region has private_type');
  const refused = { commitCode: 'OK', bindCode: 'EINVAL', privateAfterBind: [], logged: true, removed: true };
  t.equal(judge('bindWithoutType', 'private-v3', refused), true);
  t.equal(judge('bindWithoutType', 'private-v3', { ...refused, bindCode: 'OK', privateAfterBind: [2] }), 'bind gave OK; has_private_memory [2]');
  const released = { node: 2, hasMemory: false, hasPrivate: false, online: false, effective: false, nodeDir: false };
  t.equal(judge('nodeReleased', 'private-v3', released), true);
  t.equal(judge('nodeReleased', 'private-v3', { ...released, hasPrivate: true, effective: true }), 'S still in has_private_memory; S still in the root\'s cpuset.mems.effective');
  t.equal(judge('nodeReleased', 'stock', { node: 2, hasMemory: false, online: false, effective: false, nodeDir: false }), true, 'no has_private_memory on stock: nothing to leave');
  t.equal(judge('offlineSpm', 'private-v3', { ok: true, hasMemory: false, memTotalKiB: 131072 }), 'node still has memory (has_memory false, MemTotal 131072 KiB)', 'S is never in has_memory on v3: MemTotal says whether it went');
  t.equal(judge('movePages', 'private-v3', { code: 'ENODEV', pages: 64, onSpmAfter: 0 }), true);
  t.equal(judge('movePages', 'private-v3', { code: 'EACCES', pages: 64, onSpmAfter: 0 }), 'move_pages EACCES', 'v3 refuses a node that is not N_MEMORY before the EACCES check');
});

interface Recorded {
  generation: { name: string };
  nodes: { control: number; spm: number };
  observed: Record<string, unknown>;
  verdicts: Record<string, string>;
}
const recorded = (name: string): Recorded => JSON.parse(readFileSync(new URL(`../fixtures/spm/${name}-observed-7.2.13.json`, import.meta.url), 'utf8')) as Recorded;

/** A recorded observation judged by a version's column (true, what differs, or undefined where the row does not apply). */
function judgeRecorded(r: Recorded, key: RowName, gen: GenerationId): true | string | undefined {
  const found = lookup(key, generationById(gen)!);
  if (found.kind === 'skip') return undefined;
  return (found.expectation.judge as (o: unknown, n: typeof nodes) => true | string)(r.observed[ROWS[key].id], r.nodes);
}

for (const [name, gen] of [['stock', 'stock'], ['v1', 'protected-v1'], ['v2', 'spm-v2'], ['v3', 'private-v3']] as const) {
  t.test(`the observations recorded from the real ${name} kernel, judged again by the ${gen} column, give the verdicts that run gave`, async (t) => {
    const r = recorded(name);
    t.equal(r.generation.name, gen, 'the run detected it as that version');
    for (const key of KEYS) {
      const id = ROWS[key].id;
      const verdict = r.verdicts[id];
      if (r.observed[id] === undefined) {
        t.not(verdict, 'pass', `${id}: nothing observed, so no pass (${verdict})`);
        continue;
      }
      const judged = judgeRecorded(r, key, gen);
      t.equal(judged === true ? 'pass' : 'fail', verdict, `${id}: ${judged === true ? 'met' : String(judged).slice(0, 90)}`);
    }
  });
}

t.test('the series bugs each recorded kernel shows, row by row, with what the row names', async (t) => {
  const failing = (name: string): string[] => Object.entries(recorded(name).verdicts).filter(([, v]) => v === 'fail').map(([id]) => id);
  t.same(failing('stock'), [], 'stock: nothing fails');
  t.same(failing('v1'), ['spm.cpuset.mems_default_file', 'spm.hugetlb.node_pool', 'spm.zswap.leak', 'spm.offline.spm'], 'v1: root cpuset.mems.default empty at boot, hugetlb takes S, the zswap leak and the offline it blocks');
  t.same(failing('v2'), ['spm.hugetlb.node_pool', 'spm.zswap.leak', 'spm.offline.spm'], 'v2: the hugetlb spin, the zswap leak and the offline it blocks');
  t.same(failing('v3'), ['spm.online.spm_node', 'spm.offline.node_released'], 'v3: onlining S logs a failure per block, S stays registered after its region is gone');
  const v2 = recorded('v2');
  t.match(judgeRecorded(v2, 'zswapLeak', 'spm-v2'), /\d+ KiB leaked, zswpout - zswpin = 256 pages \(1024 KiB\)/, 'the leak is the entries never freed');
  t.match(judgeRecorded(v2, 'offlineSpm', 'spm-v2'), /S held 1024 KiB before the offline \(\d+ KiB of it the zswap entries/, 'S cannot go offline: it holds the leaked pages');
  t.match(judgeRecorded(v2, 'hugetlb', 'spm-v2'), /did not return within 15 s/);
  const v1 = recorded('v1');
  t.match(judgeRecorded(v1, 'defaultFile', 'protected-v1'), /root cpuset\.mems\.default \[\] with cpuset\.mems\.effective \[0\]/);
  t.match(judgeRecorded(v1, 'hugetlb', 'protected-v1'), /pool on S 4/);
  const v3 = recorded('v3');
  t.match(judgeRecorded(v3, 'spmOnline', 'private-v3'), /failed to add sysfs for node2 during hotplug: -17/);
  t.match(judgeRecorded(v3, 'nodeReleased', 'private-v3'), /S still in has_private_memory; S still in the root's cpuset\.mems\.effective/);
});

t.test('the stock kernel\'s behaviour fails every isolating version\'s column where they differ from stock', async (t) => {
  const r = recorded('stock');
  const same = new Set(['spm.offline.control', 'spm.offline.spm', 'spm.offline.node_released', 'spm.zswap.leak', 'spm.control.sysram', 'spm.online.spm_node']);
  for (const gen of ['protected-v1', 'spm-v2', 'private-v3'] as const) {
    for (const key of ['bindSpm', 'bindMixed', 'memsAllowed', 'movePages', 'migrateRoot', 'migrateUser', 'numactlMembind', 'spmOnlyCpuset', 'pressure', 'zswapStore'] as const) {
      const judged = judgeRecorded(r, key, gen);
      t.type(judged, 'string', `${ROWS[key].id} on ${gen}: stock behaviour fails (${String(judged).slice(0, 60)})`);
    }
    t.notOk(same.has('spm.mempolicy.bind_spm'));
  }
});

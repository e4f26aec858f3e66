/**
 * An unpatched kernel: none of the series' interfaces. Its column is the left one of
 * ../shared/spm-interface.md §5, measured on Debian's 7.2.13; the node onlined by the manual
 * flow is an ordinary node, so every row about S shows ordinary NUMA behaviour.
 */
import { all, fmt, has } from '../rows.js';
import {
  QUIET_ONLINE, quietOnline,
  BIT_ABSENT, OFFLINE, PRIVATE_FILES_ABSENT, PRIVATE_TYPE_ABSENT, controlOrdinary, cpusetFileAbsent, hugetlbGrows, statusLinesNamed,
} from './shared.js';
import type { GenerationModule, Interface } from './types.js';

const NA = 'spm_node does not exist on unpatched kernels (n/a in the table)';
const NA_PRIVATE = 'only v3 makes regions through create_private_region';
const IFACE: Interface = { statusField: 'Mems_allowed' };

export const stock: GenerationModule = {
  id: 'stock',
  short: 'stock',
  title: 'unpatched kernel (no SPM/private-node interfaces)',
  // The fallback: what no version of the series identified.
  identify: () => [],
  contradictions: (f) => (f.statusMemsAllowed ? [] : ['no Mems_allowed lines in /proc/self/status, and no known replacement: an unknown generation?']),
  iface: IFACE,
  column: {
    sysramFile: cpusetFileAbsent(),
    defaultFile: cpusetFileAbsent(),
    statusLines: statusLinesNamed('Mems_allowed'),
    privateFiles: PRIVATE_FILES_ABSENT,
    control: controlOrdinary(IFACE),
    spmAttrs: BIT_ABSENT,
    spmInvalid: { na: NA },
    spmBusy: { na: NA },
    regionBitAfterBind: { na: NA },
    bindWithoutType: { na: NA_PRIVATE },
    spmOnline: { expected: 'memory added, normal node: S in has_memory, cpuset.mems.effective and Mems_allowed_list' + QUIET_ONLINE, judge: (o, n) => all(quietOnline(o), [o.ok, 'onlining failed'], [has(o.hasMemory, n.spm), 'S not in has_memory'], [has(o.memsEffective, n.spm), 'S not in cpuset.mems.effective'], [o.statusField === 'Mems_allowed' && has(o.statusNodes, n.spm), `S not in ${o.statusField}_list`]) },
    hugetlb: hugetlbGrows(),
    typeConflict: { na: NA },
    spmFoo: { na: NA },
    privateType: PRIVATE_TYPE_ABSENT,
    bindSpm: { expected: 'both succeed; pages faulted under the mbind land on S', judge: (o) => all([o.setMempolicyCode === 'OK', `set_mempolicy ${o.setMempolicyCode}`], [o.mbindCode === 'OK', `mbind ${o.mbindCode}`], [o.onSpm === o.pages, `${o.onSpm}/${o.pages} pages on S`]) },
    bindMixed: { expected: 'succeeds, reads back {0,S}', judge: (o, n) => all([o.setCode === 'OK', `set ${o.setCode}`], [fmt(o.readback) === fmt([0, n.spm]), `read back ${fmt(o.readback)}`]) },
    memsAllowed: { expected: 'includes S', judge: (o, n) => all([has(o.nodes, n.spm), `nodes ${fmt(o.nodes)}`]) },
    staticNodes: { expected: 'both succeed; {0,S} reads back {0,S}', judge: (o, n) => all([o.aloneCode === 'OK', `{S}: ${o.aloneCode}`], [o.mixedCode === 'OK', `{0,S}: ${o.mixedCode}`], [fmt(o.mixedReadback) === fmt([0, n.spm]), `read back ${fmt(o.mixedReadback)}`]) },
    movePages: { expected: 'moved, status=S for every page', judge: (o) => all([o.code === 'OK', `move_pages ${o.code}`], [o.onSpmAfter === o.pages, `${o.onSpmAfter}/${o.pages} pages on S`]) },
    migrateRoot: { expected: 'pages move to S', judge: (o) => all([o.code === 'OK', `migrate_pages ${o.code}`], [o.anonOnNode0Before > 0, 'the target had no pages on node 0'], [o.onSpmAfter > 0 && o.leftOnNode0 === 0, `${o.onSpmAfter} pages on S, ${o.leftOnNode0} left on node 0`]) },
    // Without CAP_SYS_NICE the kernel moves with MPOL_MF_MOVE: a page the target still shares
    // (copy-on-write with a process that has not exited yet) stays; measured 132 of 133.
    migrateUser: { expected: 'allowed, pages move (at least 90%: shared pages stay without MOVE_ALL)', judge: (o) => all([o.code === 'OK', `migrate_pages ${o.code}`], [o.anonOnNode0Before > 0, 'the target had no pages on node 0'], [o.onSpmAfter > 0 && o.onSpmAfter >= 0.9 * o.anonOnNode0Before, `${o.onSpmAfter} of ${o.anonOnNode0Before} pages on S, ${o.leftOnNode0} left on node 0`]) },
    numactlMembind: { expected: 'numactl runs; the file\'s pages are on S', judge: (o) => all([o.exitCode === 0, `numactl exited ${o.exitCode}: ${o.stderr.trim()}`], [o.shmemDeltaKiB >= o.sizeKiB * 0.9, `S Shmem grew ${o.shmemDeltaKiB} of ${o.sizeKiB} KiB`]) },
    numactlInterleave: { expected: 'S gets a share of the pages', judge: (o) => all([o.exitCode === 0, `numactl exited ${o.exitCode}: ${o.stderr.trim()}`], [o.shmemDeltaKiB > 0, 'S got no pages']) },
    spmOnlyCpuset: { expected: 'accepted; tasks confined to S (Mems_allowed_list = S) and their pages land on S', judge: (o, n) => all([o.writeCode === 'OK', `write ${o.writeCode}`], [o.taskField === 'Mems_allowed' && fmt(o.taskNodes) === fmt([n.spm]), `task ${o.taskField}_list ${fmt(o.taskNodes)}`], [o.spmShmemDeltaKiB >= 0.9 * o.sizeKiB, `S Shmem grew ${o.spmShmemDeltaKiB} of the ${o.sizeKiB} KiB a task of the cgroup wrote`]) },
    demotion: { expected: 'pages are demoted to the CXL tier (C or S; S is a possible target)', judge: (o) => all([o.offNode0 > 0, 'no page left node 0: no demotion'], [o.onSpm + o.onControl >= 0.9 * o.offNode0, `${o.offNode0} pages left node 0, ${o.onSpm} reached S and ${o.onControl} C`]) },
    // "Unchanged" means zswap took nothing from S: S MemFree must not drop (a quarter of what
    // v2 takes for 256 pages is the bound). A rise is pages that earlier checks left on S being
    // freed (seen on a cold CI run: +396 KiB) and says nothing about where zswap stores.
    // How an unpatched zswap stores random pages (raw in zsmalloc on 7.x, rejected on 6.12) is
    // not an SPM property: recorded as an observation, not judged.
    zswapStore: { expected: 'S MemFree unchanged (zswap takes nothing from S); the pool is recorded', judge: (o) => all([o.swappedOut > 0, 'nothing was swapped out'], [-o.spmMemFreeDeltaKiB < 256, `S MemFree dropped ${-o.spmMemFreeDeltaKiB} KiB`]) },
    // As above: only a drop is memory held on S; a rise is earlier checks' pages freed.
    zswapLeak: { expected: 'unchanged throughout', judge: (o) => all([o.swappedOut > 0, 'nothing was swapped out'], [o.spmFreeBeforeKiB - o.spmFreeAfterKiB < 256, `S free ${o.spmFreeBeforeKiB} -> ${o.spmFreeAfterKiB} KiB: ${o.spmFreeBeforeKiB - o.spmFreeAfterKiB} KiB held`]) },
    // The hog's own page on S is the quick proof; under TCG kswapd can keep node 0 just above
    // its watermark while refaults land on S instead (measured in CI: 494 pages on S, the hog
    // stopped at its bound, no OOM): either way the pressure fell back to S, not to OOM.
    pressure: { expected: 'falls back to S before OOM (pages are allocated on S under the pressure; no OOM kill)', judge: (o) => all([!o.oom, 'the OOM killer ran'], [o.pagesOnSpm > 0 || o.allocatedOnSpm > 0, 'nothing was allocated on S under the pressure']) },
    ...OFFLINE,
  },
};

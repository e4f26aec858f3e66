/**
 * v3, "[RFC PATCH v3 0/8] mm,numa: N_PRIVATE node isolation for device-managed memory"
 * (2026-01-08): node state N_PRIVATE, exclusive with N_MEMORY (`has_private_memory`; a private
 * node is never in has_memory); allocations without __GFP_THISNODE skip non-N_MEMORY nodes,
 * and "all nodes become valid targets with __GFP_THISNODE" (patch 3); a read-only
 * `cpuset.mems.sysram`, while Mems_allowed keeps its name and lists sysram nodes only; CXL
 * regions made through `decoderX.Y/create_private_region` with `regionN/private_type` (zswap)
 * register their node as private when the region driver probes (patch 6), and zswap stores
 * pages uncompressed straight onto it (patches 7, 8). The column is written from the posting
 * and proven on ../shared/kernels/n-private-v3-7.2.13, whose README cites every interface.
 */
import { all, fmt, has } from '../rows.js';
import {
  QUIET_ONLINE, quietOnline,
  BIT_ABSENT, ISOLATED, OFFLINE, controlOrdinary, cpusetFileAbsent, cpusetFileReadOnly, hugetlbGrows, pressureOom, spmOnlyIsolated, statusLinesNamed,
} from './shared.js';
import type { GenerationModule } from './types.js';

const IFACE = { nodesFile: 'cpuset.mems.sysram', statusField: 'Mems_allowed' } as const;
const NA_BIT = 'v3 has no region or dax bit: a node is set apart by a private region (create_private_region, private_type)';

export const privateV3: GenerationModule = {
  id: 'private-v3',
  short: 'v3',
  title: 'v3 "N_PRIVATE node isolation" (has_private_memory, cpuset.mems.sysram, create_private_region, private_type)',
  posted: '[RFC PATCH v3 0/8] mm,numa: N_PRIVATE node isolation for device-managed memory, 2026-01-08',
  identify: (f) => [
    ...(f.createPrivateRegion ? ['create_private_region on the CXL root decoders (patch 6)'] : []),
    ...(f.hasPrivateMemory && f.memsSysram ? ['has_private_memory with cpuset.mems.sysram (patches 1, 4)'] : []),
  ],
  contradictions: (f) => [
    ...(f.hasPrivateMemory ? [] : ['v3 adds has_private_memory (patch 1), but it is absent']),
    ...(f.memsSysram ? [] : ['v3 adds cpuset.mems.sysram (patch 4), but the cgroup root lacks it']),
    ...(f.createPrivateRegion === false ? ['v3 adds create_private_region where create_ram_region is (patch 6), but the root decoders lack it'] : []),
    ...(f.statusMemsAllowed ? [] : ['v3 keeps the Mems_allowed status lines (patch 5), but they are gone']),
    ...(f.statusSysramNodes || f.statusMemsDefault || f.memsDefault ? ['it also shows v1\'s or v2\'s names (Mems_default, cpuset.mems.default or Sysram_nodes)'] : []),
  ],
  iface: IFACE,
  isolate: { kind: 'private', type: 'zswap' },
  column: {
    sysramFile: cpusetFileReadOnly(),
    defaultFile: cpusetFileAbsent(),
    statusLines: statusLinesNamed(IFACE.statusField),
    privateFiles: { expected: 'has_private_memory present; has_public_memory and has_user_memory absent', judge: (o) => all([o.has_private_memory, 'has_private_memory absent'], [!o.has_public_memory && !o.has_user_memory, fmt(o)]) },
    control: controlOrdinary(IFACE, true),
    spmAttrs: BIT_ABSENT,
    spmInvalid: { na: NA_BIT },
    spmBusy: { na: NA_BIT },
    regionBitAfterBind: { na: NA_BIT },
    bindWithoutType: {
      expected: 'the commit succeeds; the bind gives EINVAL and the log says "private_type must be set before commit"; no node is in has_private_memory; the region can be removed',
      judge: (o) => all([o.commitCode === 'OK', `commit gave ${o.commitCode}`], [o.bindCode === 'EINVAL', `bind gave ${o.bindCode}`], [o.logged, 'no "private_type must be set before commit" in the kernel log'], [o.privateAfterBind.length === 0, `has_private_memory ${fmt(o.privateAfterBind)}`], [o.removed, 'the region could not be removed']),
    },
    spmOnline: {
      expected: 'memory added; S in has_private_memory and cpuset.mems.effective, not in has_memory, cpuset.mems.sysram or Mems_allowed_list; the region\'s mode reads private and its private_type zswap' + QUIET_ONLINE,
      judge: (o, n) => all(quietOnline(o), 
        [o.ok, 'onlining failed'], [has(o.hasPrivate, n.spm), `has_private_memory ${fmt(o.hasPrivate)}`], [!has(o.hasMemory, n.spm), 'S in has_memory'],
        [has(o.memsEffective, n.spm), 'S not in cpuset.mems.effective'], [o.ordinary !== undefined && !has(o.ordinary, n.spm), `cpuset.mems.sysram ${fmt(o.ordinary)}`],
        [o.statusField === 'Mems_allowed' && !has(o.statusNodes, n.spm), `${o.statusField}_list ${fmt(o.statusNodes)}`],
        [o.regionAttrs?.mode === 'private' && o.regionAttrs.private_type === 'zswap', `region ${fmt(o.regionAttrs)}`],
      ),
    },
    hugetlb: hugetlbGrows(': per-node hugetlb growth asks __GFP_THISNODE, and "all nodes become valid targets with __GFP_THISNODE" (patch 3)'),
    typeConflict: { na: `${NA_BIT}; no type latches: a node is private while a private region has it registered (patch 1)` },
    spmFoo: { na: NA_BIT },
    privateType: {
      expected: 'present on every region: C\'s reads empty, S\'s zswap with mode private; after commit "zswap" gives EBUSY and "bogus" EINVAL on both',
      judge: (o) => all(
        [o.control.exists && o.control.value === '', `C's private_type ${fmt(o.control)}`],
        [o.spm.exists && o.spm.value === 'zswap' && o.spm.mode === 'private', `S's private_type ${fmt(o.spm.value)}, mode ${fmt(o.spm.mode)}`],
        ...(['control', 'spm'] as const).flatMap((k) => o[k].writes.map((w): [boolean, string] => [w.code === (w.value === 'zswap' ? 'EBUSY' : 'EINVAL'), `${k === 'spm' ? 'S' : 'C'}: ${w.value} gave ${w.code}`])),
      ),
    },
    ...ISOLATED,
    movePages: { expected: '-1 ENODEV (S is never N_MEMORY: do_pages_move refuses it before its EACCES check), nothing on S', judge: (o) => all([o.code === 'ENODEV', `move_pages ${o.code}`], [o.onSpmAfter === 0, `${o.onSpmAfter} pages on S`]) },
    spmOnlyCpuset: spmOnlyIsolated(IFACE),
    pressure: pressureOom('mems_allowed'),
    ...OFFLINE,
  },
};

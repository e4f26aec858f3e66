/**
 * v2, "[RFC LPC2026 PATCH v2 00/11] Specific Purpose Memory NUMA Nodes" (2025-11-12): nodes are
 * SysRAM or SPM, latched at their first hot-add (MHP_SPM_NODE from dax/kmem, set by the
 * `spm_node` bit of the CXL region or dax device); allocations without __GFP_SPM_NODE skip SPM
 * nodes; tasks and cpusets get `sysram` nodes (`cpuset.mems.sysram`, `Sysram_nodes`). The
 * column is ../shared/spm-interface.md §5, proven on ../shared/kernels/spm-v2-7.2.13 (every
 * row as written, the two series bugs failing their rows).
 */
import { all, fmt, has } from '../rows.js';
import {
  QUIET_ONLINE, quietOnline,
  ISOLATED, OFFLINE, PRIVATE_FILES_ABSENT, PRIVATE_TYPE_ABSENT, bitRows, controlOrdinary, cpusetFileAbsent, cpusetFileReadOnly, hugetlbRefused,
  pressureOom, spmOnlyIsolated, statusLinesNamed,
} from './shared.js';
import type { GenerationModule } from './types.js';

const IFACE = { nodesFile: 'cpuset.mems.sysram', statusField: 'Sysram_nodes', bit: 'spm_node' } as const;

export const spmV2: GenerationModule = {
  id: 'spm-v2',
  short: 'v2',
  title: 'v2 "Specific Purpose Memory NUMA nodes" (cpuset.mems.sysram, Sysram_nodes, spm_node)',
  posted: '[RFC LPC2026 PATCH v2 00/11] Specific Purpose Memory NUMA Nodes, 2025-11-12',
  // Sysram_nodes is v2's alone; cpuset.mems.sysram is v3's too, which also has has_private_memory.
  identify: (f) => [
    ...(f.statusSysramNodes ? ['Sysram_nodes in /proc/self/status'] : []),
    ...(f.memsSysram && !f.hasPrivateMemory ? ['cpuset.mems.sysram without has_private_memory'] : []),
  ],
  contradictions: (f) => [
    // v2 renames the status lines and adds the cgroup file together (patches 06 and 07).
    ...(f.memsSysram !== f.statusSysramNodes ? [`v2 adds cpuset.mems.sysram and Sysram_nodes together, but only ${f.memsSysram ? 'cpuset.mems.sysram' : 'Sysram_nodes'} is present`] : []),
    ...(f.statusMemsAllowed ? ['v2 removes the Mems_allowed status lines, but they are still there'] : []),
  ],
  iface: IFACE,
  isolate: { kind: 'bit', attr: 'spm_node', value: '1' },
  column: {
    sysramFile: cpusetFileReadOnly(),
    defaultFile: cpusetFileAbsent(),
    statusLines: statusLinesNamed(IFACE.statusField),
    privateFiles: PRIVATE_FILES_ABSENT,
    control: controlOrdinary(IFACE),
    ...bitRows(IFACE),
    bindWithoutType: { na: 'only v3 makes regions through create_private_region' },
    spmOnline: { expected: 'memory added; S in has_memory and cpuset.mems.effective, not in cpuset.mems.sysram or Sysram_nodes_list; dax spm_node=1' + QUIET_ONLINE, judge: (o, n) => all(quietOnline(o), [o.ok, 'onlining failed'], [has(o.hasMemory, n.spm), 'S not in has_memory'], [has(o.memsEffective, n.spm), 'S not in cpuset.mems.effective'], [o.ordinary !== undefined && !has(o.ordinary, n.spm), `cpuset.mems.sysram ${fmt(o.ordinary)}`], [o.statusField === 'Sysram_nodes' && !has(o.statusNodes, n.spm), `${o.statusField}_list ${fmt(o.statusNodes)}`], [o.daxAttrs?.spm_node === '1', `dax spm_node ${o.daxAttrs?.spm_node}`]) },
    hugetlb: hugetlbRefused(' (measured on v2: it never returns, the kernel spins)'),
    typeConflict: {
      expected: 'both kmem binds give EBUSY and the log says "memory add failed"; with their own bit both bind again',
      judge: (o) => all(...([['C with spm_node=1', o.sysramGetsSpm], ['S with spm_node=0', o.spmGetsSysram]] as const).flatMap(([what, k]): Array<[boolean, string]> => [
        [k.bindCode === 'EBUSY', `${what}: bind gave ${k.bindCode}`],
        [k.memoryAddFailedLogged, `${what}: no "memory add failed" in the kernel log`],
        [k.restored, `${what}: the node did not come back with its own bit`],
      ])),
    },
    privateType: PRIVATE_TYPE_ABSENT,
    ...ISOLATED,
    movePages: { expected: '-1 EACCES, nothing on S', judge: (o) => all([o.code === 'EACCES', `move_pages ${o.code}`], [o.onSpmAfter === 0, `${o.onSpmAfter} pages on S`]) },
    spmOnlyCpuset: spmOnlyIsolated(IFACE),
    pressure: pressureOom('sysram_nodes'),
    ...OFFLINE,
  },
};

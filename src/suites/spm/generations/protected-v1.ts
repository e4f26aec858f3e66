/**
 * v1, "[RFC LPC2026 PATCH 0/9] Protected Memory NUMA Nodes" (2025-11-07): memory hot-added with
 * MHP_PROTECTED_MEMORY (the `protected_memory` bit of a CXL region or dax device) stays out of
 * `default_sysram_nodes`; only __GFP_PROTECTED allocations reach it ("Unless a non-userland
 * component explicitly asks for the node, and does so with a GFP_PROTECTED flag, memory on that
 * node cannot be 'accidentally' used as normal ram", cover letter); tasks and cpusets get the
 * default nodes (`cpuset.mems.default`, `Mems_default` in /proc/PID/status). No type latch: a
 * node with no memory blocks takes either type (patch 6). The column is written from the
 * posting; the rebase onto 7.2.13 (../shared/series/protected-v1-7.2.13) is built by the
 * harness itself. Its README names the bugs the rows below can reach: the root's
 * cpuset.mems.default is empty until the first hotplug, zswap leaks its direct pages.
 */
import { all, fmt, has } from '../rows.js';
import {
  QUIET_ONLINE, quietOnline,
  ISOLATED, OFFLINE, PRIVATE_FILES_ABSENT, PRIVATE_TYPE_ABSENT, bitRows, controlOrdinary, cpusetFileAbsent, cpusetFileReadOnly, hugetlbRefused,
  pressureOom, spmOnlyIsolated, statusLinesNamed,
} from './shared.js';
import type { GenerationModule } from './types.js';

const IFACE = { nodesFile: 'cpuset.mems.default', statusField: 'Mems_default', bit: 'protected_memory' } as const;
const readOnly = cpusetFileReadOnly();

export const protectedV1: GenerationModule = {
  id: 'protected-v1',
  short: 'v1',
  title: 'v1 "Protected Memory NUMA Nodes" (cpuset.mems.default, Mems_default, protected_memory)',
  posted: '[RFC LPC2026 PATCH 0/9] Protected Memory NUMA Nodes, 2025-11-07',
  identify: (f) => [
    ...(f.memsDefault ? ['cpuset.mems.default in the cgroup root (patch 5)'] : []),
    ...(f.statusMemsDefault ? ['Mems_default in /proc/self/status (patch 4)'] : []),
  ],
  contradictions: (f) => [
    ...(f.memsDefault !== f.statusMemsDefault ? [`v1 adds cpuset.mems.default and Mems_default together, but only ${f.memsDefault ? 'cpuset.mems.default' : 'Mems_default'} is present`] : []),
    ...(f.statusMemsAllowed ? ['v1 renames the Mems_allowed status lines to Mems_default (patch 4), but they are still there'] : []),
  ],
  iface: IFACE,
  isolate: { kind: 'bit', attr: 'protected_memory', value: '1' },
  column: {
    sysramFile: cpusetFileAbsent(),
    defaultFile: {
      expected: `${readOnly.expected}; before any hotplug the root lists the boot nodes, as its children do (default_sysram_nodes "can never be empty", cover letter)`,
      judge: (o, n) => all(
        [readOnly.judge(o, n) === true, String(readOnly.judge(o, n))],
        [o.rootNodes !== undefined && o.rootNodes.length > 0 && fmt(o.rootNodes) === fmt(o.effective), `root cpuset.mems.default ${fmt(o.rootNodes)} with cpuset.mems.effective ${fmt(o.effective)}`],
        [fmt(o.childNodes) === fmt(o.effective), `a child's cpuset.mems.default ${fmt(o.childNodes)}`],
      ),
    },
    statusLines: statusLinesNamed(IFACE.statusField),
    privateFiles: PRIVATE_FILES_ABSENT,
    control: controlOrdinary(IFACE),
    ...bitRows(IFACE),
    bindWithoutType: { na: 'only v3 makes regions through create_private_region' },
    spmOnline: { expected: 'memory added; S in has_memory and cpuset.mems.effective, not in cpuset.mems.default or Mems_default_list; dax protected_memory=1' + QUIET_ONLINE, judge: (o, n) => all(quietOnline(o), [o.ok, 'onlining failed'], [has(o.hasMemory, n.spm), 'S not in has_memory'], [has(o.memsEffective, n.spm), 'S not in cpuset.mems.effective'], [o.ordinary !== undefined && !has(o.ordinary, n.spm), `cpuset.mems.default ${fmt(o.ordinary)}`], [o.statusField === 'Mems_default' && !has(o.statusNodes, n.spm), `${o.statusField}_list ${fmt(o.statusNodes)}`], [o.daxAttrs?.protected_memory === '1', `dax protected_memory ${o.daxAttrs?.protected_memory}`]) },
    hugetlb: hugetlbRefused(': hugetlb is no __GFP_PROTECTED user, and only those may use S (cover letter)'),
    typeConflict: { na: 'v1 latches no node type: a node with no memory blocks takes either type (patch 6, add_memory_resource), so a rebind with the other bit once its memory was removed is no conflict' },
    privateType: PRIVATE_TYPE_ABSENT,
    ...ISOLATED,
    movePages: { expected: '-1 EACCES, nothing on S', judge: (o) => all([o.code === 'EACCES', `move_pages ${o.code}`], [o.onSpmAfter === 0, `${o.onSpmAfter} pages on S`]) },
    spmOnlyCpuset: spmOnlyIsolated(IFACE),
    pressure: pressureOom('mems_default'),
    ...OFFLINE,
  },
};

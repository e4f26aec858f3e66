/**
 * Expectations more than one version shares, written once: what the versions that set a node
 * apart (v1, v2, v3) all intend for the syscalls, cgroups and zswap against it, the region/dax
 * bit of v1 and v2, and what every kernel must show when a node goes away. Each is built from
 * the names the version gives its interfaces, so its words say what that version calls things.
 */
import { all, fmt, has, offlineFailure, type Expectation } from '../rows.js';
import type { ControlObs, DefaultFileObs, HugetlbObs, NodeReleasedObs, PressureObs, PrivateFilesObs, PrivateTypeObs, SpmAttrObs, SpmOnlineObs, SpmOnlyCpusetObs, StatusLinesObs, SysramFileObs } from '../rows.js';
import type { Column, Interface } from './types.js';

/** S came online without the kernel saying failed or error (a condition of every version's spm.online.spm_node). */
export const QUIET_ONLINE = ', and the kernel log of the flow says nothing failed';
export function quietOnline(o: SpmOnlineObs): [boolean, string] {
  return [o.complaints.length === 0, `the kernel logged: ${o.complaints.map((l) => l.replace(/^\[[^\]]*\]\s*/, '')).join(' | ')}`];
}

/** No region/dax bit (stock, v3): the row reads spm_node and must find none. */
export const BIT_ABSENT: Expectation<SpmAttrObs> = { expected: 'both absent', judge: (o) => all([!o.dax.exists, `dax ${o.attr} exists`], [!o.region.exists, `region ${o.attr} exists`]) };

/** No private_type (every version but v3). */
export const PRIVATE_TYPE_ABSENT: Expectation<PrivateTypeObs> = { expected: 'absent on C\'s and S\'s regions', judge: (o) => all([!o.control.exists, 'C\'s region has private_type'], [!o.spm.exists, 'S\'s region has private_type']) };

/** None of the private-node state files (every version but v3, v4 and the latest tree). */
export const PRIVATE_FILES_ABSENT: Expectation<PrivateFilesObs> = { expected: 'all absent', judge: (o) => all([!o.has_private_memory && !o.has_public_memory && !o.has_user_memory, fmt(o)]) };

/** Growing S's hugetlb pool works: the write returns with the 4 pages (`why`: the version's reason, if any). */
export function hugetlbGrows(why = ''): Expectation<HugetlbObs> {
  return { expected: `the write returns and S's pool has 4 pages${why}`, judge: (o) => all([!o.timedOut, 'the write never returned'], [o.code === 'OK', `write ${o.code}`], [o.poolOnSpm === 4, `pool on S ${o.poolOnSpm}`]) };
}

/** Growing S's hugetlb pool takes nothing of S, and says so at once (`why`: what was measured). */
export function hugetlbRefused(why = ''): Expectation<HugetlbObs> {
  return { expected: `the write returns promptly with no pages on S${why}`, judge: (o) => all([!o.timedOut, `the write did not return within ${Math.round(o.boundMs / 1000)} s: the kernel spins in it (SIGKILL ended it)`], [o.poolOnSpm === 0, `pool on S ${o.poolOnSpm}`]) };
}

/** A cgroup file the version does not have: absent in the root, and root cannot create it. */
export function cpusetFileAbsent<O extends SysramFileObs | DefaultFileObs>(): Expectation<O> {
  return { expected: 'absent (ENOENT); creating it as root gives EACCES', judge: (o) => all([!o.rootExists, 'the file exists'], [o.createCode === 'EACCES', `creating it gave ${o.createCode}`]) };
}

/** A read-only cgroup file the version adds: in the root and its children, mode 0444, a root write refused. */
export function cpusetFileReadOnly<O extends SysramFileObs | DefaultFileObs>(): Expectation<O> {
  return {
    expected: 'present in root and children, mode 0444; a root write gives EINVAL',
    judge: (o) => all([o.rootExists, 'absent in the root'], [o.childExists === true, 'absent in a child cgroup'], [o.rootMode === '0444', `mode ${o.rootMode}`], [o.rootWriteCode === 'EINVAL', `root write gave ${o.rootWriteCode}`]),
  };
}

/** /proc/self/status lists a task's nodes under `field` (and `field`_list), and under no other version's name. */
export function statusLinesNamed(field: Interface['statusField']): Expectation<StatusLinesObs> {
  const others = (['Mems_allowed', 'Sysram_nodes', 'Mems_default'] as const).filter((f) => f !== field);
  return {
    expected: `${field} and ${field}_list, no ${others.join(' or ')} lines`,
    judge: (o) => all([o.fields.includes(field) && o.fields.includes(`${field}_list`), `${field} lines missing`], ...others.map((f): [boolean, string] => [!o.fields.some((x) => x.startsWith(f)), `${f} lines present`])),
  };
}

/** C, hot-added without the bit: an ordinary node, in the version's cpuset file of ordinary nodes and its status field. */
export function controlOrdinary(iface: Interface, privateList = false): Expectation<ControlObs> {
  const file = iface.nodesFile;
  return {
    expected: `C online, in has_memory${file ? `, ${file}` : ''} and ${iface.statusField}_list${privateList ? ', not in has_private_memory' : ''}; pages bound to C land there`,
    judge: (o, n) => all(
      [o.ok, 'onlining failed'], [has(o.hasMemory, n.control), 'C not in has_memory'],
      ...(file ? [[has(o.ordinary, n.control), `${file} ${fmt(o.ordinary)}`] as [boolean, string]] : []),
      [!has(o.hasPrivate, n.control), `C in has_private_memory ${fmt(o.hasPrivate)}`],
      [o.statusField === iface.statusField && has(o.statusNodes, n.control), `C not in ${o.statusField}_list`],
      [o.placedOnControl === o.pages, `${o.placedOnControl}/${o.pages} pages on C`],
    ),
  };
}

/** The region/dax bit of v1 (protected_memory) and v2 (spm_node): the same rules, in the version's names. */
export function bitRows(iface: Required<Pick<Interface, 'bit' | 'nodesFile'>>): Pick<Column, 'spmAttrs' | 'spmInvalid' | 'spmBusy' | 'regionBitAfterBind' | 'spmFoo'> {
  const { bit, nodesFile } = iface;
  return {
    spmAttrs: { expected: `both present (${bit}), 0 by default`, judge: (o) => all([o.attr === bit, `read ${o.attr}`], [o.dax.exists && o.dax.value === '0', `dax ${bit} ${fmt(o.dax)}`], [o.region.exists && o.region.value === '0', `region ${bit} ${fmt(o.region)}`]) },
    spmInvalid: { expected: 'EINVAL for both', judge: (o) => all(...o.writes.map((w): [boolean, string] => [w.code === 'EINVAL', `${fmt(w.value)} gave ${w.code}`])) },
    spmBusy: { expected: 'EBUSY, value unchanged', judge: (o) => all([o.writes[0]?.code === 'EBUSY', `write gave ${o.writes[0]?.code}`], [o.after === o.before, `value changed ${o.before} -> ${o.after}`]) },
    regionBitAfterBind: {
      expected: `the write succeeds and the region reads 1, but its dax device keeps ${bit}=0 and C stays in ${nodesFile}`,
      judge: (o) => all([o.writeCode === 'OK', `write gave ${o.writeCode}`], [o.regionAfter === '1', `region ${bit} reads ${o.regionAfter}`], [o.daxAfter === '0', `dax ${bit} became ${o.daxAfter}`], [o.controlInOrdinary, `C left ${nodesFile}`]),
    },
    spmFoo: { expected: 'EBUSY, value stays 1', judge: (o) => all([o.writes[0]?.code === 'EBUSY', `write gave ${o.writes[0]?.code}`], [o.after === '1', `value is ${o.after}`]) },
  };
}

/** A cpuset naming only S: accepted, but its tasks get the parent's ordinary nodes and nothing of theirs lands on S. */
export function spmOnlyIsolated(iface: Interface & { nodesFile: string }): Expectation<SpmOnlyCpusetObs> {
  const { nodesFile: file, statusField } = iface;
  return {
    expected: `accepted; ${file} empty; tasks get the parent's ${file} nodes (${statusField}_list) and their pages do not land on S`,
    judge: (o, n) => all(
      [o.writeCode === 'OK', `write ${o.writeCode}`], [o.ordinary !== undefined && o.ordinary.length === 0, `${file} ${fmt(o.ordinary)}`],
      [o.taskField === statusField && !has(o.taskNodes, n.spm) && fmt(o.taskNodes) === fmt(o.parentOrdinary), `task ${o.taskField}_list ${fmt(o.taskNodes)}, parent's ${file} ${fmt(o.parentOrdinary)}`],
      [o.spmShmemDeltaKiB <= 0, `S Shmem grew ${o.spmShmemDeltaKiB} KiB while a task of the cgroup wrote ${o.sizeKiB} KiB`],
    ),
  };
}

/** Pressure with S free: OOM, nothing allocated on S, and the OOM line names the task's nodes the version's way. */
export function pressureOom(oomField: string): Expectation<PressureObs> {
  return {
    expected: `OOM with S free (nothing allocated on S meanwhile); the OOM log says ${oomField}=`,
    judge: (o) => all([o.oom, `no OOM kill${o.killed ? '' : `: the hog was not killed (${o.pagesOnSpm} of its pages on S)`}`], [o.allocatedOnSpm === 0, `${o.allocatedOnSpm} pages allocated on S`], [new RegExp(`${oomField}=`).test(o.oomLine ?? ''), `OOM line: ${o.oomLine ?? 'none'}`]),
  };
}

/**
 * What every version that sets S apart intends for the system calls, tools and reclaim that
 * name S: nobody but the kernel's own opt-in user (zswap) puts memory on it. Rows where a
 * version differs (move_pages' errno) are in its own module.
 */
export const ISOLATED: Pick<Column, 'bindSpm' | 'bindMixed' | 'memsAllowed' | 'staticNodes' | 'migrateRoot' | 'migrateUser' | 'numactlMembind' | 'numactlInterleave' | 'demotion' | 'zswapStore' | 'zswapLeak'> = {
  bindSpm: { expected: 'both EINVAL; nothing lands on S', judge: (o) => all([o.setMempolicyCode === 'EINVAL', `set_mempolicy ${o.setMempolicyCode}`], [o.mbindCode === 'EINVAL', `mbind ${o.mbindCode}`], [o.onSpm === 0, `${o.onSpm} pages on S`]) },
  bindMixed: { expected: 'succeeds, S silently dropped: reads back {0}', judge: (o) => all([o.setCode === 'OK', `set ${o.setCode}`], [fmt(o.readback) === '[0]', `read back ${fmt(o.readback)}`]) },
  memsAllowed: { expected: 'excludes S', judge: (o, n) => all([!has(o.nodes, n.spm), `nodes ${fmt(o.nodes)}`]) },
  staticNodes: { expected: '{S} EINVAL; {0,S} succeeds and reads back {0,S}', judge: (o, n) => all([o.aloneCode === 'EINVAL', `{S}: ${o.aloneCode}`], [o.mixedCode === 'OK', `{0,S}: ${o.mixedCode}`], [fmt(o.mixedReadback) === fmt([0, n.spm]), `read back ${fmt(o.mixedReadback)}`]) },
  migrateRoot: { expected: 'EINVAL, nothing moves', judge: (o) => all([o.code === 'EINVAL', `migrate_pages ${o.code}`], [o.onSpmAfter === 0, `${o.onSpmAfter} pages on S`]) },
  migrateUser: { expected: 'EPERM (S is not among the target\'s ordinary nodes)', judge: (o) => all([o.code === 'EPERM', `migrate_pages ${o.code}`], [o.onSpmAfter === 0, `${o.onSpmAfter} pages on S`]) },
  numactlMembind: { expected: 'numactl fails; nothing on S', judge: (o) => all([o.exitCode !== 0, 'numactl succeeded'], [o.shmemDeltaKiB <= 0, `S Shmem grew ${o.shmemDeltaKiB} KiB`]) },
  numactlInterleave: { expected: 'nothing on S (S is dropped from the interleave set)', judge: (o) => all([o.exitCode === 0, `numactl exited ${o.exitCode}: ${o.stderr.trim()}`], [o.shmemDeltaKiB <= 0, `S Shmem grew ${o.shmemDeltaKiB} KiB`]) },
  // The positive control: demotion itself must still work, to the SysRAM CXL node C, or a
  // kernel with demotion broken entirely would pass.
  demotion: { expected: 'no page is demoted to S; demotion to the SysRAM CXL node C still works', judge: (o) => all([o.onSpm === 0, `${o.onSpm} pages demoted to S`], [o.onControl > 0 && o.onControl >= 0.9 * o.offNode0, `${o.offNode0} pages left node 0, ${o.onControl} reached C`]) },
  // ~4 KiB a page, less what earlier checks' pages on S are freed meanwhile (seen: 920 KiB
  // for 256 pages, 104 KiB freed while zswap stored): three quarters is the bound, three
  // times stock's.
  zswapStore: { expected: 'S MemFree drops ~4 KiB per stored page; stored_pages and stored_incompressible_pages up; pool_total_size flat', judge: (o) => all([o.swappedOut > 0, 'nothing was swapped out'], [-o.spmMemFreeDeltaKiB >= 4 * o.swappedOut * 0.75, `S MemFree moved ${o.spmMemFreeDeltaKiB} KiB for ${o.swappedOut} pages`], [o.storedPagesDelta > 0 && o.incompressibleDelta > 0, `stored_pages +${o.storedPagesDelta}, incompressible +${o.incompressibleDelta}`], [o.poolTotalSizeDelta <= 4096, `pool_total_size grew ${o.poolTotalSizeDelta}`]) },
  // Free = MemFree + the per-cpu free lists: pages freed at invalidation can wait there
  // (about 400 were measured), and a fixed kernel must not look as if it leaked them.
  zswapLeak: { expected: 'S free memory (MemFree + per-cpu lists) returns to its start value (measured on v2: it does not; zswpout - zswpin pages leak)', judge: (o) => all([o.swappedOut > 0, 'nothing was swapped out'], [o.spmFreeBeforeKiB - o.spmFreeAfterKiB < 256, `S free ${o.spmFreeBeforeKiB} -> ${o.spmFreeAfterKiB} KiB (${o.perCpuFreeAfterKiB} KiB of it on per-cpu lists): ${o.spmFreeBeforeKiB - o.spmFreeAfterKiB} KiB leaked, zswpout - zswpin = ${o.zswpoutMinusZswpin} pages (${o.zswpoutMinusZswpin * 4} KiB)`]) },
};

/** A node that went away: the flow succeeded and the node has no memory (has_memory and MemTotal both say so). */
const gone = (o: { hasMemory: boolean; memTotalKiB: number | null }): boolean => !o.hasMemory && !((o.memTotalKiB ?? 0) > 0);

/** What every kernel must show when C and S go away at the end, and after. */
export const OFFLINE: Pick<Column, 'offlineControl' | 'offlineSpm' | 'nodeReleased'> = {
  offlineControl: { expected: 'offline, devdax, destroy succeed; the node has no memory', judge: (o) => all([o.ok, o.error ?? 'failed'], [gone(o), `node still has memory (has_memory ${o.hasMemory}, MemTotal ${o.memTotalKiB} KiB)`]) },
  offlineSpm: { expected: 'offline, devdax, destroy succeed; the node has no memory', judge: (o) => all([o.ok, offlineFailure(o)], [gone(o), `node still has memory (has_memory ${o.hasMemory}, MemTotal ${o.memTotalKiB} KiB)`]) },
  nodeReleased: {
    expected: 'S is in none of has_memory, has_private_memory (where it exists), online and cpuset.mems.effective',
    judge: (o: NodeReleasedObs) => all([!o.hasMemory, 'S still in has_memory'], [o.hasPrivate !== true, 'S still in has_private_memory'], [!o.online, 'S still in online'], [!o.effective, 'S still in the root\'s cpuset.mems.effective']),
  },
};

/**
 * The rows of the SPM suite: what each check observes and proves, once for every version of
 * the series. What a version must show for a row is in that version's module
 * (generations/<id>.ts); how a row observes the kernel is in the suite's phases. Pure.
 */
import type { Capability } from '../capabilities.js';

/** The nodes a row talks about: S = the isolated node (or the same flow on stock), C = the SysRAM control node. */
export interface Nodes {
  spm: number;
  control: number;
}

/** What a judge returns: true when the observation matches, else what differs. */
export type Judgement = true | string;

export interface Expectation<O> {
  /** What this generation must show, in words (goes into the report as `expected`). */
  expected: string;
  judge(observed: O, nodes: Nodes): Judgement;
}

/** A row that has no meaning for a version: the skip says why. */
export interface NotApplicable {
  na: string;
}

export interface RowDef<O> {
  id: string;
  title: string;
  /** The interface table row (left column) it encodes. */
  tableRow: string;
  /** What the kernel must be able to do besides onlining the nodes the row uses; else the row skips naming it. */
  needs?: readonly Capability[];
  /**
   * The row's verdict is one of the facts the generation was detected from: it identifies the
   * kernel and judges nothing else, so it never makes a run green on its own.
   */
  identifies?: boolean;
  /** Never set: carries the row's observation type to the generations' columns. */
  readonly observes?: O;
}

const row = <O>(r: Omit<RowDef<O>, 'observes'>): RowDef<O> => r;

/** Combine several conditions: true when all hold, else the failing ones joined. */
export function all(...conds: Array<[boolean, string]>): Judgement {
  const failed = conds.filter(([ok]) => !ok).map(([, why]) => why);
  return failed.length ? failed.join('; ') : true;
}

/** Why S did not go: the flow's error, and what S still held (naming the zswap leak when it measured one). */
export function offlineFailure(o: OfflineObs): string {
  const held = o.heldBeforeKiB !== undefined ? `; S held ${o.heldBeforeKiB} KiB before the offline` : '';
  const leak = o.zswapHeldKiB !== undefined && o.zswapHeldKiB >= 256 ? ` (${o.zswapHeldKiB} KiB of it the zswap entries spm.zswap.leak found never freed)` : '';
  return `${o.error ?? 'failed'}${held}${leak}`;
}

export const has = (list: readonly number[] | undefined, n: number): boolean => (list ?? []).includes(n);
export const fmt = (v: unknown): string => JSON.stringify(v);

// ---- observations, one type per row ----------------------------------------------------

export interface SysramFileObs { rootExists: boolean; rootMode?: string; childExists?: boolean; rootWriteCode?: string; createCode?: string }
export interface StatusLinesObs { fields: string[] }
/** The version's region/dax bit (spm_node when it has none) on C's region and dax device. */
export interface SpmAttrObs { attr: string; dax: { exists: boolean; value?: string }; region: { exists: boolean; value?: string } }
export interface AttrWritesObs { attr: string; writes: Array<{ value: string; code: string }>; before?: string; after?: string }
/** The control region's bit written to 1 after bind: the write's errno, what the region and its dax device say after, and whether C is still in the version's cpuset file of ordinary nodes. */
export interface RegionBitAfterBindObs { attr: string; writeCode: string; regionAfter?: string; daxAfter?: string; controlInOrdinary: boolean }
/**
 * S after the version's online flow. ordinary: the root's cpuset file of ordinary nodes (v1
 * cpuset.mems.default, v2/v3 cpuset.mems.sysram; absent where the version has none); hasPrivate:
 * has_private_memory where it exists; the isolation attributes its region and dax device show;
 * complaints: kernel log lines of the flow that say failed or error.
 */
export interface SpmOnlineObs { ok: boolean; node?: number; hasMemory: number[]; hasPrivate?: number[]; memsEffective: number[]; ordinary?: number[]; statusNodes: number[]; statusField: string | null; regionAttrs?: Record<string, string>; daxAttrs?: Record<string, string>; complaints: string[] }
/** A kmem bind with the bit the node's latched type refuses: its errno, the log line, and whether the node came back with its own bit. */
export interface ConflictCase { bindCode: string; memoryAddFailedLogged: boolean; restored: boolean }
export interface ConflictObs { sysramGetsSpm: ConflictCase; spmGetsSysram: ConflictCase }
/** onSpm: of `pages` faulted under the mbind (none when it was refused), how many are on S. */
export interface BindObs { setMempolicyCode: string; mbindCode: string; pages: number; onSpm: number }
export interface MixedObs { setCode: string; readback: number[] }
export interface MemsAllowedObs { nodes: number[] }
export interface StaticObs { aloneCode: string; mixedCode: string; mixedReadback: number[] }
export interface MoveObs { code: string; pages: number; onSpmAfter: number }
/** migrate_pages of a small helper process: its anonymous pages per node (numa_maps). */
export interface MigrateObs { code: string; anonOnNode0Before: number; onSpmAfter: number; leftOnNode0: number }
export interface NumactlObs { exitCode: number | null; stderr: string; shmemDeltaKiB: number; sizeKiB: number }
/** spmShmemDeltaKiB: how much of a `sizeKiB` tmpfs file written by a task in the cgroup landed on S; ordinary/parentOrdinary: the child's and the root's cpuset file of ordinary nodes. */
export interface SpmOnlyCpusetObs { writeCode: string; effective: number[]; ordinary?: number[]; parentOrdinary?: number[]; taskField: string | null; taskNodes: number[]; spmShmemDeltaKiB: number; sizeKiB: number }
export interface DemotionObs { pages: number; offNode0: number; onSpm: number; onControl: number }
export interface ZswapStoreObs { swappedOut: number; spmMemFreeDeltaKiB: number; storedPagesDelta: number; incompressibleDelta: number; poolTotalSizeDelta: number }
/** S's free memory (MemFree + per-cpu free lists) before the zswap consumer ran and after it exited; zswpout - zswpin while it ran. */
export interface ZswapLeakObs { swappedOut: number; spmFreeBeforeKiB: number; spmFreeAfterKiB: number; perCpuFreeAfterKiB: number; zswpoutMinusZswpin: number }
export interface HugetlbObs { timedOut: boolean; code: string; durationMs: number; boundMs: number; poolOnSpm: number | null }
export interface ControlObs { ok: boolean; node?: number; hasMemory: number[]; hasPrivate?: number[]; ordinary?: number[]; statusField: string | null; statusNodes: number[]; placedOnControl: number; pages: number }
export interface PrivateFilesObs { has_private_memory: boolean; has_public_memory: boolean; has_user_memory: boolean }
/** A hog asking for all of node 0 that stops at its first page on S; allocatedOnSpm = pages allocated on S meanwhile (numastat). */
export interface PressureObs { killed: boolean; oom: boolean; pagesOnSpm: number; hogPages?: number; allocatedOnSpm: number; spmMemFreeBeforeKiB: number; spmMemFreeAfterKiB: number; oomLine?: string }
/** heldBeforeKiB: what the node held (MemTotal - MemFree) before the offline; zswapHeldKiB: what spm.zswap.leak found held on S; memTotalKiB after (null: the node is gone). */
export interface OfflineObs { ok: boolean; error?: string; hasMemory: boolean; memTotalKiB: number | null; heldBeforeKiB?: number; zswapHeldKiB?: number }

/** cpuset.mems.default (v1) in the cgroup root and a child: whether it exists, its mode, what a root write and a create give, what root, child and root's effective list. */
export interface DefaultFileObs { rootExists: boolean; rootMode?: string; childExists?: boolean; rootWriteCode?: string; createCode?: string; rootNodes?: number[]; childNodes?: number[]; effective: number[] }
/** regionN/private_type (v3) on C's ordinary region and on S: whether it exists, what it reads, and what writes after commit give. */
export interface PrivateTypeObs {
  control: { exists: boolean; value?: string; writes: Array<{ value: string; code: string }> };
  spm: { exists: boolean; value?: string; mode?: string; writes: Array<{ value: string; code: string }> };
}
/** A region made through create_private_region without a private_type, committed and bound (v3): the codes, has_private_memory after, the log line, whether the region was removed again. */
export interface BindWithoutTypeObs { commitCode: string; bindCode: string; privateAfterBind: number[]; logged: boolean; removed: boolean }
/** After S's region is destroyed: which node states still name S. */
export interface NodeReleasedObs { node: number; hasMemory: boolean; hasPrivate?: boolean; online: boolean; effective: boolean; nodeDir: boolean }

// ---- the rows, in the order the suite runs them ----------------------------------------

export const ROWS = {
  sysramFile: row<SysramFileObs>({
    id: 'spm.cpuset.mems_sysram_file',
    title: 'cpuset.mems.sysram in the cgroup v2 root: absent on stock and v1, read-only on v2 and v3',
    tableRow: '/sys/fs/cgroup/cpuset.mems.sysram exists',
  }),

  defaultFile: row<DefaultFileObs>({
    id: 'spm.cpuset.mems_default_file',
    title: 'cpuset.mems.default in the cgroup v2 root (v1): absent elsewhere; read-only on v1, listing the boot nodes from boot on',
    tableRow: '/sys/fs/cgroup/cpuset.mems.default exists (v1\'s name for cpuset.mems.sysram)',
  }),

  statusLines: row<StatusLinesObs>({
    id: 'spm.proc.status_lines',
    title: '/proc/self/status names the allowed nodes Mems_allowed (stock, v3), Sysram_nodes (v2) or Mems_default (v1)',
    tableRow: 'grep Mems_allowed /proc/self/status',
    identifies: true,
  }),

  privateFiles: row<PrivateFilesObs>({
    id: 'spm.sysfs.private_node_files',
    title: 'has_private_memory / has_public_memory / has_user_memory under /sys/devices/system/node',
    tableRow: '/sys/devices/system/node/has_private_memory / has_public_memory',
    identifies: true,
  }),

  control: row<ControlObs>({
    id: 'spm.control.sysram',
    title: 'the control node C, hot-added without the bit, behaves like stock: usable by everyone',
    tableRow: 'hot-add without the bit (control)',
  }),

  spmAttrs: row<SpmAttrObs>({
    id: 'spm.sysfs.spm_node_attrs',
    title: 'the region/dax bit (v2 spm_node, v1 protected_memory) on the dax device and the CXL region of a control region',
    tableRow: 'daxX.Y/spm_node, regionN/spm_node',
  }),

  spmInvalid: row<AttrWritesObs>({
    id: 'spm.sysfs.spm_node_invalid',
    title: 'writing 2 or x to the region bit (regionN/spm_node, v1 protected_memory) is refused',
    tableRow: 'write spm_node=2 or x',
  }),

  spmBusy: row<AttrWritesObs>({
    id: 'spm.sysfs.spm_node_busy',
    title: 'changing the bit of a kmem-bound dax device is refused, the value stays',
    tableRow: 'write spm_node on a kmem-bound dax, value changes',
  }),

  regionBitAfterBind: row<RegionBitAfterBindObs>({
    id: 'spm.sysfs.region_bit_after_bind',
    title: 'the bit written on a CXL region after bind is accepted and silently ignored: its dax device and node keep their type',
    tableRow: '§2.5: regionN/spm_node can be written at any time; changing it after the region\'s dax device exists is silently ignored',
  }),

  bindWithoutType: row<BindWithoutTypeObs>({
    id: 'spm.private.bind_without_type',
    title: 'a region made through create_private_region with no private_type commits, but its bind is refused and registers no private node (v3)',
    tableRow: 'v3: create_private_region, no private_type, commit, bind',
  }),

  spmOnline: row<SpmOnlineObs>({
    id: 'spm.online.spm_node',
    title: 'S onlined the way the version sets a node apart (v1, v2: the region bit between commit and bind; v3: a private region) is isolated (stock: the same manual flow onlines a normal node)',
    tableRow: 'bring S online with spm_node=1 (region bit before bind)',
  }),

  hugetlb: row<HugetlbObs>({
    id: 'spm.hugetlb.node_pool',
    needs: ['hugetlb-per-node'],
    title: 'growing S\'s 2 MiB hugetlb pool to 4 through its per-node nr_hugepages',
    tableRow: 'echo 4 > nodeS/hugepages/hugepages-2048kB/nr_hugepages',
  }),

  typeConflict: row<ConflictObs>({
    id: 'spm.online.type_conflict',
    title: 'rebinding a dax device to kmem with the bit its node\'s latched type refuses (1 on SysRAM C, 0 on SPM S) fails at hot-add',
    tableRow: 'spm_node=1 on a node already SysRAM (or 0 on an SPM node)',
  }),

  spmFoo: row<AttrWritesObs>({
    id: 'spm.sysfs.spm_node_foo',
    title: '"foo" parses as 0 (kstrtobool), so writing it to the bit of a kmem-bound isolated dax is a change: EBUSY',
    tableRow: 'write foo to spm_node of a kmem-bound dax whose value is 1',
  }),

  privateType: row<PrivateTypeObs>({
    id: 'spm.private.type_attr',
    title: 'regionN/private_type (v3): on every region, only "zswap", only before commit',
    tableRow: 'v3: regionN/private_type on C and S after commit',
  }),

  bindSpm: row<BindObs>({
    id: 'spm.mempolicy.bind_spm',
    title: 'set_mempolicy and mbind with MPOL_BIND {S}',
    tableRow: 'set_mempolicy(MPOL_BIND,{S}) / mbind',
  }),

  bindMixed: row<MixedObs>({
    id: 'spm.mempolicy.bind_mixed',
    title: 'set_mempolicy(MPOL_BIND, {0,S}) then get_mempolicy',
    tableRow: 'set_mempolicy(MPOL_BIND,{0,S}) then get_mempolicy',
  }),

  memsAllowed: row<MemsAllowedObs>({
    id: 'spm.mempolicy.mems_allowed',
    title: 'get_mempolicy(MPOL_F_MEMS_ALLOWED)',
    tableRow: 'get_mempolicy(MPOL_F_MEMS_ALLOWED)',
  }),

  staticNodes: row<StaticObs>({
    id: 'spm.mempolicy.static_nodes',
    title: 'MPOL_BIND|MPOL_F_STATIC_NODES with {S} and with {0,S}',
    tableRow: '§2.6: BIND|STATIC {S} alone is EINVAL, BIND|STATIC {0,S} reads back {0,S}',
  }),

  movePages: row<MoveObs>({
    id: 'spm.move_pages',
    title: 'move_pages of node-0 pages to S',
    tableRow: 'move_pages to S',
  }),

  migrateRoot: row<MigrateObs>({
    id: 'spm.migrate_pages.root',
    title: 'migrate_pages(pid, {0} -> {S}) as root, on a small process',
    tableRow: 'migrate_pages(0 to S) as root',
  }),

  migrateUser: row<MigrateObs>({
    id: 'spm.migrate_pages.unprivileged',
    title: 'migrate_pages(pid, {0} -> {S}) by an unprivileged user (uid 65534) on its own small process',
    tableRow: 'unprivileged migrate_pages(self, {0}->{S})',
  }),

  numactlMembind: row<NumactlObs>({
    id: 'spm.numactl.membind',
    title: 'numactl --membind=S writing a tmpfs file: where its pages go',
    tableRow: 'numactl --membind=S + touch memory',
  }),

  numactlInterleave: row<NumactlObs>({
    id: 'spm.numactl.interleave',
    title: 'numactl --interleave=all writing a tmpfs file: whether S gets a share',
    tableRow: 'numactl --interleave=all + touch memory',
  }),

  spmOnlyCpuset: row<SpmOnlyCpusetObs>({
    id: 'spm.cpuset.spm_only',
    needs: ['cpuset-v2'],
    title: 'a child cgroup with cpuset.mems=S: what its tasks may use',
    tableRow: 'write cpuset.mems=S (child cg)',
  }),

  demotion: row<DemotionObs>({
    id: 'spm.demotion',
    needs: ['memory-tiers', 'demotion', 'memcg-v2'],
    title: 'demotion_enabled=1 and memory.reclaim of node-0 pages: where demoted pages go',
    tableRow: 'demotion_enabled=1 + reclaim on node 0',
  }),

  zswapStore: row<ZswapStoreObs>({
    id: 'spm.zswap.store',
    needs: ['zswap'],
    title: 'zswap storing random pages while S is online',
    tableRow: 'zswap on, swap under pressure, S online',
  }),

  zswapLeak: row<ZswapLeakObs>({
    id: 'spm.zswap.leak',
    needs: ['zswap'],
    title: 'S MemFree after the zswap consumer exits (entries invalidated, no swap-in)',
    tableRow: 'S MemFree after the zswap consumer exits',
  }),

  offlineControl: row<OfflineObs>({
    id: 'spm.offline.control',
    needs: ['memory-hot-remove'],
    title: 'the control region goes offline and is destroyed',
    tableRow: 'offline/remove at the end (control)',
  }),

  pressure: row<PressureObs>({
    id: 'spm.pressure.fallback',
    needs: ['cpuset-v2', 'hugetlb-per-node'],
    title: 'a hog in a cpuset {0,S} asking for more than node 0 has free',
    tableRow: 'memory pressure, S free',
  }),

  offlineSpm: row<OfflineObs>({
    id: 'spm.offline.spm',
    needs: ['memory-hot-remove'],
    title: 'S goes offline and its region is destroyed (its type stays latched until reboot)',
    tableRow: 'offline/remove at the end (S)',
  }),

  nodeReleased: row<NodeReleasedObs>({
    id: 'spm.offline.node_released',
    needs: ['memory-hot-remove'],
    title: 'once S\'s region is destroyed, no node state names S any more',
    tableRow: 'after offline/remove (S): has_memory, has_private_memory, online, cpuset.mems.effective',
  }),
};

export type RowName = keyof typeof ROWS;

/** The observation type of a row. */
export type ObsOf<K extends RowName> = (typeof ROWS)[K] extends RowDef<infer O> ? O : never;

/**
 * The verdicts the SPM suite must give on an unpatched kernel, row by row in run order, written
 * out from the stock column of ../shared/spm-interface.md and the versions' documents (not read
 * from the code's table): pass, or skip where the row only exists on kernels of the series.
 * Shared by the e2e tests of every unpatched kernel (sid's 7.2, trixie's 6.12).
 */
export const UNPATCHED_SPM_VERDICTS: Array<[string, 'pass' | 'skip']> = [
  ['spm.generation', 'pass'],
  ['spm.cpuset.mems_sysram_file', 'pass'],
  ['spm.cpuset.mems_default_file', 'pass'],
  ['spm.proc.status_lines', 'pass'],
  ['spm.sysfs.private_node_files', 'pass'],
  ['spm.control.sysram', 'pass'],
  ['spm.sysfs.spm_node_attrs', 'pass'],
  ['spm.sysfs.spm_node_invalid', 'skip'],
  ['spm.sysfs.spm_node_busy', 'skip'],
  ['spm.sysfs.region_bit_after_bind', 'skip'],
  ['spm.private.bind_without_type', 'skip'],
  ['spm.online.spm_node', 'pass'],
  ['spm.hugetlb.node_pool', 'pass'],
  ['spm.online.type_conflict', 'skip'],
  ['spm.sysfs.spm_node_foo', 'skip'],
  ['spm.private.type_attr', 'pass'],
  ['spm.mempolicy.bind_spm', 'pass'],
  ['spm.mempolicy.bind_mixed', 'pass'],
  ['spm.mempolicy.mems_allowed', 'pass'],
  ['spm.mempolicy.static_nodes', 'pass'],
  ['spm.move_pages', 'pass'],
  ['spm.migrate_pages.root', 'pass'],
  ['spm.migrate_pages.unprivileged', 'pass'],
  ['spm.numactl.membind', 'pass'],
  ['spm.numactl.interleave', 'pass'],
  ['spm.cpuset.spm_only', 'pass'],
  ['spm.demotion', 'pass'],
  ['spm.zswap.store', 'pass'],
  ['spm.zswap.leak', 'pass'],
  ['spm.offline.control', 'pass'],
  ['spm.pressure.fallback', 'pass'],
  ['spm.offline.spm', 'pass'],
  ['spm.offline.node_released', 'pass'],
];

/** Why those rows skip on an unpatched kernel. */
export const NOT_ON_UNPATCHED = 'spm_node does not exist on unpatched kernels (n/a in the table)';
export const ONLY_V3 = 'only v3 makes regions through create_private_region';
export const UNPATCHED_SKIP_REASONS: Record<string, string> = {
  'spm.sysfs.spm_node_invalid': NOT_ON_UNPATCHED,
  'spm.sysfs.spm_node_busy': NOT_ON_UNPATCHED,
  'spm.sysfs.region_bit_after_bind': NOT_ON_UNPATCHED,
  'spm.private.bind_without_type': ONLY_V3,
  'spm.online.type_conflict': NOT_ON_UNPATCHED,
  'spm.sysfs.spm_node_foo': NOT_ON_UNPATCHED,
};

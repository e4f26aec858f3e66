/**
 * Which generation of the SPM / private-node work the running kernel has, decided from what
 * userspace can see (../shared/spm-interface.md §4, detection order) and nothing else. Pure:
 * the guest agent gathers the evidence (the generation.evidence verb, src/agent/evidence.ts),
 * this decides.
 */
import type { GenerationEvidence } from '../../agent/evidence.js';

export type Generation = 'stock' | 'protected-v1' | 'spm-v2' | 'private-v4' | 'private-latest';

export const GENERATION_TITLES: Record<Generation, string> = {
  stock: 'unpatched kernel (no SPM/private-node interfaces)',
  'protected-v1': 'v1 "Protected Memory NUMA Nodes" (cpuset.mems.default)',
  'spm-v2': 'v2 "Specific Purpose Memory NUMA nodes" (cpuset.mems.sysram, Sysram_nodes, spm_node)',
  'private-v4': 'v4 "N_MEMORY_PRIVATE" (has_private_memory)',
  'private-latest': 'latest private-node tree (has_public_memory / has_user_memory)',
};

export interface GenerationDecision {
  generation: Generation;
  /** Why, one line per fact, for the report. */
  evidence: string[];
  /** Facts that contradict the decision (a half-applied series, or a generation we do not know). */
  contradictions: string[];
}

/** Patch subjects that belong to the SPM / private-node work (any generation). */
const SERIES_SUBJECT = /spm|specific purpose memory|sysram|protected memory|N_MEMORY_PRIVATE|N_PRIVATE|private (memory )?nodes?/i;

/**
 * The patches of the kernel's recorded identity (a harness build) that belong to the SPM work:
 * a kernel built with them that shows no SPM interface at all did not get what it was built with.
 */
export function seriesPatches(subjects: readonly string[]): string[] {
  return subjects.filter((s) => SERIES_SUBJECT.test(s));
}

export function detectGeneration(e: GenerationEvidence, built: { patchSubjects?: readonly string[] } = {}): GenerationDecision {
  const has = (list: string[], name: string): boolean => list.includes(name);
  const status = (field: string): boolean => e.statusLines.some((l) => l.startsWith(`${field}:`));
  const facts = {
    hasPublic: has(e.nodeFiles, 'has_public_memory'),
    hasUser: has(e.nodeFiles, 'has_user_memory'),
    hasPrivate: has(e.nodeFiles, 'has_private_memory'),
    memsSysram: has(e.cgroupRootFiles, 'cpuset.mems.sysram'),
    sysramStatus: status('Sysram_nodes'),
    memsDefault: has(e.cgroupRootFiles, 'cpuset.mems.default'),
    memsAllowedStatus: status('Mems_allowed'),
  };
  const evidence = [
    `kernel ${e.release}`,
    `/sys/devices/system/node: has_public_memory ${yn(facts.hasPublic)}, has_user_memory ${yn(facts.hasUser)}, has_private_memory ${yn(facts.hasPrivate)}`,
    `cgroup root: cpuset.mems.sysram ${yn(facts.memsSysram)}, cpuset.mems.default ${yn(facts.memsDefault)}`,
    `/proc/self/status: Sysram_nodes ${yn(facts.sysramStatus)}, Mems_allowed ${yn(facts.memsAllowedStatus)}`,
  ];
  const contradictions: string[] = [];
  let generation: Generation;
  if (facts.hasPublic || facts.hasUser) generation = 'private-latest';
  else if (facts.hasPrivate) generation = 'private-v4';
  else if (facts.memsSysram || facts.sysramStatus) {
    generation = 'spm-v2';
    // v2 renames the status lines and adds the cgroup file together (patches 06 and 07).
    if (facts.memsSysram !== facts.sysramStatus) contradictions.push(`v2 adds cpuset.mems.sysram and Sysram_nodes together, but only ${facts.memsSysram ? 'cpuset.mems.sysram' : 'Sysram_nodes'} is present`);
    if (facts.memsAllowedStatus) contradictions.push('v2 removes the Mems_allowed status lines, but they are still there');
  } else if (facts.memsDefault) generation = 'protected-v1';
  else {
    generation = 'stock';
    if (!facts.memsAllowedStatus) contradictions.push('no Mems_allowed lines in /proc/self/status, and no known replacement: an unknown generation?');
    const series = seriesPatches(built.patchSubjects ?? []);
    if (series.length) contradictions.push(`the harness built this kernel with ${series.length} SPM patch(es) (${series.slice(0, 3).map((s) => `"${s}"`).join(', ')}${series.length > 3 ? ', ...' : ''}), but it shows no SPM interface: the series did not take effect (wrong tree, config, or boot image?)`);
  }
  return { generation, evidence, contradictions };
}

function yn(b: boolean): string {
  return b ? 'present' : 'absent';
}

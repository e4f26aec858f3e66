/**
 * The facts a version of the isolated-memory-node series is told apart by, derived from the
 * agent's evidence (src/agent/evidence.ts). A fact whose source the guest lacks is unknown
 * (undefined), never absent: a kernel without CXL root decoders says nothing about
 * create_private_region. Pure.
 */
import type { GenerationEvidence } from '../../../agent/evidence.js';

export interface GenerationFacts {
  /** /sys/devices/system/node state files. */
  hasPrivateMemory: boolean;
  hasPublicMemory: boolean;
  hasUserMemory: boolean;
  /** cgroup v2 root files. */
  memsSysram: boolean;
  memsDefault: boolean;
  /** /proc/self/status fields. */
  statusMemsAllowed: boolean;
  statusSysramNodes: boolean;
  statusMemsDefault: boolean;
  /** A root decoder that can make ram regions has create_private_region (v3); unknown without one. */
  createPrivateRegion?: boolean;
  /** The tracepoints print __GFP_PRIVATE (v4); unknown when tracefs could not be read. */
  gfpPrivate?: boolean;
}

export function factsOf(e: GenerationEvidence): GenerationFacts {
  const status = (field: string): boolean => e.statusLines.some((l) => l.startsWith(`${field}:`));
  const canMakeRam = e.rootDecoderFiles?.includes('create_ram_region') ?? false;
  return {
    hasPrivateMemory: e.nodeFiles.includes('has_private_memory'),
    hasPublicMemory: e.nodeFiles.includes('has_public_memory'),
    hasUserMemory: e.nodeFiles.includes('has_user_memory'),
    memsSysram: e.cgroupRootFiles.includes('cpuset.mems.sysram'),
    memsDefault: e.cgroupRootFiles.includes('cpuset.mems.default'),
    statusMemsAllowed: status('Mems_allowed'),
    statusSysramNodes: status('Sysram_nodes'),
    statusMemsDefault: status('Mems_default'),
    ...(canMakeRam ? { createPrivateRegion: e.rootDecoderFiles!.includes('create_private_region') } : {}),
    ...(e.seriesGfpFlags ? { gfpPrivate: e.seriesGfpFlags.includes('__GFP_PRIVATE') } : {}),
  };
}

const word = (b: boolean | undefined): string => (b === undefined ? 'unknown' : b ? 'present' : 'absent');

/** The facts in words, one line per source, for the report. */
export function describeFacts(e: GenerationEvidence, f: GenerationFacts): string[] {
  return [
    `kernel ${e.release}`,
    `/sys/devices/system/node: has_private_memory ${word(f.hasPrivateMemory)}, has_public_memory ${word(f.hasPublicMemory)}, has_user_memory ${word(f.hasUserMemory)}`,
    `cgroup root: cpuset.mems.sysram ${word(f.memsSysram)}, cpuset.mems.default ${word(f.memsDefault)}`,
    `/proc/self/status: Mems_allowed ${word(f.statusMemsAllowed)}, Sysram_nodes ${word(f.statusSysramNodes)}, Mems_default ${word(f.statusMemsDefault)}`,
    `CXL root decoders: create_private_region ${word(f.createPrivateRegion)}${f.createPrivateRegion === undefined ? ' (no root decoder that can make ram regions)' : ''}`,
    `tracepoint GFP flags: __GFP_PRIVATE ${word(f.gfpPrivate)}${f.gfpPrivate === undefined ? ' (tracefs not readable)' : ''}`,
  ];
}

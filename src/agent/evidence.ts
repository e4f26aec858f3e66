/**
 * What userspace shows of the kernel's SPM / private-node generation, gathered by the agent
 * (the generation.evidence verb) and decided on the host by src/suites/spm/generation.ts
 * (detectGeneration, pure) in its documented order.
 */
import { listDir, readTrimmed } from '../probe/sysfs.js';

export interface GenerationEvidence {
  release: string;
  /** Entries of /sys/devices/system/node. */
  nodeFiles: string[];
  /** cpuset.* entries of the cgroup v2 root. */
  cgroupRootFiles: string[];
  /** Node lines of /proc/self/status (Mems_allowed*, Sysram_nodes*), verbatim. */
  statusLines: string[];
}

export function generationEvidence(): GenerationEvidence {
  return {
    release: readTrimmed('/proc/sys/kernel/osrelease') ?? '',
    nodeFiles: listDir('/sys/devices/system/node'),
    cgroupRootFiles: listDir('/sys/fs/cgroup').filter((f) => f.startsWith('cpuset.')),
    statusLines: (readTrimmed('/proc/self/status') ?? '').split('\n').filter((l) => /^(Mems_allowed|Sysram_nodes)/.test(l)).map((l) => l.trim()),
  };
}

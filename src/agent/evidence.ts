/**
 * What userspace shows of the kernel's version of the isolated-memory-node series, gathered by
 * the agent (the generation.evidence verb) and decided on the host by
 * src/suites/spm/generations/ (detectGeneration, pure) in its documented order. Only files,
 * never a version string.
 */
import { listDir, readTrimmed } from '../probe/sysfs.js';

export interface GenerationEvidence {
  release: string;
  /** Entries of /sys/devices/system/node. */
  nodeFiles: string[];
  /** cpuset.* entries of the cgroup v2 root. */
  cgroupRootFiles: string[];
  /** Node lines of /proc/self/status (Mems_allowed*, Sysram_nodes*, Mems_default*), verbatim. */
  statusLines: string[];
  /** Attribute names of the CXL root decoders (decoder0.*), all of them together; [] when there is none. */
  rootDecoderFiles?: string[];
  /**
   * The series' GFP flag names the kernel's tracepoints print (kmem/mm_page_alloc's format):
   * __GFP_PROTECTED (v1), __GFP_SPM_NODE (v2), __GFP_PRIVATE (v4); absent when tracefs could not be read.
   */
  seriesGfpFlags?: string[];
}

const CXL = '/sys/bus/cxl/devices';
const TRACE_FORMATS = ['/sys/kernel/tracing/events/kmem/mm_page_alloc/format', '/sys/kernel/debug/tracing/events/kmem/mm_page_alloc/format'];

export function generationEvidence(): GenerationEvidence {
  const format = TRACE_FORMATS.map(readTrimmed).find((f) => f !== undefined);
  return {
    release: readTrimmed('/proc/sys/kernel/osrelease') ?? '',
    nodeFiles: listDir('/sys/devices/system/node'),
    cgroupRootFiles: listDir('/sys/fs/cgroup').filter((f) => f.startsWith('cpuset.')),
    statusLines: (readTrimmed('/proc/self/status') ?? '').split('\n').filter((l) => /^(Mems_allowed|Sysram_nodes|Mems_default)/.test(l)).map((l) => l.trim()),
    rootDecoderFiles: [...new Set(listDir(CXL).filter((d) => /^decoder0\.\d+$/.test(d)).flatMap((d) => listDir(`${CXL}/${d}`)))].sort(),
    ...(format !== undefined ? { seriesGfpFlags: [...new Set(format.match(/__GFP_(?:PRIVATE|SPM_NODE|PROTECTED)\b/g) ?? [])].sort() } : {}),
  };
}

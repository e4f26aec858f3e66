/**
 * What the booted kernel can do, in the host's words: the guest agent proves each capability
 * from the files userspace sees (the capabilities verb, src/agent/capabilities.ts, which also
 * names the proof); this names them. A check that needs a capability the kernel lacks is
 * `skip`, naming the capability and the file that is absent, never `error` and never `pass`.
 */
import { CAPABILITY_PROOFS, type Capabilities, type Capability } from '../agent/capabilities.js';

export type { Capabilities, Capability } from '../agent/capabilities.js';

interface CapabilityWords {
  /** What it lets the harness do, in words. */
  title: string;
  /** Where it comes from, for the skip reason of a kernel that lacks it. */
  origin?: string;
}

const CAPABILITIES: Record<Capability, CapabilityWords> = {
  'cxl-bus': { title: 'a CXL bus', origin: 'CONFIG_CXL_BUS' },
  'cxl-region-driver': { title: 'the CXL region driver', origin: 'CONFIG_CXL_REGION, 6.0' },
  'cxl-ram-region': { title: 'CXL volatile (ram) regions', origin: 'added in 6.3' },
  'dax-kmem': { title: 'dax memory onlined by kmem', origin: 'CONFIG_DEV_DAX_KMEM' },
  'cxl-pmem': { title: 'CXL persistent memory (the nvdimm bridge driver)', origin: 'CONFIG_CXL_PMEM' },
  'dax-pmem': { title: 'dax devices on nvdimm namespaces', origin: 'CONFIG_DEV_DAX_PMEM' },
  'memory-hotplug': { title: 'memory hotplug', origin: 'CONFIG_MEMORY_HOTPLUG' },
  'memory-hot-remove': { title: 'memory hot-remove', origin: 'CONFIG_MEMORY_HOTREMOVE' },
  'cpuset-v2': { title: 'the cgroup v2 cpuset controller', origin: 'CONFIG_CPUSETS' },
  'memcg-v2': { title: 'the cgroup v2 memory controller with memory.reclaim', origin: 'CONFIG_MEMCG; memory.reclaim added in 5.19' },
  zswap: { title: 'zswap', origin: 'CONFIG_ZSWAP' },
  'hugetlb-per-node': { title: 'per-node hugetlb pools', origin: 'CONFIG_HUGETLBFS' },
  'memory-tiers': { title: 'memory tiers', origin: 'added in 6.1' },
  demotion: { title: 'demotion to lower tiers', origin: 'added in 5.15' },
};

/**
 * The skip reason when the kernel lacks one of `needs`, naming each missing capability and the
 * file that proves it, e.g. "kernel has no CXL volatile (ram) regions:
 * /sys/bus/cxl/devices/decoder0.*\/create_ram_region absent (added in 6.3)"; undefined when it has them all.
 */
export function lacking(caps: Capabilities, needs: readonly Capability[]): string | undefined {
  const missing = needs.filter((n) => !caps[n]);
  if (!missing.length) return undefined;
  return missing
    .map((n) => {
      const d = CAPABILITIES[n];
      return `kernel has no ${d.title}: ${CAPABILITY_PROOFS[n].proof} absent${d.origin ? ` (${d.origin})` : ''}`;
    })
    .join('; ');
}

/** What onlining a CXL region as a NUMA node takes. */
export const ONLINE_REGION: readonly Capability[] = ['cxl-region-driver', 'cxl-ram-region', 'dax-kmem', 'memory-hotplug'];
/** What a persistent-memory region, its devdax namespace and its memory online as a node take. */
export const ONLINE_PMEM: readonly Capability[] = ['cxl-region-driver', 'cxl-pmem', 'dax-pmem', 'dax-kmem', 'memory-hotplug'];
/** What offlining and removing it again takes. */
export const REMOVE_REGION: readonly Capability[] = [...ONLINE_REGION, 'memory-hot-remove'];

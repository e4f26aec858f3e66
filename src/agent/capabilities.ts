/**
 * What the booted kernel can do, proved by the files userspace sees (never by its version):
 * each capability with the file that proves it and the test the agent makes of it (the
 * capabilities verb). The host's words for them (titles, where they come from, the skip
 * reason of a kernel that lacks one) are src/suites/capabilities.ts.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { listDir, readTrimmed } from '../probe/sysfs.js';

export type Capability =
  | 'cxl-bus'
  | 'cxl-region-driver'
  | 'cxl-ram-region'
  | 'dax-kmem'
  | 'cxl-pmem'
  | 'dax-pmem'
  | 'memory-hotplug'
  | 'memory-hot-remove'
  | 'cpuset-v2'
  | 'memcg-v2'
  | 'zswap'
  | 'hugetlb-per-node'
  | 'memory-tiers'
  | 'demotion';

export type Capabilities = Record<Capability, boolean>;

interface Proof {
  /** The file (or the word in a file) whose presence proves it, as the reports name it. */
  proof: string;
  has: () => boolean;
}

const isDir = (path: string) => (): boolean => {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
};
const exists = (path: string) => (): boolean => existsSync(path);
/** An entry of `dir` whose name starts with `prefix` holds `file` (the shell's dir/prefix*\/file). */
const someHolds = (dir: string, prefix: string, file: string) => (): boolean => listDir(dir).some((e) => e.startsWith(prefix) && existsSync(join(dir, e, file)));
const controller = (name: string): boolean => (readTrimmed('/sys/fs/cgroup/cgroup.controllers') ?? '').split(/\s+/).includes(name);

const CG = '/sys/fs/cgroup';
const MEMORY = '/sys/devices/system/memory';

export const CAPABILITY_PROOFS: Record<Capability, Proof> = {
  'cxl-bus': { proof: '/sys/bus/cxl', has: isDir('/sys/bus/cxl') },
  'cxl-region-driver': { proof: '/sys/bus/cxl/drivers/cxl_region', has: isDir('/sys/bus/cxl/drivers/cxl_region') },
  'cxl-ram-region': { proof: '/sys/bus/cxl/devices/decoder0.*/create_ram_region', has: someHolds('/sys/bus/cxl/devices', 'decoder0.', 'create_ram_region') },
  'dax-kmem': { proof: '/sys/bus/dax/drivers/kmem', has: isDir('/sys/bus/dax/drivers/kmem') },
  'cxl-pmem': { proof: '/sys/bus/cxl/drivers/cxl_nvdimm_bridge', has: isDir('/sys/bus/cxl/drivers/cxl_nvdimm_bridge') },
  'dax-pmem': { proof: '/sys/bus/nd/drivers/dax_pmem', has: isDir('/sys/bus/nd/drivers/dax_pmem') },
  'memory-hotplug': { proof: `${MEMORY}/block_size_bytes`, has: exists(`${MEMORY}/block_size_bytes`) },
  'memory-hot-remove': { proof: `${MEMORY}/memory*/valid_zones`, has: someHolds(MEMORY, 'memory', 'valid_zones') },
  'cpuset-v2': { proof: `cpuset in ${CG}/cgroup.controllers`, has: () => controller('cpuset') },
  'memcg-v2': { proof: `memory in ${CG}/cgroup.controllers, ${CG}/memory.reclaim`, has: () => controller('memory') && existsSync(`${CG}/memory.reclaim`) },
  zswap: { proof: '/sys/module/zswap/parameters/enabled', has: exists('/sys/module/zswap/parameters/enabled') },
  'hugetlb-per-node': { proof: '/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages', has: exists('/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages') },
  'memory-tiers': { proof: '/sys/devices/virtual/memory_tiering', has: isDir('/sys/devices/virtual/memory_tiering') },
  demotion: { proof: '/sys/kernel/mm/numa/demotion_enabled', has: exists('/sys/kernel/mm/numa/demotion_enabled') },
};

export function capabilities(): Capabilities {
  return Object.fromEntries(Object.entries(CAPABILITY_PROOFS).map(([name, p]) => [name, p.has()])) as Capabilities;
}

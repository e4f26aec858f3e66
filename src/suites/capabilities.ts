/**
 * What the booted kernel can do, from what userspace can see, not from its version: the guest
 * lists the files that prove each capability with one command (CAPABILITY_COMMAND), this
 * decides (pure). A check that needs a capability the kernel lacks is `skip`, naming the
 * capability and the file that is absent, never `error` and never `pass`.
 */

export type Capability =
  | 'cxl-bus'
  | 'cxl-region-driver'
  | 'cxl-ram-region'
  | 'dax-kmem'
  | 'memory-hotplug'
  | 'memory-hot-remove'
  | 'cpuset-v2'
  | 'memcg-v2'
  | 'zswap'
  | 'hugetlb-per-node'
  | 'memory-tiers'
  | 'demotion';

interface CapabilityDef {
  /** What it lets the harness do, in words. */
  title: string;
  /** The file (or the word in a file) whose presence proves it. */
  proof: string;
  /** A shell test that succeeds when the kernel has it. */
  test: string;
  /** Where it comes from, for the skip reason of a kernel that lacks it. */
  origin?: string;
}

export const CAPABILITIES: Record<Capability, CapabilityDef> = {
  'cxl-bus': { title: 'a CXL bus', proof: '/sys/bus/cxl', test: '[ -d /sys/bus/cxl ]', origin: 'CONFIG_CXL_BUS' },
  'cxl-region-driver': { title: 'the CXL region driver', proof: '/sys/bus/cxl/drivers/cxl_region', test: '[ -d /sys/bus/cxl/drivers/cxl_region ]', origin: 'CONFIG_CXL_REGION, 6.0' },
  'cxl-ram-region': {
    title: 'CXL volatile (ram) regions',
    proof: '/sys/bus/cxl/devices/decoder0.*/create_ram_region',
    test: 'ls /sys/bus/cxl/devices/decoder0.*/create_ram_region >/dev/null 2>&1',
    origin: 'added in 6.3',
  },
  'dax-kmem': { title: 'dax memory onlined by kmem', proof: '/sys/bus/dax/drivers/kmem', test: '[ -d /sys/bus/dax/drivers/kmem ]', origin: 'CONFIG_DEV_DAX_KMEM' },
  'memory-hotplug': { title: 'memory hotplug', proof: '/sys/devices/system/memory/block_size_bytes', test: '[ -e /sys/devices/system/memory/block_size_bytes ]', origin: 'CONFIG_MEMORY_HOTPLUG' },
  'memory-hot-remove': {
    title: 'memory hot-remove',
    proof: '/sys/devices/system/memory/memory*/valid_zones',
    test: 'ls /sys/devices/system/memory/memory*/valid_zones >/dev/null 2>&1',
    origin: 'CONFIG_MEMORY_HOTREMOVE',
  },
  'cpuset-v2': { title: 'the cgroup v2 cpuset controller', proof: 'cpuset in /sys/fs/cgroup/cgroup.controllers', test: 'grep -qw cpuset /sys/fs/cgroup/cgroup.controllers', origin: 'CONFIG_CPUSETS' },
  'memcg-v2': { title: 'the cgroup v2 memory controller with memory.reclaim', proof: 'memory in /sys/fs/cgroup/cgroup.controllers, /sys/fs/cgroup/memory.reclaim', test: 'grep -qw memory /sys/fs/cgroup/cgroup.controllers && [ -e /sys/fs/cgroup/memory.reclaim ]', origin: 'CONFIG_MEMCG; memory.reclaim added in 5.19' },
  zswap: { title: 'zswap', proof: '/sys/module/zswap/parameters/enabled', test: '[ -e /sys/module/zswap/parameters/enabled ]', origin: 'CONFIG_ZSWAP' },
  'hugetlb-per-node': { title: 'per-node hugetlb pools', proof: '/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages', test: '[ -e /sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages ]', origin: 'CONFIG_HUGETLBFS' },
  'memory-tiers': { title: 'memory tiers', proof: '/sys/devices/virtual/memory_tiering', test: '[ -d /sys/devices/virtual/memory_tiering ]', origin: 'added in 6.1' },
  demotion: { title: 'demotion to lower tiers', proof: '/sys/kernel/mm/numa/demotion_enabled', test: '[ -e /sys/kernel/mm/numa/demotion_enabled ]', origin: 'added in 5.15' },
};

export type Capabilities = Record<Capability, boolean>;

/** One shell command printing `name yes|no` per capability (parsed by parseCapabilities). */
export const CAPABILITY_COMMAND = (Object.entries(CAPABILITIES) as Array<[Capability, CapabilityDef]>)
  .map(([name, def]) => `if ${def.test}; then echo "${name} yes"; else echo "${name} no"; fi`)
  .join('; ');

export function parseCapabilities(text: string): Capabilities {
  const seen = new Map<string, boolean>();
  for (const line of text.split('\n')) {
    const [name, answer] = line.trim().split(/\s+/);
    if (name && (answer === 'yes' || answer === 'no')) seen.set(name, answer === 'yes');
  }
  const caps = {} as Capabilities;
  for (const name of Object.keys(CAPABILITIES) as Capability[]) {
    const v = seen.get(name);
    if (v === undefined) throw new Error(`capability ${name} missing from the guest's answer`);
    caps[name] = v;
  }
  return caps;
}

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
      return `kernel has no ${d.title}: ${d.proof} absent${d.origin ? ` (${d.origin})` : ''}`;
    })
    .join('; ');
}

/** The capabilities as report lines, for the summary. */
export function describeCapabilities(caps: Capabilities): string[] {
  return (Object.keys(CAPABILITIES) as Capability[]).map((n) => `${n}: ${caps[n] ? 'yes' : 'no'} (${CAPABILITIES[n].proof})`);
}

/** What onlining a CXL region as a NUMA node takes. */
export const ONLINE_REGION: readonly Capability[] = ['cxl-region-driver', 'cxl-ram-region', 'dax-kmem', 'memory-hotplug'];
/** What offlining and removing it again takes. */
export const REMOVE_REGION: readonly Capability[] = [...ONLINE_REGION, 'memory-hot-remove'];

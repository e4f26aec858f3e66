/**
 * The agent's capability proofs on this host's kernel, against the shell tests the harness
 * ran before the agent answered them (the oracle, spelled here only), and the host's skip
 * reason naming the proof.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { CAPABILITY_PROOFS, capabilities, type Capability } from '../../src/agent/capabilities.js';
import { lacking } from '../../src/suites/capabilities.js';

const SHELL: Record<Capability, string> = {
  'cxl-bus': '[ -d /sys/bus/cxl ]',
  'cxl-region-driver': '[ -d /sys/bus/cxl/drivers/cxl_region ]',
  'cxl-ram-region': 'ls /sys/bus/cxl/devices/decoder0.*/create_ram_region >/dev/null 2>&1',
  'dax-kmem': '[ -d /sys/bus/dax/drivers/kmem ]',
  'cxl-pmem': '[ -d /sys/bus/cxl/drivers/cxl_nvdimm_bridge ]',
  'dax-pmem': '[ -d /sys/bus/nd/drivers/dax_pmem ]',
  'memory-hotplug': '[ -e /sys/devices/system/memory/block_size_bytes ]',
  'memory-hot-remove': 'ls /sys/devices/system/memory/memory*/valid_zones >/dev/null 2>&1',
  'cpuset-v2': 'grep -qw cpuset /sys/fs/cgroup/cgroup.controllers',
  'memcg-v2': 'grep -qw memory /sys/fs/cgroup/cgroup.controllers && [ -e /sys/fs/cgroup/memory.reclaim ]',
  zswap: '[ -e /sys/module/zswap/parameters/enabled ]',
  'hugetlb-per-node': '[ -e /sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages ]',
  'memory-tiers': '[ -d /sys/devices/virtual/memory_tiering ]',
  demotion: '[ -e /sys/kernel/mm/numa/demotion_enabled ]',
};

const shell = (test: string): boolean => {
  try {
    execFileSync('sh', ['-c', test], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

t.test('10 each capability as the shell test of its proof answers it on this kernel', async (t) => {
  const caps = capabilities();
  t.same(Object.keys(caps).sort(), Object.keys(SHELL).sort());
  for (const [name, test] of Object.entries(SHELL) as [Capability, string][]) t.equal(caps[name], shell(test), `${name}: ${test}`);
});

t.test('20 a missing capability skips naming its proof and origin', async (t) => {
  const none = Object.fromEntries(Object.keys(CAPABILITY_PROOFS).map((n) => [n, false])) as Record<Capability, boolean>;
  t.equal(lacking(none, ['cxl-ram-region']), 'kernel has no CXL volatile (ram) regions: /sys/bus/cxl/devices/decoder0.*/create_ram_region absent (added in 6.3)');
  t.equal(lacking({ ...none, zswap: true }, ['zswap']), undefined);
  t.match(lacking(none, ['memcg-v2', 'zswap']), /^kernel has no the cgroup v2 memory controller with memory\.reclaim: memory in \/sys\/fs\/cgroup\/cgroup\.controllers, \/sys\/fs\/cgroup\/memory\.reclaim absent \(CONFIG_MEMCG; memory\.reclaim added in 5\.19\); kernel has no zswap/);
});

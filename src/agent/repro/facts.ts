/**
 * What the guest kernel offers a scenario, decided in one place: each feature a scenario can
 * require (protocol.ts FEATURES) with the test that proves it, the facts line every chunk
 * starts with, and the reason a scenario is skipped when a feature is missing.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CAPABILITY_PROOFS } from '../capabilities.js';
import { CXL, blockSize, ls, memdevs, pmemDevices, read } from '../cxl/index.js';
import type { Feature, LoopFacts, LoopSpec } from '../../contract/repro-protocol.js';

interface Kernel { generation: LoopSpec['generation']; memdevs: string[] }

const FEATURE_TESTS: Record<Feature, (k: Kernel) => boolean> = {
  // SPM v2 kernels (cpuset.mems.sysram and Sysram_nodes), as the host decided the generation.
  spm_node: (k) => k.generation.name === 'spm-v2',
  // Any version of the series with a way to set a node apart (the host's generation module gives it).
  isolated_node: (k) => k.generation.isolate !== undefined,
  zswap: CAPABILITY_PROOFS.zswap.has,
  poison_list: (k) => k.memdevs.some((m) => existsSync(join(CXL, m, 'trigger_poison_list'))),
  dcd: (k) => k.memdevs.some((m) => ls(join(CXL, m)).some((e) => /^dynamic_ram|^dc\d*$/.test(e))),
  sysrq: () => existsSync('/proc/sysrq-trigger'),
  // A device with persistent capacity, and the drivers a pmem region and a devdax namespace need.
  pmem: () => pmemDevices().length > 0 && CAPABILITY_PROOFS['cxl-pmem'].has() && CAPABILITY_PROOFS['dax-pmem'].has(),
};

export function facts(generation: LoopSpec['generation']): LoopFacts {
  const kernel = { generation, memdevs: memdevs() };
  const features = Object.fromEntries(Object.entries(FEATURE_TESTS).map(([f, has]) => [f, has(kernel)])) as Record<Feature, boolean>;
  const release = read('/proc/sys/kernel/osrelease');
  return { generation: generation.name, evidence: generation.evidence, features, memdevs: kernel.memdevs, blockSize: blockSize(), ...(release !== undefined ? { release } : {}) };
}

/** Why the scenario cannot run on this kernel (a skip), or undefined when it has every feature it requires. */
export function lacking(f: LoopFacts, requires: readonly Feature[]): string | undefined {
  const missing = requires.filter((r) => !f.features[r]);
  if (!missing.length) return undefined;
  const why = missing.includes('spm_node') || missing.includes('isolated_node')
    ? ` (generation ${f.generation}: ${f.evidence.join('; ')})`
    : missing.includes('dcd') ? ` (no dynamic_ram/dc partition under ${f.memdevs.join(', ') || 'any memdev'})`
      : missing.includes('pmem') ? ' (no memdev with persistent capacity, or no cxl_pmem / dax_pmem driver: CONFIG_CXL_PMEM, CONFIG_DEV_DAX_PMEM)' : '';
  return `the guest kernel lacks ${missing.join(', ')}${why}`;
}

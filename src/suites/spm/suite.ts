/**
 * The SPM suite: the check table of every version of the isolated-memory-node series
 * (generations/), run against the booted kernel. Order matters because a node's type latches at
 * its first hot-add until reboot (v2), so the phases run in a fixed order:
 *  1. identity: the version, and what exists before any node is set apart;
 *  2. control: C onlined with `cxl create-region` (SysRAM on every kernel), the bit on C;
 *  3. isolated: S onlined the version's way, then at once the hugetlb row (v2 spins in that
 *     state; later rows change it so that it returns), the latch, the bit on S, v3's type;
 *  4. syscalls, 5. cgroups, 6. zswap: against S;
 *  7. teardown: offline C; memory pressure (node 0's only fallback is then S); offline S, and
 *     no node state may still name it.
 */
import { regionCapacity } from '../../qemu/topology.js';
import type { Suite, SuiteContext } from '../check.js';
import { generationById } from './generations/index.js';
import { ROWS } from './rows.js';
import { cgroupsPhase } from './phases/cgroups.js';
import { controlPhase } from './phases/control.js';
import { identityPhase } from './phases/identity.js';
import { isolatedPhase } from './phases/isolated.js';
import { syscallsPhase } from './phases/syscalls.js';
import { teardownPhase } from './phases/teardown.js';
import { zswapPhase } from './phases/zswap.js';
import { rowRunner, type Phase, type SpmState } from './state.js';

export const SPM_PHASES: readonly Phase[] = [identityPhase, controlPhase, isolatedPhase, syscallsPhase, cgroupsPhase, zswapPhase, teardownPhase];

export const spmSuite: Suite = {
  name: 'spm',
  description: 'the check table of every version of the isolated-memory-node series (stock, v1, v2, v3) on two CXL nodes: C onlined as SysRAM control, S set apart the version\'s way',
  defaultTopology: 'spm-pair',
  unsuitedTopology: (t) => (regionCapacity(t) < 2 ? `it needs two CXL regions, C (the SysRAM control) and S (the isolated node), and topology ${t.name} can make ${regionCapacity(t)}` : undefined),
  checks: Object.values(ROWS).map(({ id, title }) => ({ id, title })),
  run: runSpmSuite,
};

async function runSpmSuite(ctx: SuiteContext): Promise<void> {
  // Until spm.generation has decided, every row is judged as on stock.
  const st: SpmState = { gen: generationById('stock')! };
  const row = rowRunner(ctx, st);
  for (const phase of SPM_PHASES) await phase(ctx, st, row);
}

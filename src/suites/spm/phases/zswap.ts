/**
 * Phase 6: zswap while S is online: where it stores random pages, and whether S gets its free
 * memory back once the consumer exits and its entries are invalidated.
 */
import { isProbeFailure } from '../../../probe/isolate.js';
import type { CheckApi } from '../../check.js';
import { ROWS, type Nodes } from '../rows.js';
import { PAGES, type Phase } from '../state.js';

/** A node's free memory: MemFree plus the pages waiting on its per-cpu free lists (PerCpuFree). */
export function freeKiB(meminfo: Record<string, number>): number {
  return (meminfo.MemFree ?? 0) + (meminfo.PerCpuFree ?? 0);
}

export const zswapPhase: Phase = async (ctx, st, row) => {
  await row('zswapStore', async (c: CheckApi, n: Nodes) => {
    const z = await c.guest.probe.run('zswap', { enable: true, swap: 'auto', pressure: 'pageout', fill: 'random', pages: PAGES * 4, swapIn: false, keepSwap: false });
    c.require('the zswap probe ran', !isProbeFailure(z) && !!z.consumer && !isProbeFailure(z.consumer), isProbeFailure(z) ? z.message : JSON.stringify(z.consumer));
    const consumer = z.consumer as Exclude<typeof z.consumer, undefined | { failure: true }>;
    const node = String(n.spm);
    const zswap = {
      swappedOut: consumer.swappedOut, before: z.before.nodes[node] ?? {}, during: consumer.during.nodes[node] ?? {}, after: z.after.nodes[node] ?? {},
      debugBefore: z.before.debugfs, debugDuring: consumer.during.debugfs, vmstatBefore: z.before.vmstat, vmstatDuring: consumer.during.vmstat,
    };
    st.zswap = zswap;
    const delta = (k: string): number => (zswap.debugDuring[k] ?? 0) - (zswap.debugBefore[k] ?? 0);
    // What zswap stored is observed, not judged, on unpatched kernels: whether random pages are
    // kept raw changed between 6.12 and 7.x, and it says nothing about S.
    if (!st.gen.isolate) {
      await ctx.observe({ id: 'spm.observation.zswap_pool', title: 'zswap pool on this unpatched kernel', detail: `pool_total_size +${delta('pool_total_size')}, stored_pages +${delta('stored_pages')}, stored_incompressible_pages +${delta('stored_incompressible_pages')} for ${consumer.swappedOut} random pages swapped out`, check: ROWS.zswapStore.id });
    }
    return {
      swappedOut: consumer.swappedOut,
      spmMemFreeDeltaKiB: freeKiB(zswap.during) - freeKiB(zswap.before),
      storedPagesDelta: delta('stored_pages'),
      incompressibleDelta: delta('stored_incompressible_pages'),
      poolTotalSizeDelta: delta('pool_total_size'),
    };
  }, ['spm']);
  await row('zswapLeak', async (c: CheckApi) => {
    const z = st.zswap;
    c.require('the zswap store check gathered its counters', z !== undefined, 'spm.zswap.store did not run');
    await c.evidence('zswap-node-S-meminfo', z);
    const vm = (k: string): number => (z.vmstatDuring[k] ?? 0) - (z.vmstatBefore[k] ?? 0);
    const [beforeKiB, afterKiB] = [freeKiB(z.before), freeKiB(z.after)];
    st.zswapHeldKiB = beforeKiB - afterKiB;
    return {
      swappedOut: z.swappedOut,
      spmFreeBeforeKiB: beforeKiB,
      spmFreeAfterKiB: afterKiB,
      perCpuFreeAfterKiB: z.after.PerCpuFree ?? 0,
      zswpoutMinusZswpin: vm('zswpout') - vm('zswpin'),
    };
  }, ['spm']);
};

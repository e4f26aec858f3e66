/**
 * Memory steps on the CXL node: zswap (random pages paged out with MADV_PAGEOUT while zswap is
 * on: on SPM kernels the entries land on the SPM node; then swapped back in and verified, or
 * unmapped unread so the kernel invalidates them), the node's 2 MiB hugetlb pool grown within
 * a bound, and its free memory marked and compared (the zswap leak).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { native } from '../../../probe/native.js';
import { readAllNodeMeminfo } from '../../../probe/nodes.js';
import { fills } from '../../../probe/placement.js';
import { modes } from '../../../probe/policy.js';
import { parseKeyValues } from '../../../probe/sysfs.js';
import { NODES, boundedWrite, nodeMemory, read, type RunStep } from '../../cxl/index.js';
import { runCapped, writeAttr, type WriteOutcome } from '../io.js';
import { pick } from '../prng.js';
import { noRegion, type FreeSnapshot, type StepHandlers } from '../state.js';
import { errnoOf, pagesWhere } from '../where.js';

const ZSWAP_ENABLED = '/sys/module/zswap/parameters/enabled';
const STORED_PAGES = '/sys/kernel/debug/zswap/stored_pages';
const SWAP_FILE = '/var/tmp/cxl-repro.swap';

/** The CXL node's free memory: MemFree plus its per-cpu free lists (pages a process just freed wait there, not in MemFree). */
function freeNow(node: number): FreeSnapshot {
  const m = readAllNodeMeminfo()[node] ?? {};
  const vmstat = Object.fromEntries(Object.entries(parseKeyValues(read('/proc/vmstat') ?? '')).filter(([k]) => k === 'zswpout' || k === 'zswpin'));
  const memFreeKiB = m.MemFree ?? 0;
  const perCpuFreeKiB = m.PerCpuFree ?? 0;
  return { node, memFreeKiB, perCpuFreeKiB, freeKiB: memFreeKiB + perCpuFreeKiB, memTotalKiB: m.MemTotal ?? 0, vmstat };
}

export const memorySteps: StepHandlers<'zswap-start' | 'zswap-stop' | 'hugetlb-pool' | 'node-free'> = {
  'zswap-start': (step, st, ctx) => {
    const a = native();
    const sub: ((WriteOutcome & { write: string; value: string }) | RunStep | { swapon: string; errno: number })[] = [
      { write: ZSWAP_ENABLED, value: 'Y', ...writeAttr(ZSWAP_ENABLED, 'Y') },
    ];
    if (!read('/proc/swaps')?.split('\n').slice(1).some(Boolean)) {
      if (!existsSync(SWAP_FILE)) sub.push(runCapped(['fallocate', '-l', `${step.swapMiB ?? 64}M`, SWAP_FILE]), runCapped(['chmod', '600', SWAP_FILE]), runCapped(['mkswap', SWAP_FILE]));
      sub.push({ swapon: SWAP_FILE, errno: a.swapon(SWAP_FILE, 0) });
    }
    const pages = pick(step.pages ?? 512, ctx.rand);
    const m = a.mapPages(pages, 0, '/tmp');
    if (m.errno || !m.map) return { ok: false, code: errnoOf(m.errno), error: 'mmap failed', sub };
    a.mbind(m.map, modes.bind, [0], 0);
    const seed = Math.floor(ctx.rand() * 2 ** 31);
    a.fill(m.map, fills.random, seed);
    const before = nodeMemory(st.node ?? 0);
    const po = a.pageout(m.map);
    const swapped = pagesWhere(a.locate(m.map).status);
    st.zswap = { map: m.map, seed, pages };
    const out = swapped.ENOENT ?? 0; // not resident any more
    return {
      ok: po === 0 && out > 0, ...(out > 0 ? {} : { code: 'NOT_SWAPPED', error: 'no page left memory after MADV_PAGEOUT' }),
      pages, swappedOut: out, spmNodeFreeBefore: before.memFreeKiB, spmNodeFreeAfter: nodeMemory(st.node ?? 0).memFreeKiB, stored: read(STORED_PAGES), sub,
    };
  },

  'zswap-stop': (step, st) => {
    if (!st.zswap) return { ok: false, code: 'NO_ZSWAP', error: 'run zswap-start first' };
    const a = native();
    const storedBefore = read(STORED_PAGES);
    const swapIn = step.swapIn !== false;
    const corrupt = swapIn ? a.verify(st.zswap.map, fills.random, st.zswap.seed) : 0;
    a.unmap(st.zswap.map);
    st.zswap = undefined;
    return {
      ok: corrupt === 0, ...(corrupt ? { code: 'CORRUPT', error: `${corrupt} page(s) came back wrong from zswap` } : {}),
      swappedIn: swapIn, corruptPages: corrupt, storedBefore, stored: read(STORED_PAGES), node: st.node === undefined ? undefined : nodeMemory(st.node),
    };
  },

  // Bounded: on the v2 series growing an SPM node's pool never returns until the writer is killed.
  'hugetlb-pool': (step, st) => {
    if (st.node === undefined) return noRegion('no CXL node: run create-region first');
    const file = join(NODES, `node${st.node}`, 'hugepages', 'hugepages-2048kB', 'nr_hugepages');
    const pages = step.pages ?? 4;
    const timeoutS = step.timeoutS ?? 20;
    const grow = boundedWrite(file, pages, timeoutS);
    const got = Number(read(file) ?? NaN);
    const back = got ? boundedWrite(file, 0, timeoutS) : undefined;
    return {
      ...(grow.ok ? { ok: true } : { ok: false, code: grow.code, error: grow.error ?? `growing the pool of node ${st.node}: ${grow.code}` }),
      node: st.node, asked: pages, got, growMs: grow.ms, timeoutS, ...(back ? { shrink: back } : {}),
    };
  },

  // A mark remembers the node's free memory; a check compares with a mark.
  'node-free': (step, st) => {
    if (st.node === undefined) return noRegion('no CXL node: run create-region first');
    const now = freeNow(st.node);
    if (step.mark !== undefined) {
      st.marks[step.mark] = now;
      return { ok: true, mark: step.mark, ...now };
    }
    const since = step.since ?? '';
    const was = st.marks[since];
    if (!was) return { ok: false, code: 'NO_MARK', error: `no node-free mark "${since}" was made in this guest process` };
    const lossKiB = was.freeKiB - now.freeKiB;
    const max = step.maxLossKiB ?? 256;
    const delta = (k: string): number => (now.vmstat[k] ?? 0) - (was.vmstat[k] ?? 0);
    const zswapNet = delta('zswpout') - delta('zswpin');
    const ok = lossKiB <= max;
    return {
      ok, ...(ok ? {} : { code: 'LEAK', error: `node ${st.node} free ${was.freeKiB} -> ${now.freeKiB} KiB (MemFree + per-cpu lists) since mark "${since}": ${lossKiB} KiB not returned (allowed ${max}); zswpout - zswpin since then = ${zswapNet} pages` }),
      since, before: was, after: now, lossKiB, maxLossKiB: max, zswpoutMinusZswpin: zswapNet,
    };
  },
};

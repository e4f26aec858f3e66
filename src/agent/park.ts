/**
 * The agent's node verbs: park a node's free memory so that a hog fills what is left in
 * seconds, and give it back. Parking takes the node's free memory blocks offline while more
 * than keepFreeMiB stays free, then grows the node's 2 MiB hugetlb pool over the rest.
 *
 * Offlining a free block touches none of its pages; every pool page is zeroed (init_on_alloc)
 * and, on a host that is itself a VM, faulted in there first: 1.7 GiB of pool took 6-7 s
 * under TCG, offlining 1.4 GiB of it 0.8 s. A block that will not go (kernel memory, a pinned
 * page) stays online and the pool covers for it, and so does one still busy after
 * blockTimeoutS (its pages keep failing to migrate: one offline here retried until a 30 s
 * timeout). Offlining recomputes the watermarks for the smaller node (low from 55 to 34 MiB
 * here), which would leave a hog twice as much to fill: min_free_kbytes is put back after it.
 */
import { join } from 'node:path';
import {
  MEMORY, NODES, blockSize, boundedWrite, ls, nodeMemory, offlineBlocksBounded, read, run, setBlocks, write,
  type BlockWrite, type BoundedWrite, type WriteStep,
} from './cxl/index.js';

const MIN_FREE = '/proc/sys/vm/min_free_kbytes';
const DROP_CACHES = '/proc/sys/vm/drop_caches';
const HUGE_KIB = 2048;

export interface ParkOptions {
  node: number;
  /** What stays free: no block goes offline that would leave less, and the pool stops there. */
  keepFreeMiB: number;
  /** A block's offline is killed after this long (default 1 s) and the block stays online. */
  blockTimeoutS?: number;
  /** No further block is tried after this long in all (default 20 s). */
  budgetMs?: number;
  /** How long growing the pool may take (default 20 s). */
  poolTimeoutS?: number;
}

type BlockOffline = ReturnType<typeof offlineBlocksBounded>[number];

export interface ParkResult {
  ok: boolean;
  error?: string;
  node: number;
  /** The blocks this park took offline, in order (unpark finds them again in sysfs). */
  offlined: number[];
  /** Every offline tried, refused ones (EBUSY: kernel memory) and killed ones (TIMEOUT) too. */
  blocks: BlockOffline[];
  dropCaches: WriteStep;
  minFreeKbytes: { was: number; restore: WriteStep };
  /** The hugetlb pool's growth (absent when what stayed free was within one page of keepFreeMiB). */
  pool?: BoundedWrite & { pages: number; got: number };
  memFreeKiB: number;
  memTotalKiB: number;
  ms: number;
}

export interface UnparkOptions {
  node: number;
}

export interface UnparkResult {
  ok: boolean;
  error?: string;
  node: number;
  pool: WriteStep;
  blocks: BlockWrite[];
  memFreeKiB: number;
  memTotalKiB: number;
  ms: number;
}

const poolOf = (node: number): string => join(NODES, `node${node}`, 'hugepages', 'hugepages-2048kB', 'nr_hugepages');

function nodeBlocks(node: number): number[] {
  return ls(join(NODES, `node${node}`)).map((e) => /^memory(\d+)$/.exec(e)?.[1]).filter((b): b is string => b !== undefined).map(Number).sort((a, b) => a - b);
}

export function parkNode({ node, keepFreeMiB, blockTimeoutS = 1, budgetMs = 20_000, poolTimeoutS = 20 }: ParkOptions): ParkResult {
  const t0 = Date.now();
  const keepKiB = keepFreeMiB * 1024;
  // Clean page cache goes first: with it, kswapd could keep the node above its low watermark
  // by evicting cache (and then programs' text) as fast as a hog fills it.
  run(['sync']);
  const dropCaches = write(DROP_CACHES, 3);
  const was = Number(read(MIN_FREE));
  const blockKiB = blockSize() / 1024;
  const blocks: BlockOffline[] = [];
  for (const b of nodeBlocks(node)) {
    if (Date.now() - t0 > budgetMs || !(nodeMemory(node).memFreeKiB - blockKiB > keepKiB)) break;
    blocks.push(...offlineBlocksBounded([b], blockTimeoutS));
  }
  const restore = write(MIN_FREE, was);
  const free = nodeMemory(node).memFreeKiB;
  const pages = Math.floor((free - keepKiB) / HUGE_KIB);
  const grow = pages > 0 ? boundedWrite(poolOf(node), pages, poolTimeoutS) : undefined;
  const pool = grow && { ...grow, pages, got: Number(read(poolOf(node)) ?? NaN) };
  const after = nodeMemory(node);
  const failed = !dropCaches.ok ? `dropping caches: ${dropCaches.code}` : !restore.ok ? `restoring min_free_kbytes to ${was}: ${restore.code}` : pool && !pool.ok ? `growing node ${node}'s hugetlb pool to ${pages} pages: ${pool.code}` : undefined;
  return {
    ok: !failed, ...(failed ? { error: failed } : {}), node,
    offlined: blocks.filter((b) => b.ok).map((b) => b.block), blocks, dropCaches, minFreeKbytes: { was, restore }, ...(pool ? { pool } : {}),
    memFreeKiB: after.memFreeKiB, memTotalKiB: after.memTotalKiB, ms: Date.now() - t0,
  };
}

/**
 * Give a node back from what the guest shows, never from a park's answer (one that may not have
 * arrived: the agent killed or restarted in the middle of it): its pool emptied, every memory
 * block of it that is offline onlined again. A node's boot memory has no offline block but a
 * park's.
 */
export function unparkNode({ node }: UnparkOptions): UnparkResult {
  const t0 = Date.now();
  const pool = write(poolOf(node), 0);
  const offline = nodeBlocks(node).filter((b) => read(join(MEMORY, `memory${b}`, 'state')) === 'offline');
  const blocks = setBlocks(offline, 'online', 'forward');
  const refused = blocks.filter((b) => !b.ok);
  const failed = !pool.ok ? `emptying node ${node}'s hugetlb pool: ${pool.code}` : refused.length ? `memory${refused.map((b) => b.block).join(', memory')} refused online: ${refused[0]!.code}` : undefined;
  const after = nodeMemory(node);
  return { ok: !failed, ...(failed ? { error: failed } : {}), node, pool, blocks, memFreeKiB: after.memFreeKiB, memTotalKiB: after.memTotalKiB, ms: Date.now() - t0 };
}

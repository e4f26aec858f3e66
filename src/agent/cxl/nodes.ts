/** A NUMA node's memory as sysfs shows it: its totals, its memory blocks and their states. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseNodeList } from '../../probe/nodelist.js';
import { NODES, ls, read } from './io.js';

export interface NodeMemory { node: number; memTotalKiB: number; memFreeKiB: number; hasMemory: boolean }

export interface NodeFacts {
  node: number;
  exists: boolean;
  memTotalKiB: number | null;
  memFreeKiB: number | null;
  blocks: number;
  onlineBlocks: number;
  zones: (string | undefined)[];
  hasMemory: boolean;
}

/** A node's memory, briefly: totals and whether it is in has_memory. */
export function nodeMemory(node: number): NodeMemory {
  const meminfo = read(join(NODES, `node${node}`, 'meminfo')) ?? '';
  const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(meminfo)?.[1] ?? NaN);
  return { node, memTotalKiB: kb('MemTotal'), memFreeKiB: kb('MemFree'), hasMemory: parseNodeList(read(join(NODES, 'has_memory')) ?? '').includes(node) };
}

/** A node's memory in full: also its blocks, their states and zones. (NaN totals become null in JSON.) */
export function nodeFacts(node: number): NodeFacts {
  const dir = join(NODES, `node${node}`);
  const m = nodeMemory(node);
  const blocks = ls(dir).filter((e) => /^memory\d+$/.test(e));
  const states = blocks.map((b) => read(join(dir, b, 'state')));
  return {
    node,
    exists: existsSync(dir),
    memTotalKiB: Number.isNaN(m.memTotalKiB) ? null : m.memTotalKiB,
    memFreeKiB: Number.isNaN(m.memFreeKiB) ? null : m.memFreeKiB,
    blocks: blocks.length,
    onlineBlocks: states.filter((s) => s === 'online').length,
    zones: [...new Set(blocks.map((b) => read(join(dir, b, 'valid_zones'))))],
    hasMemory: m.hasMemory,
  };
}

/** A node is empty once it is out of has_memory and has no MemTotal. */
export function nodeEmpty(facts: NodeFacts | undefined): boolean {
  return !facts || (!facts.hasMemory && !((facts.memTotalKiB ?? 0) > 0));
}

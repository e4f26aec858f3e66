/**
 * Node facts, read from sysfs and procfs: which nodes exist and hold memory or CPUs, every
 * has_* state file the kernel offers (later SPM generations add has_private_memory,
 * has_public_memory, has_user_memory), per-node meminfo, memory tiers and demotion state.
 */
import { outcome, type ErrnoOutcome } from './errno.js';
import { parseNodeList } from './nodelist.js';
import { listDir, parseKeyValues, parseMeminfo, readText, readTrimmed } from './sysfs.js';

const nodeRoot = '/sys/devices/system/node';
const tierRoot = '/sys/devices/virtual/memory_tiering';

export interface NodeInfo {
  id: number;
  /** nodeN/meminfo, parsed: values in kB (HugePages_* are counts). */
  meminfo: Record<string, number>;
  cpus: number[];
  /** nodeN/distance: distance to node i at index i of the possible list order. */
  distance: number[];
}

export interface NodesResult extends ErrnoOutcome {
  probe: 'nodes';
  possible: number[];
  online: number[];
  /** Every has_* file, by its name without the prefix: memory, cpu, normal_memory, ... */
  has: Record<string, number[]>;
  nodes: NodeInfo[];
  /** memory_tierN/nodelist, by tier id. */
  memoryTiers: Array<{ tier: number; nodes: number[] }>;
  /** /sys/kernel/mm/numa/demotion_enabled; null when the file is absent. */
  demotionEnabled: boolean | null;
  /** Every pgdemote_* and pgpromote_* counter of /proc/vmstat. */
  demotionCounters: Record<string, number>;
}

function nodeList(path: string): number[] {
  const text = readTrimmed(path);
  return text === undefined ? [] : parseNodeList(text);
}

export function readNodeMeminfo(id: number): Record<string, number> {
  const r = readText(`${nodeRoot}/node${id}/meminfo`);
  return r.ok ? parseMeminfo(r.value) : {};
}

/**
 * Pages sitting on the per-cpu free lists, per node, in kB, from /proc/zoneinfo's `pagesets`
 * (`cpu: N` then `count: C` per zone). MemFree does not count them: after a process frees
 * pages, hundreds can wait there, and a node looks as if it still held them.
 */
export function parsePerCpuFreeKiB(zoneinfo: string, pageSizeKiB = 4): Record<string, number> {
  const out: Record<string, number> = {};
  let node: string | undefined;
  let inCpu = false;
  for (const line of zoneinfo.split('\n')) {
    const zone = /^Node (\d+), zone/.exec(line);
    if (zone) {
      node = zone[1]!;
      out[node] ??= 0;
      inCpu = false;
      continue;
    }
    if (/^\s+cpu: \d+/.test(line)) inCpu = true;
    const count = inCpu ? /^\s+count:\s+(\d+)/.exec(line) : null;
    if (count && node !== undefined) {
      out[node] = (out[node] ?? 0) + Number(count[1]) * pageSizeKiB;
      inCpu = false;
    }
  }
  return out;
}

/**
 * Every online node's meminfo, keyed by node id (used before/after other probes), with one
 * key the kernel's file lacks: `PerCpuFree`, the kB on its per-cpu free lists (parsePerCpuFreeKiB).
 */
export function readAllNodeMeminfo(): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  const zoneinfo = readText('/proc/zoneinfo');
  const perCpu = zoneinfo.ok ? parsePerCpuFreeKiB(zoneinfo.value) : {};
  for (const id of nodeList(`${nodeRoot}/online`)) out[id] = { ...readNodeMeminfo(id), ...(perCpu[id] !== undefined ? { PerCpuFree: perCpu[id]! } : {}) };
  return out;
}

export function nodesProbe(): NodesResult {
  const possibleText = readText(`${nodeRoot}/possible`);
  if (!possibleText.ok) {
    return {
      probe: 'nodes', ...possibleText, possible: [], online: [], has: {}, nodes: [], memoryTiers: [],
      demotionEnabled: null, demotionCounters: {},
    };
  }
  const has: Record<string, number[]> = {};
  for (const file of listDir(nodeRoot).filter((f) => f.startsWith('has_'))) {
    has[file.slice('has_'.length)] = nodeList(`${nodeRoot}/${file}`);
  }
  const online = nodeList(`${nodeRoot}/online`);
  const nodes = online.map((id) => ({
    id,
    meminfo: readNodeMeminfo(id),
    cpus: nodeList(`${nodeRoot}/node${id}/cpulist`),
    distance: (readTrimmed(`${nodeRoot}/node${id}/distance`) ?? '').split(/\s+/).filter(Boolean).map(Number),
  }));
  const memoryTiers = listDir(tierRoot)
    .map((d) => /^memory_tier(\d+)$/.exec(d))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ tier: Number(m[1]), nodes: nodeList(`${tierRoot}/${m[0]}/nodelist`) }))
    .sort((a, b) => a.tier - b.tier);
  const demotion = readTrimmed('/sys/kernel/mm/numa/demotion_enabled');
  const vmstat = readText('/proc/vmstat');
  const demotionCounters = Object.fromEntries(
    Object.entries(vmstat.ok ? parseKeyValues(vmstat.value) : {}).filter(([k]) => /^pg(demote|promote)_/.test(k)),
  );
  return {
    probe: 'nodes', ...outcome(0),
    possible: parseNodeList(possibleText.value), online, has, nodes, memoryTiers,
    demotionEnabled: demotion === undefined ? null : demotion === 'true' || demotion === '1',
    demotionCounters,
  };
}

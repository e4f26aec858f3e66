/**
 * The CXL topology as the guest's sysfs shows it: root decoders (windows), memdevs and their
 * endpoint decoders, which memdevs a region on a window takes (in the position order
 * contract/region-position.ts gives), and what a region's dax device covers.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pickRegion } from '../../contract/region-position.js';
import { CXL, DAX, MEMORY, ls, read } from './io.js';

export function rootDecoders(): string[] {
  return ls(CXL).filter((d) => /^decoder0\.\d+$/.test(d)).sort();
}

export function memdevs(): string[] {
  return ls(CXL).filter((d) => /^mem\d+$/.test(d));
}

const belowCache = new Map<string, string[]>();
/** Memdevs a root decoder can reach (through `cxl list -M -d`, which walks the hierarchy); fixed for a boot, so cached. */
export function memdevsBelow(decoder: string): string[] {
  let list = belowCache.get(decoder);
  if (!list) {
    list = [];
    try {
      const out = execFileSync('cxl', ['list', '-M', '-d', decoder], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      list = (JSON.parse(out || '[]') as { memdev: string }[]).map((m) => m.memdev);
    } catch {
      // none below it
    }
    belowCache.set(decoder, list);
  }
  return list;
}

export function endpointOf(memdev: string): string | undefined {
  for (const e of ls(CXL).filter((d) => /^endpoint\d+$/.test(d))) {
    try {
      if (basename(realpathSync(join(CXL, e, 'uport'))) === memdev) return e;
    } catch {
      // not this one
    }
  }
  return undefined;
}

export function endpointDecoders(memdev: string): string[] {
  const ep = endpointOf(memdev);
  return ep ? ls(CXL).filter((d) => d.startsWith(`decoder${ep.slice(8)}.`)).sort() : [];
}

/** A memdev is free when none of its endpoint decoders holds capacity yet. */
export function memdevFree(memdev: string): boolean {
  const decs = endpointDecoders(memdev);
  return decs.length > 0 && decs.every((d) => Number(read(join(CXL, d, 'dpa_size')) ?? 0) === 0);
}

export interface RootGeometry { ways: number; granularity: number; targets: string[]; dports: (string | undefined)[] }

/**
 * A root decoder's interleave: its ways, its granularity, its targets (target_list: host
 * bridge port ids) and their sysfs paths (root0/dportN links), both in position order.
 */
export function rootGeometry(decoder: string): RootGeometry {
  const real = (p: string): string | undefined => {
    try {
      return realpathSync(p);
    } catch {
      return undefined;
    }
  };
  const root = dirname(real(join(CXL, decoder)) ?? '');
  const ids = (read(join(CXL, decoder, 'target_list')) ?? '').split(',').filter(Boolean);
  return {
    ways: Number(read(join(CXL, decoder, 'interleave_ways'))) || 1,
    granularity: Number(read(join(CXL, decoder, 'interleave_granularity'))) || 256,
    targets: ids,
    dports: ids.map((id) => real(join(root, `dport${id}`))),
  };
}

/**
 * The free volatile memdevs below a root decoder, the way pickRegion wants them: per host
 * bridge (target_list order), per root port (bus order), the memdevs below it in bus order
 * (one on the port, or one per downstream port of a switch). A bridge whose dport is unknown
 * has none.
 */
function memdevTree(decoder: string): string[][][] {
  const { ways, dports } = rootGeometry(decoder);
  // Ram regions take volatile capacity: a persistent-only memdev is no target.
  const free = memdevsBelow(decoder).filter((m) => memdevFree(m) && Number(read(join(CXL, m, 'ram', 'size')) ?? 0) > 0).flatMap((m): [string, string][] => {
    try {
      return [[m, realpathSync(join(CXL, m))]];
    } catch {
      return [];
    }
  }).sort(([, a], [, b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Array.from({ length: ways }, (_, pos) => {
    const hb = dports[pos];
    const ports = new Map<string, string[]>();
    for (const [m, path] of free) {
      if (hb === undefined || !path.startsWith(`${hb}/`)) continue;
      const port = path.slice(hb.length + 1).split('/')[0]!;
      ports.set(port, [...(ports.get(port) ?? []), m]);
    }
    return [...ports.keys()].sort().map((port) => ports.get(port)!);
  });
}

/**
 * Free memdevs for a region on a root decoder, in the position order the decoders require,
 * using every free device the window reaches (pickRegion: the root decoder interleaves across
 * its host bridges, each bridge across its root ports, each switch across its downstream
 * ports). Tries every root decoder unless one is named; a named memdev must be among the
 * targets. memdevs is empty when none fits.
 */
export function pickTargets({ decoder, memdev }: { decoder?: string; memdev?: string } = {}): { decoder?: string; memdevs: string[] } {
  for (const d of decoder ? [decoder] : rootDecoders()) {
    const memdevs = pickRegion(memdevTree(d), memdev === undefined ? undefined : (m) => m === memdev);
    if (memdevs.length > 0) return { decoder: d, memdevs };
  }
  return { ...(decoder ? { decoder } : {}), memdevs: [] };
}

/**
 * What the versions of the series add to CXL regions and dax devices to set a node apart (v1
 * protected_memory, v2 spm_node, v3 private_type, and a region's mode, "private" on v3): those
 * a device has, with their values.
 */
export const ISOLATION_ATTRS = ['mode', 'spm_node', 'protected_memory', 'private_type'] as const;

export function isolationAttrs(dir: string): Record<string, string> {
  return Object.fromEntries(ISOLATION_ATTRS.flatMap((a) => {
    const v = read(join(dir, a));
    return v === undefined ? [] : [[a, v]];
  }));
}

export function daxOfRegion(region: string): string | undefined {
  const dr = ls(join(CXL, region)).find((e) => e.startsWith('dax_region'));
  return dr ? ls(join(CXL, region, dr)).find((e) => /^dax\d+\.\d+$/.test(e)) : undefined;
}

/**
 * The memory blocks a dax device's range covers whole, [first, end): kmem adds only whole blocks,
 * and a range that does not start on one (a pmem namespace's dax device starts past its
 * metadata) has fewer than size / block size.
 */
export function daxBlockRange(dax: string, bs: number): { first: number; end: number } {
  const start = Number(BigInt(read(join(DAX, dax, 'resource')) ?? '0'));
  const size = Number(read(join(DAX, dax, 'size')) ?? 0);
  if (!bs || !size) return { first: 0, end: 0 };
  return { first: Math.ceil(start / bs), end: Math.floor((start + size) / bs) };
}

/** Those of a dax device's blocks that exist, i.e. were added. */
export function blocksOfDax(dax: string, bs: number, range = daxBlockRange(dax, bs)): number[] {
  const out: number[] = [];
  for (let b = range.first; b < range.end; b++) {
    if (existsSync(join(MEMORY, `memory${b}`))) out.push(b);
  }
  return out;
}

export function blockStates(blocks: number[]): (string | undefined)[] {
  return blocks.map((b) => read(join(MEMORY, `memory${b}`, 'state')));
}

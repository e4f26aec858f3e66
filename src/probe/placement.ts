/**
 * Placement probes: map pages, fault them (optionally under a task policy or an mbind), count
 * them per node, and move them (move_pages, migrate_pages). Each touches memory that may sit
 * on a slow, refused or empty node, so they run in a probe child (see isolate.ts).
 */
import { readText } from './sysfs.js';
import { errnoName, firstFailure, outcome, type ErrnoOutcome } from './errno.js';
import { native, type MapHandle } from './native.js';
import {
  describeMode, flagBits, getFlags, modeAndFlags, moveFlags,
  type Mode, type ModeFlagName, type MoveFlagName,
} from './policy.js';

export type Backing = 'anon' | 'shmem' | 'file';
export type Fill = 'zero' | 'pattern' | 'random';
const backings: Record<Backing, number> = { anon: 0, shmem: 1, file: 2 };
export const fills: Record<Fill, number> = { zero: 0, pattern: 1, random: 2 };

export interface MappingArgs {
  pages: number;
  backing: Backing;
  dir: string;
  fill: Fill;
  seed: number;
  policy?: Mode;
  policyFlags?: ModeFlagName[];
  policyNodes?: number[];
  mbind?: Mode;
  mbindFlags?: ModeFlagName[];
  mbindNodes?: number[];
  mbindMove?: MoveFlagName[];
  mbindAfterFill?: boolean;
  stopOnNode?: number;
}

/**
 * Where pages are, from a move_pages status array: pages per node (keys are node numbers)
 * and pages per per-page error (keys are errno names; ENOENT = not faulted in).
 */
export interface PageCounts {
  nodes: Record<string, number>;
  errors: Record<string, number>;
}

export interface PlacementResult extends ErrnoOutcome {
  probe: string;
  pages: number;
  pageSize: number;
  backing: Backing;
  fill: Fill;
  map: ErrnoOutcome;
  /** mbind, and the VMA policy get_mempolicy(MPOL_F_ADDR) reads back after it. */
  mbind?: ErrnoOutcome & { readback: ErrnoOutcome & { mode: Mode; flags: ModeFlagName[]; nodes: number[] } };
  /** set_mempolicy for the faults (restored right after). */
  policy?: ErrnoOutcome;
  /** move_pages(nodes=NULL) after faulting; with stopOnNode, of the `filled` pages written. */
  placed?: PageCounts & ErrnoOutcome;
  /** The same question through get_mempolicy(MPOL_F_NODE|MPOL_F_ADDR), page by page. */
  placedByGetMempolicy?: PageCounts;
  /** Pages whose contents differ from what was written (0 unless memory was corrupted). */
  corruptPages?: number;
  /** With stopOnNode: the pages faulted before one landed on that node (all of them: none did). */
  filled?: number;
}

export interface MovePagesResult extends PlacementResult {
  probe: 'move-pages';
  move?: ErrnoOutcome & { to: number; status: number[]; counts: PageCounts };
  after?: PageCounts & ErrnoOutcome;
}

export interface MigratePagesResult extends PlacementResult {
  probe: 'migrate-pages';
  migrate?: ErrnoOutcome & { from: number[]; to: number[]; notMigrated: number };
  after?: PageCounts & ErrnoOutcome;
}

export function countStatus(status: readonly number[]): PageCounts {
  const counts: PageCounts = { nodes: {}, errors: {} };
  for (const s of status) {
    const table = s >= 0 ? counts.nodes : counts.errors;
    const key = s >= 0 ? String(s) : errnoName(-s);
    table[key] = (table[key] ?? 0) + 1;
  }
  return counts;
}

function locate(map: MapHandle, pages?: number): PageCounts & ErrnoOutcome {
  const r = native().locate(map, pages);
  return { ...outcome(r.errno), ...countStatus(r.status) };
}

function locateByGetMempolicy(map: MapHandle, pages: number): PageCounts {
  const status: number[] = [];
  for (let i = 0; i < pages; i++) {
    const r = native().getMempolicy(getFlags.node | getFlags.addr, map, i);
    status.push(r.errno === 0 ? r.mode : -r.errno);
  }
  return countStatus(status);
}

function applyMbind(map: MapHandle, args: MappingArgs): NonNullable<PlacementResult['mbind']> {
  const addon = native();
  const mode = modeAndFlags(args.mbind!, args.mbindFlags);
  const err = addon.mbind(map, mode, args.mbindNodes ?? [], flagBits(moveFlags, args.mbindMove ?? []));
  const r = addon.getMempolicy(getFlags.addr, map, 0);
  return { ...outcome(err), readback: { ...outcome(r.errno), ...describeMode(r.mode), nodes: r.nodes } };
}

/**
 * Map, fault and locate; `then` runs on the live mapping (moves) before it is unmapped.
 * Steps after a failed step are skipped, and the first failure is the probe's outcome.
 */
export function withPlacement<R extends PlacementResult>(
  probe: R['probe'],
  args: MappingArgs,
  then: (map: MapHandle, base: PlacementResult) => Partial<R> = () => ({}),
): R {
  const addon = native();
  const mapped = addon.mapPages(args.pages, backings[args.backing], args.dir);
  const base: PlacementResult = {
    probe, ...outcome(0), pages: args.pages, pageSize: mapped.pageSize, backing: args.backing, fill: args.fill,
    map: outcome(mapped.errno),
  };
  const map = mapped.map;
  if (!map) return { ...base, ...base.map } as R;
  try {
    if (args.mbind !== undefined && !args.mbindAfterFill) base.mbind = applyMbind(map, args);
    if (!base.mbind || base.mbind.ok) {
      if (args.stopOnNode !== undefined) {
        // Checked every 16 pages: one get_mempolicy per 64 KiB costs little next to the faults.
        base.filled = addon.fillUntilNode(map, fills[args.fill], args.seed, args.stopOnNode, 16);
      } else if (args.policy !== undefined) {
        const mode = modeAndFlags(args.policy, args.policyFlags);
        base.policy = outcome(addon.fill(map, fills[args.fill], args.seed, mode, args.policyNodes ?? []));
      } else {
        addon.fill(map, fills[args.fill], args.seed);
      }
    }
    if (args.mbind !== undefined && args.mbindAfterFill) base.mbind = applyMbind(map, args);
    // A stopped hog wrote only its first `filled` pages: asking about the rest (often 97% of
    // the mapping) would only count them not present, at 30 s for half a million under TCG.
    base.placed = locate(map, base.filled);
    // get_mempolicy(MPOL_F_ADDR) faults a page in: never ask it about pages a stopped hog left untouched.
    if (args.stopOnNode === undefined) base.placedByGetMempolicy = locateByGetMempolicy(map, args.pages);
    const extra = then(map, base);
    if (args.stopOnNode === undefined) base.corruptPages = addon.verify(map, fills[args.fill], args.seed);
    const result = { ...base, ...extra } as R;
    return { ...result, ...firstFailure([base.map, base.mbind, base.policy, base.placed, ...stepsOf(extra)]) };
  } finally {
    addon.unmap(map);
  }
}

function stepsOf(extra: object): ErrnoOutcome[] {
  return Object.values(extra).filter((v): v is ErrnoOutcome => typeof v === 'object' && v !== null && 'errno' in v);
}

export function placeProbe(args: MappingArgs): PlacementResult {
  return withPlacement<PlacementResult>('place', args);
}

export function movePagesProbe(args: MappingArgs & { to: number; moveAll?: boolean }): MovePagesResult {
  return withPlacement<MovePagesResult>('move-pages', args, (map, base) => {
    if (!base.placed?.ok) return {};
    const r = native().move(map, args.to, args.moveAll ? moveFlags['move-all'] : moveFlags.move);
    return {
      move: { ...outcome(r.errno), to: args.to, status: r.status, counts: countStatus(r.status) },
      after: locate(map),
    };
  });
}

export function migratePagesProbe(args: MappingArgs & { from: number[]; to: number[] }): MigratePagesResult {
  return withPlacement<MigratePagesResult>('migrate-pages', args, (map, base) => {
    if (!base.placed?.ok) return {};
    const r = native().migrate(0, args.from, args.to);
    return {
      migrate: { ...outcome(r.errno), from: args.from, to: args.to, notMigrated: r.notMigrated },
      after: locate(map),
    };
  });
}

export interface MigratePidResult extends ErrnoOutcome {
  probe: 'migrate-pid';
  pid: number;
  from: number[];
  to: number[];
  /** Pages the kernel could not move (migrate_pages' positive return). */
  notMigrated: number;
  /** Anonymous pages of the target per node, from /proc/PID/numa_maps. */
  anonBefore: Record<string, number>;
  anonAfter: Record<string, number>;
}

/** Sum the N<node>=<pages> fields of the anonymous mappings in a numa_maps text. */
export function anonPagesPerNode(numaMaps: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of numaMaps.split('\n')) {
    if (!/\banon=/.test(line)) continue;
    for (const m of line.matchAll(/\bN(\d+)=(\d+)/g)) counts[m[1]!] = (counts[m[1]!] ?? 0) + Number(m[2]);
  }
  return counts;
}

export function migratePidProbe(args: { pid: number; from: number[]; to: number[] }): MigratePidResult {
  const maps = (): Record<string, number> => {
    const r = readText(`/proc/${args.pid}/numa_maps`);
    return r.ok ? anonPagesPerNode(r.value) : {};
  };
  const anonBefore = maps();
  const r = native().migrate(args.pid, args.from, args.to);
  return { probe: 'migrate-pid', ...outcome(r.errno), pid: args.pid, from: args.from, to: args.to, notMigrated: r.notMigrated, anonBefore, anonAfter: maps() };
}

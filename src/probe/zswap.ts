/**
 * The zswap probe. The parent configures zswap, makes sure swap exists, snapshots every
 * counter (debugfs zswap/*, /proc/meminfo Zswap/Zswapped, vmstat zswp*, each node's meminfo),
 * runs a consumer child that pushes random pages through swap, and snapshots again after the
 * consumer exited, which is when SPM v2 leaks (the SPM node's MemFree does not come back).
 */
import { existsSync, mkdirSync, openSync, closeSync, writeSync, rmSync, rmdirSync, chmodSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { firstFailure, outcome, outcomeOfError, type ErrnoOutcome } from './errno.js';
import { findCgroup2Root } from './cpuset.js';
import { isProbeFailure, runIsolated, type ProbeFailure } from './isolate.js';
import { native } from './native.js';
import { readAllNodeMeminfo } from './nodes.js';
import { countStatus, fills, type Fill, type PageCounts } from './placement.js';
import { listDir, parseKeyValues, parseMeminfo, readText, readTrimmed, writeText } from './sysfs.js';

const params = '/sys/module/zswap/parameters';
const debugfs = '/sys/kernel/debug';

export interface ZswapArgs {
  enable: boolean;
  compressor?: string;
  maxPoolPercent?: number;
  swap: 'auto' | 'zram' | 'file' | 'none';
  swapMiB: number;
  swapFile: string;
  pages: number;
  fill: Fill;
  pressure: 'pageout' | 'reclaim';
  swapIn: boolean;
  keepSwap: boolean;
  timeoutMs: number;
}

/** Every counter the zswap checks compare, at one moment. */
export interface ZswapSnapshot {
  /** /proc/meminfo Zswap, Zswapped, SwapTotal, SwapFree (kB). */
  meminfo: Record<string, number>;
  /** /proc/vmstat zswpout, zswpin, zswpwb. */
  vmstat: Record<string, number>;
  /** /sys/kernel/debug/zswap/*: stored_pages, pool_total_size, stored_incompressible_pages... */
  debugfs: Record<string, number>;
  /** nodeN/meminfo of every online node. */
  nodes: Record<string, Record<string, number>>;
  /** memory.zswap.current of the consumer's memcg, when it has one. */
  memcgZswapCurrent?: number;
}

export interface SwapSetup extends ErrnoOutcome {
  kind: 'zram' | 'file';
  path: string;
}

export interface ZswapConsumerResult extends ErrnoOutcome {
  probe: 'zswap-consumer';
  placed: PageCounts & ErrnoOutcome;
  pressure: ErrnoOutcome & { method: 'pageout' | 'reclaim' };
  /** Pages no longer resident after the pressure (move_pages says ENOENT: swapped out). */
  swappedOut: number;
  during: ZswapSnapshot;
  /** Pages whose contents differ after swap-in: memory corruption when non-zero. */
  corruptPages?: number;
  afterSwapIn?: PageCounts & ErrnoOutcome;
}

export interface ZswapResult extends ErrnoOutcome {
  probe: 'zswap';
  /** Writes to /sys/module/zswap/parameters, by file name. */
  config: Record<string, ErrnoOutcome & { value: string }>;
  /** Every zswap parameter after configuration. */
  parameters: Record<string, string>;
  debugfsMount?: ErrnoOutcome;
  /** Active swap devices (/proc/swaps) before the probe set anything up. */
  swapsBefore: string[];
  swapSetup?: SwapSetup;
  memcg?: ErrnoOutcome & { path: string };
  memcgRemove?: ErrnoOutcome;
  before: ZswapSnapshot;
  /** Absent when the memcg it needed could not be set up. */
  consumer?: ZswapConsumerResult | ProbeFailure;
  /** After the consumer exited (its zswap entries invalidated). */
  after: ZswapSnapshot;
  swapTeardown?: ErrnoOutcome;
}

function pick(record: Record<string, number>, keys: readonly string[]): Record<string, number> {
  return Object.fromEntries(keys.filter((k) => k in record).map((k) => [k, record[k]!]));
}

export function zswapSnapshot(memcg?: string): ZswapSnapshot {
  const meminfo = readText('/proc/meminfo');
  const vmstat = readText('/proc/vmstat');
  const counters: Record<string, number> = {};
  for (const name of listDir(join(debugfs, 'zswap'))) {
    const value = readTrimmed(join(debugfs, 'zswap', name));
    if (value !== undefined && /^-?\d+$/.test(value)) counters[name] = Number(value);
  }
  const snapshot: ZswapSnapshot = {
    meminfo: meminfo.ok ? pick(parseMeminfo(meminfo.value), ['Zswap', 'Zswapped', 'SwapTotal', 'SwapFree']) : {},
    vmstat: vmstat.ok ? pick(parseKeyValues(vmstat.value), ['zswpout', 'zswpin', 'zswpwb']) : {},
    debugfs: counters,
    nodes: readAllNodeMeminfo(),
  };
  const current = memcg ? readTrimmed(join(memcg, 'memory.zswap.current')) : undefined;
  if (current !== undefined) snapshot.memcgZswapCurrent = Number(current);
  return snapshot;
}

function activeSwaps(): string[] {
  const r = readText('/proc/swaps');
  return r.ok ? r.value.trim().split('\n').slice(1).map((l) => l.split(/\s+/)[0]!).filter(Boolean) : [];
}

/** A version-1 swap header (what mkswap writes), so the guest needs no util-linux. */
function swapHeader(pageSize: number, bytes: number): Buffer {
  const header = Buffer.alloc(pageSize);
  header.writeUInt32LE(1, 1024); // version
  header.writeUInt32LE(Math.floor(bytes / pageSize) - 1, 1028); // last_page
  header.writeUInt32LE(0, 1032); // nr_badpages
  randomBytes(16).copy(header, 1036); // uuid
  header.write('SWAPSPACE2', pageSize - 10, 'latin1');
  return header;
}

function writeSwapArea(path: string, bytes: number, pageSize: number, zeroFill: boolean): ErrnoOutcome {
  let fd: number | undefined;
  try {
    fd = openSync(path, zeroFill ? 'w' : 'r+', 0o600);
    // A swap file must have no holes, so every block is written, not truncated into existence.
    if (zeroFill) {
      const chunk = Buffer.alloc(1 << 20);
      for (let done = 0; done < bytes; done += chunk.length) writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - done), done);
    }
    writeSync(fd, swapHeader(pageSize, bytes), 0, pageSize, 0);
    return outcome(0);
  } catch (error) {
    return outcomeOfError(error);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function pageSize(): number {
  const probe = native().mapPages(1, 0, '/');
  if (probe.map) native().unmap(probe.map);
  return probe.pageSize;
}

/** zram through sysfs (hot_add, disksize), the path that works where zramctl does not. */
function setupZram(bytes: number): SwapSetup {
  let device = existsSync('/sys/block/zram0') && readTrimmed('/sys/block/zram0/disksize') === '0' ? '0' : undefined;
  if (device === undefined) {
    const added = readText('/sys/class/zram-control/hot_add');
    if (!added.ok) return { ...added, kind: 'zram', path: '/dev/zram?' };
    device = added.value.trim();
  }
  const path = `/dev/zram${device}`;
  const sized = writeText(`/sys/block/zram${device}/disksize`, String(bytes));
  if (!sized.ok) return { ...sized, kind: 'zram', path };
  const formatted = writeSwapArea(path, bytes, pageSize(), false);
  if (!formatted.ok) return { ...formatted, kind: 'zram', path };
  return { ...outcome(native().swapon(path, 0)), kind: 'zram', path };
}

function setupSwapFile(path: string, bytes: number): SwapSetup {
  const written = writeSwapArea(path, bytes, pageSize(), true);
  if (!written.ok) return { ...written, kind: 'file', path };
  chmodSync(path, 0o600);
  return { ...outcome(native().swapon(path, 0)), kind: 'file', path };
}

function configure(args: ZswapArgs): ZswapResult['config'] {
  const writes: Array<[string, string | undefined]> = [
    ['enabled', args.enable ? 'Y' : undefined],
    ['compressor', args.compressor],
    ['max_pool_percent', args.maxPoolPercent === undefined ? undefined : String(args.maxPoolPercent)],
  ];
  const config: ZswapResult['config'] = {};
  for (const [file, value] of writes) {
    if (value !== undefined) config[file] = { ...writeText(join(params, file), value), value };
  }
  return config;
}

/** A child memcg of the cgroup v2 root with the memory controller on, for memory.reclaim. */
function createMemcg(): ErrnoOutcome & { path: string } {
  const root = findCgroup2Root();
  if (root === null) return { ...outcome(2 /* ENOENT */), path: '' };
  const path = join(root, 'cxl-probe-zswap');
  const enabled = writeText(join(root, 'cgroup.subtree_control'), '+memory');
  if (!enabled.ok) return { ...enabled, path };
  try {
    mkdirSync(path);
  } catch (error) {
    const r = outcomeOfError(error);
    if (r.code !== 'EEXIST') return { ...r, path };
  }
  return { ...outcome(0), path };
}

export async function zswapProbe(args: ZswapArgs): Promise<ZswapResult> {
  const config = configure(args);
  const parameters = Object.fromEntries(listDir(params).map((f) => [f, readTrimmed(join(params, f)) ?? '']));
  let debugfsMount: ErrnoOutcome | undefined;
  if (!existsSync(join(debugfs, 'zswap')) && listDir(debugfs).length === 0) debugfsMount = outcome(native().mountDebugfs(debugfs));
  const swapsBefore = activeSwaps();
  let swapSetup: SwapSetup | undefined;
  if (swapsBefore.length === 0 && args.swap !== 'none') {
    const bytes = args.swapMiB << 20;
    const zram = existsSync('/sys/class/zram-control') || existsSync('/sys/block/zram0');
    swapSetup = args.swap === 'zram' || (args.swap === 'auto' && zram) ? setupZram(bytes) : setupSwapFile(args.swapFile, bytes);
  }
  const memcg = args.pressure === 'reclaim' ? createMemcg() : undefined;
  const before = zswapSnapshot(memcg?.path);
  const consumer =
    memcg && !memcg.ok
      ? undefined
      : await runIsolated<ZswapConsumerResult>(
          'zswap-consumer',
          { pages: args.pages, fill: args.fill, pressure: args.pressure, swapIn: args.swapIn, memcg: memcg?.path },
          { timeoutMs: args.timeoutMs, ...(memcg ? { cgroup: memcg.path } : {}) },
        );
  const after = zswapSnapshot(memcg?.path);
  let memcgRemove: ErrnoOutcome | undefined;
  if (memcg?.ok) {
    try {
      rmdirSync(memcg.path);
      memcgRemove = outcome(0);
    } catch (error) {
      memcgRemove = outcomeOfError(error);
    }
  }
  let swapTeardown: ErrnoOutcome | undefined;
  if (swapSetup?.ok && !args.keepSwap) {
    swapTeardown = outcome(native().swapoff(swapSetup.path));
    if (swapTeardown.ok && swapSetup.kind === 'file') rmSync(swapSetup.path, { force: true });
    // reset frees the zram device's memory; the device itself stays for the next probe.
    if (swapTeardown.ok && swapSetup.kind === 'zram') swapTeardown = writeText(`/sys/block/${swapSetup.path.slice('/dev/'.length)}/reset`, '1');
  }
  // A dead consumer has no errno; its code (SIGNALED, TIMED_OUT...) says what happened.
  const consumerOutcome = isProbeFailure(consumer) ? { ok: false, errno: 0, code: consumer.code } : consumer;
  return {
    probe: 'zswap',
    ...firstFailure([...Object.values(config), debugfsMount, swapSetup, memcg, consumerOutcome, memcgRemove, swapTeardown]),
    config, parameters, ...(debugfsMount ? { debugfsMount } : {}), swapsBefore,
    ...(swapSetup ? { swapSetup } : {}), ...(memcg ? { memcg } : {}), ...(memcgRemove ? { memcgRemove } : {}),
    before, ...(consumer ? { consumer } : {}), after, ...(swapTeardown ? { swapTeardown } : {}),
  };
}

interface ConsumerArgs {
  pages: number;
  fill: Fill;
  pressure: 'pageout' | 'reclaim';
  swapIn: boolean;
  memcg?: string;
}

/** Runs in the probe child: fault random pages, push them out, snapshot, read them back. */
export function zswapConsumer(args: ConsumerArgs): ZswapConsumerResult {
  const addon = native();
  const seed = 0x5eed;
  const mapped = addon.mapPages(args.pages, 0, '/');
  if (!mapped.map) throw new Error(`mmap of ${args.pages} pages failed: ${outcome(mapped.errno).code}`);
  const map = mapped.map;
  try {
    addon.fill(map, fills[args.fill], seed);
    const locate = (): PageCounts & ErrnoOutcome => {
      const r = addon.locate(map);
      return { ...outcome(r.errno), ...countStatus(r.status) };
    };
    const placed = locate();
    const pressure =
      args.pressure === 'pageout'
        ? outcome(addon.pageout(map))
        : writeText(join(args.memcg!, 'memory.reclaim'), String(args.pages * mapped.pageSize));
    const swappedOut = locate().errors.ENOENT ?? 0;
    const during = zswapSnapshot(args.memcg);
    const result: ZswapConsumerResult = {
      probe: 'zswap-consumer', ...firstFailure([placed, pressure]), placed,
      pressure: { ...pressure, method: args.pressure }, swappedOut, during,
    };
    if (args.swapIn) {
      result.corruptPages = addon.verify(map, fills[args.fill], seed);
      result.afterSwapIn = locate();
    }
    return result;
  } finally {
    addon.unmap(map);
  }
}


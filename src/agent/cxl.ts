/**
 * The region -> dax -> kmem flow inside the guest, once: sysfs/command primitives and the
 * online and destroy flows, used by the agent's region verbs (region.ts) and by the repro
 * loop (many iterations in one process).
 *
 * Every command, sysfs write and wait a flow makes is handed to `record(step)`, a callback of
 * the caller's, so each caller keeps its own step format. Kernel refusals are data (errno
 * code); waits poll sysfs state, there are no fixed sleeps. Synchronous on purpose: the agent
 * runs these flows in a worker thread, so a write the kernel never returns from blocks that
 * worker, never the agent.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export const CXL = '/sys/bus/cxl/devices';
export const DAX = '/sys/bus/dax/devices';
export const NODES = '/sys/devices/system/node';
export const MEMORY = '/sys/devices/system/memory';

export interface RunStep { run: string[]; ok: boolean; exitCode: number | null; stdout: string; stderr?: string; ms: number }
export interface WriteStep { write: string; value: string; ok: boolean; code?: string; errno?: number; ms: number }
export interface WaitStep { wait: string; ok: boolean; ms: number }
export interface NoteStep { note: string; ok: false }
export type Step = RunStep | WriteStep | WaitStep | NoteStep;
export type Recorder = (step: Step) => void;

/** A flow's outcome: ok, or a code and an error naming the step that failed. */
export interface FlowResult { ok: boolean; code?: string; error?: string }

// ---------- primitives ----------
export function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

export function ls(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Write a sysfs attribute; a refusal is data: { ok: false, code, errno }. */
export function write(path: string, value: string | number): WriteStep {
  const t = Date.now();
  try {
    writeFileSync(path, String(value));
    return { write: path, value: String(value), ok: true, ms: Date.now() - t };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { write: path, value: String(value), ok: false, code: err.code ?? 'EIO', errno: -(err.errno ?? 5), ms: Date.now() - t };
  }
}

/** Run a command to its end; a non-zero exit is data. */
export function run(argv: string[], timeoutMs = 120_000): RunStep {
  const t = Date.now();
  try {
    const stdout = execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    return { run: argv, ok: true, exitCode: 0, stdout, ms: Date.now() - t };
  } catch (e) {
    const err = e as { status?: number | null; stdout?: unknown; stderr?: unknown; message?: string };
    return { run: argv, ok: false, exitCode: err.status ?? null, stdout: String(err.stdout ?? ''), stderr: String(err.stderr ?? err.message), ms: Date.now() - t };
  }
}

export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Poll `predicate` until it returns something truthy (returned) or the time is up (undefined). */
export function waitFor<T>(predicate: () => T | undefined | false | null, timeoutMs: number, everyMs = 20): T | undefined {
  const t = Date.now();
  for (;;) {
    const v = predicate();
    if (v) return v;
    if (Date.now() - t > timeoutMs) return undefined;
    sleepMs(everyMs);
  }
}

/** waitFor, recorded as a { wait } step. */
function waitRecorded<T>(record: Recorder, what: string, predicate: () => T | undefined | false | null, timeoutMs: number): T | undefined {
  const t = Date.now();
  const v = waitFor(predicate, timeoutMs);
  record({ wait: what, ok: Boolean(v), ms: Date.now() - t });
  return v;
}

/** "0-2,5" -> [0, 1, 2, 5] (sysfs node lists). */
export function expandList(list: string | undefined): number[] {
  const out: number[] = [];
  for (const part of (list ?? '').split(',').filter(Boolean)) {
    const [a = NaN, b] = part.split('-').map(Number);
    for (let i = a; i <= (b ?? a); i++) out.push(i);
  }
  return out;
}

export function driverOf(path: string): string | undefined {
  try {
    return basename(realpathSync(join(path, 'driver')));
  } catch {
    return undefined;
  }
}

export function blockSize(): number {
  return parseInt(read(join(MEMORY, 'block_size_bytes')) ?? '0', 16);
}

// ---------- topology ----------
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

/** The interleave ways a root decoder (a window) and a region can have. */
export const CXL_WAYS: readonly number[] = [1, 2, 3, 4, 6, 8, 12, 16];

/**
 * The interleave ways a host bridge's or a switch's decoder can have: powers of two up to 8
 * (drivers/cxl/core/region.c, cxl_port_setup_targets: "switch level decoders only support
 * powers of 2", and more than 8 targets is refused).
 */
export const PORT_WAYS: readonly number[] = [1, 2, 4, 8];

/**
 * Where position p of a region sits on its decode path. `ways` lists each level's interleave
 * ways from the root down (the window across its host bridges, each bridge across its root
 * ports, each switch across its downstream ports); the result is the target index at each
 * level: floor(p / (the product of the ways above)) mod the ways here. The kernel's rule:
 * cxl_region_attach_position wants host bridge p mod R, and cxl_calc_interleave_pos builds
 * p = (downstream port x H + root port) x R + host bridge from the endpoint up.
 */
export function positionPath(p: number, ways: readonly number[]): number[] {
  let above = 1;
  return ways.map((w) => {
    const index = Math.floor(p / above) % w;
    above *= w;
    return index;
  });
}

/** A region's shape below its window: H root ports of each host bridge, S devices below each of those. */
interface RegionShape { rootPorts: number; downstream: number }

/** The shapes a region across `bridges` host bridges can take, most ways first (then most root ports). */
function regionShapes(bridges: number): RegionShape[] {
  return PORT_WAYS.flatMap((rootPorts) => PORT_WAYS.map((downstream) => ({ rootPorts, downstream })))
    .filter((s) => CXL_WAYS.includes(bridges * s.rootPorts * s.downstream))
    .sort((a, b) => b.rootPorts * b.downstream - a.rootPorts * a.downstream || b.rootPorts - a.rootPorts);
}

/** The first n of a list, in order; when an item `prefer` accepts lies past them, it takes the n-th place. */
function firstN<T>(list: readonly T[], n: number, prefer?: (item: T) => boolean): T[] {
  const first = list.slice(0, n);
  const wanted = prefer && first.length === n && !first.some(prefer) ? list.slice(n).find(prefer) : undefined;
  return wanted === undefined ? first : [...first.slice(0, n - 1), wanted];
}

/**
 * The devices of a region on one window, in position order: the one rule the guest's flow
 * (pickTargets) and the host's model of it (qemu/topology.ts regionDevices) share.
 * `below[b][r]` holds the free devices below root port r (bus order) of the window's host
 * bridge b (target_list order): the device on the port itself, or one per downstream port of
 * the switch on it (bus order). The region takes the most ways the decoders allow (H root
 * ports per bridge and S devices per root port in PORT_WAYS, R x H x S in CXL_WAYS) that every
 * bridge can give: the first H of its root ports with S devices, the first S devices of each;
 * position p is below[hb][rp][dsp] with [hb, rp, dsp] = positionPath(p, [R, H, S]). With
 * `must`, the most ways that include a device it accepts (taken in place of the last port or
 * device of a level that would leave it out). Empty when no shape fits.
 */
export function pickRegion<T>(below: readonly (readonly (readonly T[])[])[], must?: (device: T) => boolean): T[] {
  const bridges = below.length;
  for (const { rootPorts, downstream } of regionShapes(bridges)) {
    const holdsMust = must && ((devices: readonly T[]) => devices.some(must));
    const chosen = below.map((ports) => firstN(ports.filter((devices) => devices.length >= downstream), rootPorts, holdsMust)
      .map((devices) => firstN(devices, downstream, must)));
    if (chosen.some((ports) => ports.length < rootPorts)) continue;
    const devices = Array.from({ length: bridges * rootPorts * downstream }, (_, p) => {
      const [hb = 0, rp = 0, dsp = 0] = positionPath(p, [bridges, rootPorts, downstream]);
      return chosen[hb]![rp]![dsp]!;
    });
    if (!must || devices.some(must)) return devices;
  }
  return [];
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

/** The memory blocks a dax device's range covers (that exist, i.e. were added). */
export function blocksOfDax(dax: string, bs: number): number[] {
  const start = Number(BigInt(read(join(DAX, dax, 'resource')) ?? '0'));
  const size = Number(read(join(DAX, dax, 'size')) ?? 0);
  const out: number[] = [];
  if (!bs || !size) return out;
  for (let b = Math.floor(start / bs); b < Math.floor((start + size) / bs); b++) {
    if (existsSync(join(MEMORY, `memory${b}`))) out.push(b);
  }
  return out;
}

export function blockStates(blocks: number[]): (string | undefined)[] {
  return blocks.map((b) => read(join(MEMORY, `memory${b}`, 'state')));
}

// ---------- node facts ----------
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
  return { node, memTotalKiB: kb('MemTotal'), memFreeKiB: kb('MemFree'), hasMemory: expandList(read(join(NODES, 'has_memory'))).includes(node) };
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

// ---------- flows ----------
/**
 * How a region's node is set apart the way a version of the isolated-memory-node series
 * defines it, in the manual flow (the host's generation module says which):
 *   bit: `value` written to regionN/<attr> between commit and bind (v1 protected_memory, v2 spm_node);
 *   private: the region made through the root decoder's create_private_region, with
 *     regionN/private_type written before commit (v3; no type: none written, which v3 refuses at bind).
 */
export type Isolation = { kind: 'bit'; attr: string; value: string } | { kind: 'private'; type?: string };

export interface CreateOptions { decoder: string; memdevs: string[]; method?: 'ndctl' | 'sysfs'; isolate?: Isolation }

/**
 * Create a ram region of the memdevs (in position order, see pickTargets) below a root
 * decoder, and bind it.
 *   method 'ndctl': `cxl create-region` (commit and enable in one);
 *   method 'sysfs': the manual flow, isolated as `isolate` says (nothing else can do that:
 *     `cxl create-region` commits and binds in one step and writes create_ram_region).
 * region is set when it exists, even half made.
 */
export function createRegion({ decoder, memdevs: targetsOf, method = 'ndctl', isolate }: CreateOptions, record: Recorder): FlowResult & { region?: string } {
  const ways = targetsOf.length;
  if (method === 'ndctl') {
    const r = run(['cxl', 'create-region', '-m', '-t', 'ram', '-d', decoder, '-w', String(ways), ...targetsOf]);
    record(r);
    let region: string | undefined;
    try {
      region = (JSON.parse(r.stdout) as { region?: string }).region;
    } catch {
      // below
    }
    if (!r.ok || !region) return { ok: false, code: 'CREATE_FAILED', error: `cxl create-region failed: ${(r.stderr ?? '').trim().split('\n').pop()}` };
    return { ok: true, region };
  }
  const targets = targetsOf.map((m) => ({
    memdev: m,
    size: Number(read(join(CXL, m, 'ram', 'size')) ?? 0),
    decoder: endpointDecoders(m).find((d) => ['none', 'ram'].includes(read(join(CXL, d, 'mode')) ?? '') && Number(read(join(CXL, d, 'dpa_size')) ?? 0) === 0),
  }));
  const lacking = targets.find((t) => !t.size || !t.decoder);
  if (!ways || lacking) {
    const error = lacking ? `no ram size or free endpoint decoder for ${lacking.memdev}` : 'no memdev given';
    record({ note: error, ok: false });
    return { ok: false, code: 'NO_TARGET', error };
  }
  // Every target gives the same share; an interleaving root decoder fixes the granularity
  // (the kernel refuses any other), a 1-way one leaves it free: 256, the smallest.
  const share = Math.min(...targets.map((t) => t.size));
  const root = rootGeometry(decoder);
  const granularity = root.ways > 1 ? root.granularity : 256;
  const create = join(CXL, decoder, isolate?.kind === 'private' ? 'create_private_region' : 'create_ram_region');
  if (!existsSync(create)) {
    const error = `${create} does not exist`;
    record({ note: error, ok: false });
    return { ok: false, code: 'ENOENT', error };
  }
  const region = read(create) ?? '';
  const hex = (n: number): string => `0x${n.toString(16)}`;
  const writes: [string, string | number][] = [
    [create, region],
    ...(isolate?.kind === 'private' && isolate.type ? [[join(CXL, region, 'private_type'), isolate.type] as [string, string]] : []),
    [join(CXL, region, 'interleave_granularity'), granularity],
    [join(CXL, region, 'interleave_ways'), ways],
    ...targets.flatMap((t): [string, string | number][] => [[join(CXL, t.decoder!, 'mode'), 'ram'], [join(CXL, t.decoder!, 'dpa_size'), hex(share)]]),
    [join(CXL, region, 'size'), hex(share * ways)],
    ...targets.map((t, pos): [string, string] => [join(CXL, region, `target${pos}`), t.decoder!]),
    [join(CXL, region, 'commit'), 1],
    ...(isolate?.kind === 'bit' ? [[join(CXL, region, isolate.attr), isolate.value] as [string, string]] : []),
    ['/sys/bus/cxl/drivers/cxl_region/bind', region],
  ];
  for (const [path, value] of writes) {
    const w = write(path, value);
    record(w);
    if (!w.ok) return { ok: false, code: w.code, error: `writing ${value} to ${path}: ${w.code}`, ...(existsSync(join(CXL, region)) ? { region } : {}) };
  }
  return { ok: true, region };
}

export interface OnlineMemoryOptions { timeoutMs: number; driverTimeoutMs?: number; reconfigure?: boolean; blockSize?: number }
export interface OnlineMemory extends FlowResult { dax?: string; driver?: string; node?: number; blocks?: number[] }

/**
 * Wait for a region's memory to be online as system RAM: its dax device, the driver bound
 * to it, every memory block of the device online.
 *   driverTimeoutMs: how long a driver may take to bind (probing is synchronous with the
 *     bind, so a short bound tells a refused probe from a slow one);
 *   reconfigure: a device bound to device_dax is moved to kmem with daxctl (else NOT_KMEM).
 */
export function onlineMemoryOf(region: string, { timeoutMs, driverTimeoutMs = timeoutMs, reconfigure = false, blockSize: bs = blockSize() }: OnlineMemoryOptions, record: Recorder): OnlineMemory {
  const dax = waitRecorded(record, `dax device of ${region}`, () => daxOfRegion(region), timeoutMs);
  if (!dax) return { ok: false, code: 'NO_DAX', error: `${region} has no dax device` };
  let driver = waitRecorded(record, `driver bound to ${dax}`, () => driverOf(join(DAX, dax)), driverTimeoutMs);
  if (driver === 'device_dax' && reconfigure) {
    record(run(['daxctl', 'reconfigure-device', '--mode=system-ram', dax]));
    driver = driverOf(join(DAX, dax));
  }
  const node = Number(read(join(DAX, dax, 'target_node')));
  if (driver !== 'kmem') return { ok: false, code: 'NOT_KMEM', error: `${dax} bound to ${driver ?? 'no driver'}, not kmem`, dax, ...(driver ? { driver } : {}), node };
  // The driver link appears before kmem's probe has added the memory: wait for every block.
  const expected = bs ? Math.floor(Number(read(join(DAX, dax, 'size')) ?? 0) / bs) : 0;
  let blocks: number[] = [];
  const online = waitRecorded(record, `node${node}: ${expected} blocks of ${dax} online`, () => {
    blocks = blocksOfDax(dax, bs);
    return expected > 0 && blocks.length === expected && blockStates(blocks).every((s) => s === 'online');
  }, timeoutMs);
  return { ok: Boolean(online), ...(online ? {} : { code: 'NOT_ONLINE', error: `memory of ${dax} did not come online on node ${node} (driver ${driver})` }), dax, driver, node, blocks };
}

export interface BlockWrite { block: number; ms: number; ok: boolean; code?: string; errno?: number }

/** Write a state to memory blocks, in order, reverse or random (rand: a seeded PRNG); blocks already there are left alone. */
export function setBlocks(blocks: number[], state: string, order: 'forward' | 'reverse' | 'random' | string, rand?: () => number): BlockWrite[] {
  const list = [...blocks];
  if (order === 'reverse') list.reverse();
  if (order === 'random' && rand) {
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [list[i], list[j]] = [list[j]!, list[i]!];
    }
  }
  const results: BlockWrite[] = [];
  for (const b of list) {
    const path = join(MEMORY, `memory${b}`, 'state');
    if (read(path) === (state === 'offline' ? 'offline' : 'online')) continue;
    const { ms, ok, code, errno } = write(path, state);
    results.push({ block: b, ms, ok, ...(ok ? {} : { code, errno }) });
  }
  return results;
}

export interface BoundedWrite { write: string; value: string; ms: number; ok: boolean; code?: string; error?: string; stderr?: string }

/**
 * A sysfs write from a child process SIGKILLed after timeoutS: a write the kernel keeps
 * retrying (an offline that cannot migrate a page nobody frees, a hugetlb pool that cannot
 * grow) ends only on a fatal signal, and must not hang the loop. code TIMEOUT = it was still
 * in the kernel when killed.
 */
export function boundedWrite(path: string, value: string | number, timeoutS: number): BoundedWrite {
  const t = Date.now();
  const r = run(['timeout', '-s', 'KILL', String(timeoutS), 'sh', '-c', `echo ${value} > ${path}`], (timeoutS + 10) * 1000);
  const ms = Date.now() - t;
  const base = { write: path, value: String(value), ms };
  if (r.exitCode === 0) return { ...base, ok: true };
  // timeout(1) SIGKILLs its whole process group, itself too: no exit status to go by, the time tells.
  if (ms >= timeoutS * 1000) return { ...base, ok: false, code: 'TIMEOUT', error: `echo ${value} > ${path} was still in the kernel after ${timeoutS} s (SIGKILLed)` };
  const stderr = (r.stderr ?? '').slice(0, 200);
  return { ...base, ok: false, code: /busy/i.test(stderr) ? 'EBUSY' : /invalid/i.test(stderr) ? 'EINVAL' : 'EIO', stderr };
}

/** Each block offlined from a child killed after timeoutS (code TIMEOUT: still in the kernel); blocks already offline are left alone. */
export function offlineBlocksBounded(blocks: number[], timeoutS: number): (Omit<BoundedWrite, 'write' | 'value'> & { block: number })[] {
  return blocks.flatMap((b) => {
    const path = join(MEMORY, `memory${b}`, 'state');
    if (read(path) === 'offline') return [];
    const { write: _w, value: _v, ...r } = boundedWrite(path, 'offline', timeoutS);
    return [{ block: b, ...r }];
  });
}

export interface DestroyOptions { offline?: 'daxctl' | 'blocks'; force?: boolean; timeoutMs: number; node?: number; blockSize?: number }
export interface Destroyed extends FlowResult { dax?: string; node?: number; nodeFacts?: NodeFacts }

/**
 * Take a region's memory offline and destroy the region; then the region must be gone and
 * its node empty.
 *   offline 'daxctl': `daxctl offline-memory` (bounded by timeoutMs), then the device back to devdax;
 *   offline 'blocks': the dax device's memory blocks offline through sysfs, last block first
 *     (each block is one { write } step).
 *   force: `cxl destroy-region -f`.
 */
export function destroyRegion(region: string, { offline = 'daxctl', force = false, timeoutMs, node: knownNode, blockSize: bs = blockSize() }: DestroyOptions, record: Recorder): Destroyed {
  const dax = daxOfRegion(region);
  const node = knownNode ?? (dax ? Number(read(join(DAX, dax, 'target_node'))) : undefined);
  const at = { ...(dax ? { dax } : {}), ...(node !== undefined ? { node } : {}) };
  if (dax && driverOf(join(DAX, dax)) === 'kmem') {
    if (offline === 'blocks') {
      const off = setBlocks(blocksOfDax(dax, bs), 'offline', 'reverse');
      for (const o of off) record({ write: `memory${o.block}/state`, value: 'offline', ...o });
      const bad = off.find((o) => !o.ok);
      if (bad) return { ok: false, ...(bad.code ? { code: bad.code } : {}), error: `offlining memory${bad.block} failed: ${bad.code}`, ...at };
    } else {
      // Bounded: memory the kernel cannot migrate off the node (leaked pages) makes the offline
      // retry until a signal; the timeout's SIGTERM interrupts it (EINTR) and the flow says so.
      const off = run(['daxctl', 'offline-memory', dax], timeoutMs);
      record(off);
      if (!off.ok) return { ok: false, code: 'OFFLINE_FAILED', error: `offlining ${dax} failed`, ...at, ...(node !== undefined ? { nodeFacts: nodeFacts(node) } : {}) };
      // daxctl --mode=devdax adds the device to device_dax/new_id; without this the next region binds device_dax.
      const rk = write('/sys/bus/dax/drivers/kmem/remove_id', dax);
      if (rk.ok) record(rk);
      const re = run(['daxctl', 'reconfigure-device', '--mode=devdax', dax]);
      record(re);
      if (!re.ok) return { ok: false, code: 'DEVDAX_FAILED', error: `reconfiguring ${dax} to devdax failed`, ...at };
      const rd = write('/sys/bus/dax/drivers/device_dax/remove_id', dax);
      if (rd.ok) record(rd);
    }
  }
  // A failed step may leave the region half made: disable it only when it is enabled.
  if (driverOf(join(CXL, region))) {
    const r = run(['cxl', 'disable-region', region]);
    record(r);
    if (!r.ok) return { ok: false, code: 'DISABLE_FAILED', error: `cxl disable-region ${region}: ${(r.stderr ?? '').trim().split('\n').pop()}`, ...at };
  }
  const r = run(['cxl', 'destroy-region', ...(force ? ['-f'] : []), region]);
  record(r);
  const gone = r.ok && waitRecorded(record, `${region} gone`, () => !existsSync(join(CXL, region)), timeoutMs);
  const facts = node === undefined ? undefined : nodeFacts(node);
  const empty = nodeEmpty(facts);
  const ok = r.ok && Boolean(gone) && empty;
  return {
    ok,
    ...(ok ? {} : { code: 'DESTROY_FAILED', error: !r.ok ? `cxl destroy-region ${region} failed: ${(r.stderr ?? '').trim().split('\n').pop()}` : !gone ? `${region} still exists` : `node ${node} still has memory` }),
    ...at,
    ...(facts ? { nodeFacts: facts } : {}),
  };
}

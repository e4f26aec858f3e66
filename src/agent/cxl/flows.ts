/**
 * The region -> dax -> kmem flow inside the guest, once: the online and destroy flows, used by
 * the agent's region verbs (agent/region.ts) and by the repro loop (many iterations in one
 * process).
 *
 * Every command, sysfs write and wait a flow makes is handed to `record(step)`, a callback of
 * the caller's, so each caller keeps its own step format. Synchronous on purpose: the agent
 * runs these flows in a worker thread, so a write the kernel never returns from blocks that
 * worker, never the agent.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Isolation } from '../../contract/isolation.js';
import { CXL, DAX, MEMORY, blockSize, complaint, driverOf, read, run, waitRecorded, write, type FlowResult, type Recorder } from './io.js';
import { nodeEmpty, nodeFacts, type NodeFacts } from './nodes.js';
import { blockStates, blocksOfDax, daxBlockRange, daxOfRegion, endpointDecoders, rootGeometry } from './topology.js';

export interface CreateOptions { decoder: string; memdevs: string[]; method?: 'ndctl' | 'sysfs'; isolate?: Isolation }

/**
 * `cxl create-region` of `type` over `memdevs` (in position order) below a root decoder: commit
 * and bind in one; the region it names, or CREATE_FAILED with the tool's complaint.
 */
export function cxlCreateRegion(
  { type, decoder, memdevs, timeoutMs }: { type: 'ram' | 'pmem'; decoder: string; memdevs: string[]; timeoutMs?: number },
  record: Recorder,
): { ok: true; region: string } | { ok: false; code: 'CREATE_FAILED'; error: string } {
  const r = run(['cxl', 'create-region', '-m', '-t', type, '-d', decoder, '-w', String(memdevs.length), ...memdevs], timeoutMs);
  record(r);
  let region: string | undefined;
  try {
    region = (JSON.parse(r.stdout) as { region?: string }).region;
  } catch {
    // below
  }
  if (!r.ok || !region) return { ok: false, code: 'CREATE_FAILED', error: `cxl create-region -t ${type} failed: ${complaint(r.stderr)}` };
  return { ok: true, region };
}

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
  if (method === 'ndctl') return cxlCreateRegion({ type: 'ram', decoder, memdevs: targetsOf }, record);
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
export function onlineMemoryOf(region: string, options: OnlineMemoryOptions, record: Recorder): OnlineMemory {
  const dax = waitRecorded(record, `dax device of ${region}`, () => daxOfRegion(region), options.timeoutMs);
  if (!dax) return { ok: false, code: 'NO_DAX', error: `${region} has no dax device` };
  return onlineDax(dax, options, record);
}

/** A dax device's memory online as system RAM (see onlineMemoryOf): the region flows and the pmem flow share it. */
export function onlineDax(dax: string, { timeoutMs, driverTimeoutMs = timeoutMs, reconfigure = false, blockSize: bs = blockSize() }: OnlineMemoryOptions, record: Recorder): OnlineMemory {
  let driver = waitRecorded(record, `driver bound to ${dax}`, () => driverOf(join(DAX, dax)), driverTimeoutMs);
  if (driver === 'device_dax' && reconfigure) {
    record(run(['daxctl', 'reconfigure-device', '--mode=system-ram', dax]));
    driver = driverOf(join(DAX, dax));
  }
  const node = Number(read(join(DAX, dax, 'target_node')));
  if (driver !== 'kmem') return { ok: false, code: 'NOT_KMEM', error: `${dax} bound to ${driver ?? 'no driver'}, not kmem`, dax, ...(driver ? { driver } : {}), node };
  // The driver link appears before kmem's probe has added the memory: wait for every block.
  const range = daxBlockRange(dax, bs);
  const expected = Math.max(0, range.end - range.first);
  let blocks: number[] = [];
  const online = waitRecorded(record, `node${node}: ${expected} blocks of ${dax} online`, () => {
    blocks = blocksOfDax(dax, bs, range);
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
  if (dax) {
    const off = offlineDax(dax, { offline, timeoutMs, blockSize: bs }, record);
    if (!off.ok) return { ...off, ...at, ...(off.code === 'OFFLINE_FAILED' && node !== undefined ? { nodeFacts: nodeFacts(node) } : {}) };
  }
  const removed = removeRegion(region, { force, timeoutMs }, record);
  const facts = node === undefined ? undefined : nodeFacts(node);
  if (!removed.ok) return { ...removed, ...at, ...(facts ? { nodeFacts: facts } : {}) };
  const empty = nodeEmpty(facts);
  return { ok: empty, ...(empty ? {} : { code: 'DESTROY_FAILED', error: `node ${node} still has memory` }), ...at, ...(facts ? { nodeFacts: facts } : {}) };
}

/**
 * A kmem-bound dax device's memory offline and the device back to devdax (nothing to do for
 * one that is not kmem-bound): `daxctl offline-memory` (bounded by timeoutMs), or its blocks
 * through sysfs, last first (offline 'blocks': each block one { write } step).
 */
export function offlineDax(dax: string, { offline = 'daxctl', timeoutMs, blockSize: bs = blockSize() }: { offline?: 'daxctl' | 'blocks'; timeoutMs: number; blockSize?: number }, record: Recorder): FlowResult {
  if (driverOf(join(DAX, dax)) !== 'kmem') return { ok: true };
  if (offline === 'blocks') {
    const off = setBlocks(blocksOfDax(dax, bs), 'offline', 'reverse');
    for (const o of off) record({ write: `memory${o.block}/state`, value: 'offline', ...o });
    const bad = off.find((o) => !o.ok);
    return bad ? { ok: false, ...(bad.code ? { code: bad.code } : {}), error: `offlining memory${bad.block} failed: ${bad.code}` } : { ok: true };
  }
  // Bounded: memory the kernel cannot migrate off the node (leaked pages) makes the offline
  // retry until a signal; the timeout's SIGTERM interrupts it (EINTR) and the flow says so.
  const off = run(['daxctl', 'offline-memory', dax], timeoutMs);
  record(off);
  if (!off.ok) return { ok: false, code: 'OFFLINE_FAILED', error: `offlining ${dax} failed` };
  // daxctl --mode=devdax adds the device to device_dax/new_id; without this the next region binds device_dax.
  const rk = write('/sys/bus/dax/drivers/kmem/remove_id', dax);
  if (rk.ok) record(rk);
  const re = run(['daxctl', 'reconfigure-device', '--mode=devdax', dax]);
  record(re);
  if (!re.ok) return { ok: false, code: 'DEVDAX_FAILED', error: `reconfiguring ${dax} to devdax failed` };
  const rd = write('/sys/bus/dax/drivers/device_dax/remove_id', dax);
  if (rd.ok) record(rd);
  return { ok: true };
}

/** A region disabled (when enabled: a failed step may leave it half made) and destroyed, then gone from sysfs. */
export function removeRegion(region: string, { force = false, timeoutMs }: { force?: boolean; timeoutMs: number }, record: Recorder): FlowResult {
  if (driverOf(join(CXL, region))) {
    const r = run(['cxl', 'disable-region', region]);
    record(r);
    if (!r.ok) return { ok: false, code: 'DISABLE_FAILED', error: `cxl disable-region ${region}: ${complaint(r.stderr)}` };
  }
  const r = run(['cxl', 'destroy-region', ...(force ? ['-f'] : []), region]);
  record(r);
  if (!r.ok) return { ok: false, code: 'DESTROY_FAILED', error: `cxl destroy-region ${region} failed: ${complaint(r.stderr)}` };
  const gone = waitRecorded(record, `${region} gone`, () => !existsSync(join(CXL, region)), timeoutMs);
  return gone ? { ok: true } : { ok: false, code: 'DESTROY_FAILED', error: `${region} still exists` };
}

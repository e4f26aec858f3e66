// The region -> dax -> kmem flow inside the guest, once: sysfs/command primitives and the
// online and destroy flows, shared by cxl-region.mjs (one flow per process, a `steps` array)
// and repro-loop.mjs (many iterations in one process, a `sub` array per step).
//
// Every command, sysfs write and wait a flow makes is handed to `record(step)`, a callback
// of the caller's, as one of
//   { run: argv, ok, exitCode, stdout, stderr?, ms }
//   { write: path, value, ok, code?, errno?, ms }
//   { wait: what, ok, ms }
//   { note: text, ok: false }
// so each caller keeps its own step format. Kernel refusals are data (errno code); waits
// poll sysfs state, there are no fixed sleeps.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export const CXL = '/sys/bus/cxl/devices';
export const DAX = '/sys/bus/dax/devices';
export const NODES = '/sys/devices/system/node';
export const MEMORY = '/sys/devices/system/memory';

// ---------- primitives ----------
export function read(path) {
  try { return readFileSync(path, 'utf8').trim(); } catch { return undefined; }
}

export function ls(dir) {
  try { return readdirSync(dir); } catch { return []; }
}

/** Write a sysfs attribute; a refusal is data: { ok: false, code, errno }. */
export function write(path, value) {
  const t = Date.now();
  try {
    writeFileSync(path, String(value));
    return { write: path, value: String(value), ok: true, ms: Date.now() - t };
  } catch (e) {
    return { write: path, value: String(value), ok: false, code: e.code ?? 'EIO', errno: -(e.errno ?? 5), ms: Date.now() - t };
  }
}

/** Run a command to its end; a non-zero exit is data. */
export function run(argv, timeoutMs = 120_000) {
  const t = Date.now();
  try {
    const stdout = execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    return { run: argv, ok: true, exitCode: 0, stdout, ms: Date.now() - t };
  } catch (e) {
    return { run: argv, ok: false, exitCode: e.status ?? null, stdout: String(e.stdout ?? ''), stderr: String(e.stderr ?? e.message), ms: Date.now() - t };
  }
}

export function sleepMs(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Poll `predicate` until it returns something truthy (returned) or the time is up (undefined). */
export function waitFor(predicate, timeoutMs, everyMs = 20) {
  const t = Date.now();
  for (;;) {
    const v = predicate();
    if (v) return v;
    if (Date.now() - t > timeoutMs) return undefined;
    sleepMs(everyMs);
  }
}

/** waitFor, recorded as a { wait } step. */
function waitRecorded(record, what, predicate, timeoutMs) {
  const t = Date.now();
  const v = waitFor(predicate, timeoutMs);
  record({ wait: what, ok: Boolean(v), ms: Date.now() - t });
  return v;
}

/** "0-2,5" -> [0, 1, 2, 5] (sysfs node lists). */
export function expandList(list) {
  const out = [];
  for (const part of (list ?? '').split(',').filter(Boolean)) {
    const [a, b] = part.split('-').map(Number);
    for (let i = a; i <= (b ?? a); i++) out.push(i);
  }
  return out;
}

export function driverOf(path) {
  try { return basename(realpathSync(join(path, 'driver'))); } catch { return undefined; }
}

export function blockSize() {
  return parseInt(read(join(MEMORY, 'block_size_bytes')) ?? '0', 16);
}

// ---------- topology ----------
export function rootDecoders() {
  return ls(CXL).filter((d) => /^decoder0\.\d+$/.test(d)).sort();
}

export function memdevs() {
  return ls(CXL).filter((d) => /^mem\d+$/.test(d));
}

const belowCache = new Map();
/** Memdevs a root decoder can reach (through `cxl list -M -d`, which walks the hierarchy); fixed for a boot, so cached. */
export function memdevsBelow(decoder) {
  if (!belowCache.has(decoder)) {
    let list = [];
    try {
      const out = execFileSync('cxl', ['list', '-M', '-d', decoder], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      list = JSON.parse(out || '[]').map((m) => m.memdev);
    } catch { /* none */ }
    belowCache.set(decoder, list);
  }
  return belowCache.get(decoder);
}

export function endpointOf(memdev) {
  for (const e of ls(CXL).filter((d) => /^endpoint\d+$/.test(d))) {
    try { if (basename(realpathSync(join(CXL, e, 'uport'))) === memdev) return e; } catch { /* not this one */ }
  }
  return undefined;
}

export function endpointDecoders(memdev) {
  const ep = endpointOf(memdev);
  return ep ? ls(CXL).filter((d) => d.startsWith(`decoder${ep.slice(8)}.`)).sort() : [];
}

/** A memdev is free when none of its endpoint decoders holds capacity yet. */
export function memdevFree(memdev) {
  const decs = endpointDecoders(memdev);
  return decs.length > 0 && decs.every((d) => Number(read(join(CXL, d, 'dpa_size')) ?? 0) === 0);
}

/**
 * A root decoder's interleave: its ways, its granularity, its targets (target_list: host
 * bridge port ids) and their sysfs paths (root0/dportN links), both in position order.
 */
export function rootGeometry(decoder) {
  const real = (p) => { try { return realpathSync(p); } catch { return undefined; } };
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
 * Free memdevs for a region on a root decoder, one per interleave position, in position
 * order (the kernel refuses targets out of order): position i takes a memdev below the i-th
 * host bridge of target_list. Tries every root decoder unless one is named; a named memdev
 * must be among the targets. Returns { decoder, memdevs } (memdevs empty when none fits).
 */
export function pickTargets({ decoder, memdev } = {}) {
  for (const d of decoder ? [decoder] : rootDecoders()) {
    const { ways, dports } = rootGeometry(d);
    const free = memdevsBelow(d).filter(memdevFree);
    const pathOf = new Map(free.map((m) => { try { return [m, realpathSync(join(CXL, m))]; } catch { return [m, '']; } }));
    const chosen = [];
    for (let pos = 0; pos < ways; pos++) {
      const dport = dports[pos];
      const here = free.filter((m) => !chosen.includes(m) && (dports.length === 0 || (dport !== undefined && pathOf.get(m).startsWith(`${dport}/`))));
      const m = here.find((x) => x === memdev) ?? here[0];
      if (!m) break;
      chosen.push(m);
    }
    if (chosen.length === ways && (!memdev || chosen.includes(memdev))) return { decoder: d, memdevs: chosen };
  }
  return { decoder, memdevs: [] };
}

export function daxOfRegion(region) {
  const dr = ls(join(CXL, region)).find((e) => e.startsWith('dax_region'));
  return dr ? ls(join(CXL, region, dr)).find((e) => /^dax\d+\.\d+$/.test(e)) : undefined;
}

/** The memory blocks a dax device's range covers (that exist, i.e. were added). */
export function blocksOfDax(dax, bs) {
  const start = Number(BigInt(read(join(DAX, dax, 'resource')) ?? '0'));
  const size = Number(read(join(DAX, dax, 'size')) ?? 0);
  const out = [];
  if (!bs || !size) return out;
  for (let b = Math.floor(start / bs); b < Math.floor((start + size) / bs); b++) {
    if (existsSync(join(MEMORY, `memory${b}`))) out.push(b);
  }
  return out;
}

export function blockStates(blocks) {
  return blocks.map((b) => read(join(MEMORY, `memory${b}`, 'state')));
}

// ---------- node facts ----------
/** A node's memory, briefly: totals and whether it is in has_memory. */
export function nodeMemory(node) {
  const meminfo = read(join(NODES, `node${node}`, 'meminfo')) ?? '';
  const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(meminfo)?.[1] ?? NaN);
  return { node, memTotalKiB: kb('MemTotal'), memFreeKiB: kb('MemFree'), hasMemory: expandList(read(join(NODES, 'has_memory'))).includes(node) };
}

/** A node's memory in full: also its blocks, their states and zones. */
export function nodeFacts(node) {
  const dir = join(NODES, `node${node}`);
  const m = nodeMemory(node);
  const blocks = ls(dir).filter((e) => /^memory\d+$/.test(e));
  const states = blocks.map((b) => read(join(dir, b, 'state')));
  return {
    node,
    exists: existsSync(dir),
    memTotalKiB: m.memTotalKiB,
    memFreeKiB: m.memFreeKiB,
    blocks: blocks.length,
    onlineBlocks: states.filter((s) => s === 'online').length,
    zones: [...new Set(blocks.map((b) => read(join(dir, b, 'valid_zones'))))],
    hasMemory: m.hasMemory,
  };
}

/** A node is empty once it is out of has_memory and has no MemTotal. */
export function nodeEmpty(facts) {
  return !facts || (!facts.hasMemory && !(facts.memTotalKiB > 0));
}

// ---------- flows ----------
/**
 * Create a ram region of the memdevs (in position order, see pickTargets) below a root
 * decoder, and bind it.
 *   method 'ndctl': `cxl create-region` (commit and enable in one);
 *   method 'sysfs': the manual flow, with `spm` written to spm_node between commit and bind.
 * Returns { ok, region?, code?, error? }; region is set when it exists, even half made.
 */
export function createRegion({ decoder, memdevs, method = 'ndctl', spm }, record) {
  const ways = memdevs.length;
  if (method === 'ndctl') {
    const r = run(['cxl', 'create-region', '-m', '-t', 'ram', '-d', decoder, '-w', String(ways), ...memdevs]);
    record(r);
    let region;
    try { region = JSON.parse(r.stdout).region; } catch { /* below */ }
    if (!r.ok || !region) return { ok: false, code: 'CREATE_FAILED', error: `cxl create-region failed: ${(r.stderr ?? '').trim().split('\n').pop()}` };
    return { ok: true, region };
  }
  const targets = memdevs.map((m) => ({
    memdev: m,
    size: Number(read(join(CXL, m, 'ram', 'size')) ?? 0),
    decoder: endpointDecoders(m).find((d) => ['none', 'ram'].includes(read(join(CXL, d, 'mode'))) && Number(read(join(CXL, d, 'dpa_size')) ?? 0) === 0),
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
  const region = read(join(CXL, decoder, 'create_ram_region'));
  const hex = (n) => `0x${n.toString(16)}`;
  const writes = [
    [join(CXL, decoder, 'create_ram_region'), region], [join(CXL, region, 'interleave_granularity'), granularity],
    [join(CXL, region, 'interleave_ways'), ways],
    ...targets.flatMap((t) => [[join(CXL, t.decoder, 'mode'), 'ram'], [join(CXL, t.decoder, 'dpa_size'), hex(share)]]),
    [join(CXL, region, 'size'), hex(share * ways)],
    ...targets.map((t, pos) => [join(CXL, region, `target${pos}`), t.decoder]),
    [join(CXL, region, 'commit'), 1],
    ...(spm === undefined ? [] : [[join(CXL, region, 'spm_node'), spm]]),
    ['/sys/bus/cxl/drivers/cxl_region/bind', region],
  ];
  for (const [path, value] of writes) {
    const w = write(path, value);
    record(w);
    if (!w.ok) return { ok: false, code: w.code, error: `writing ${value} to ${path}: ${w.code}`, ...(existsSync(join(CXL, region)) ? { region } : {}) };
  }
  return { ok: true, region };
}

/**
 * Wait for a region's memory to be online as system RAM: its dax device, the driver bound
 * to it, every memory block of the device online.
 *   driverTimeoutMs: how long a driver may take to bind (probing is synchronous with the
 *     bind, so a short bound tells a refused probe from a slow one);
 *   reconfigure: a device bound to device_dax is moved to kmem with daxctl (else NOT_KMEM).
 * Returns { ok, code?, error?, dax?, driver?, node?, blocks? }.
 */
export function onlineMemoryOf(region, { timeoutMs, driverTimeoutMs = timeoutMs, reconfigure = false, blockSize: bs = blockSize() }, record) {
  const dax = waitRecorded(record, `dax device of ${region}`, () => daxOfRegion(region), timeoutMs);
  if (!dax) return { ok: false, code: 'NO_DAX', error: `${region} has no dax device` };
  let driver = waitRecorded(record, `driver bound to ${dax}`, () => driverOf(join(DAX, dax)), driverTimeoutMs);
  if (driver === 'device_dax' && reconfigure) {
    record(run(['daxctl', 'reconfigure-device', '--mode=system-ram', dax]));
    driver = driverOf(join(DAX, dax));
  }
  const node = Number(read(join(DAX, dax, 'target_node')));
  if (driver !== 'kmem') return { ok: false, code: 'NOT_KMEM', error: `${dax} bound to ${driver ?? 'no driver'}, not kmem`, dax, driver, node };
  // The driver link appears before kmem's probe has added the memory: wait for every block.
  const expected = bs ? Math.floor(Number(read(join(DAX, dax, 'size')) ?? 0) / bs) : 0;
  let blocks = [];
  const online = waitRecorded(record, `node${node}: ${expected} blocks of ${dax} online`, () => {
    blocks = blocksOfDax(dax, bs);
    return expected > 0 && blocks.length === expected && blockStates(blocks).every((s) => s === 'online');
  }, timeoutMs);
  return { ok: Boolean(online), ...(online ? {} : { code: 'NOT_ONLINE', error: `memory of ${dax} did not come online on node ${node} (driver ${driver})` }), dax, driver, node, blocks };
}

/** Write a state to memory blocks, in order, reverse or random (rand: a seeded PRNG); blocks already there are left alone. */
export function setBlocks(blocks, state, order, rand) {
  const list = [...blocks];
  if (order === 'reverse') list.reverse();
  if (order === 'random') for (let i = list.length - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [list[i], list[j]] = [list[j], list[i]]; }
  const results = [];
  for (const b of list) {
    const path = join(MEMORY, `memory${b}`, 'state');
    if (read(path) === (state === 'offline' ? 'offline' : 'online')) continue;
    const { ms, ok, code, errno } = write(path, state);
    results.push({ block: b, ms, ok, ...(ok ? {} : { code, errno }) });
  }
  return results;
}

/**
 * Take a region's memory offline and destroy the region; then the region must be gone and
 * its node empty.
 *   offline 'daxctl': `daxctl offline-memory`, then the device back to devdax;
 *   offline 'blocks': the dax device's memory blocks offline through sysfs, last block first
 *     (each block is one { write } step).
 *   force: `cxl destroy-region -f`.
 * Returns { ok, code?, error?, dax?, node?, nodeFacts? }.
 */
export function destroyRegion(region, { offline = 'daxctl', force = false, timeoutMs, node: knownNode, blockSize: bs = blockSize() }, record) {
  const dax = daxOfRegion(region);
  const node = knownNode ?? (dax ? Number(read(join(DAX, dax, 'target_node'))) : undefined);
  if (dax && driverOf(join(DAX, dax)) === 'kmem') {
    if (offline === 'blocks') {
      const off = setBlocks(blocksOfDax(dax, bs), 'offline', 'reverse');
      for (const o of off) record({ write: `memory${o.block}/state`, value: 'offline', ...o });
      const bad = off.find((o) => !o.ok);
      if (bad) return { ok: false, code: bad.code, error: `offlining memory${bad.block} failed: ${bad.code}`, dax, node };
    } else {
      // Bounded: memory the kernel cannot migrate off the node (leaked pages) makes the offline
      // retry until a signal; the timeout's SIGTERM interrupts it (EINTR) and the flow says so.
      const off = run(['daxctl', 'offline-memory', dax], timeoutMs);
      record(off);
      if (!off.ok) return { ok: false, code: 'OFFLINE_FAILED', error: `offlining ${dax} failed`, dax, node, nodeFacts: nodeFacts(node) };
      // daxctl --mode=devdax adds the device to device_dax/new_id; without this the next region binds device_dax.
      const rk = write('/sys/bus/dax/drivers/kmem/remove_id', dax);
      if (rk.ok) record(rk);
      const re = run(['daxctl', 'reconfigure-device', '--mode=devdax', dax]);
      record(re);
      if (!re.ok) return { ok: false, code: 'DEVDAX_FAILED', error: `reconfiguring ${dax} to devdax failed`, dax, node };
      const rd = write('/sys/bus/dax/drivers/device_dax/remove_id', dax);
      if (rd.ok) record(rd);
    }
  }
  // A failed step may leave the region half made: disable it only when it is enabled.
  if (driverOf(join(CXL, region))) {
    const r = run(['cxl', 'disable-region', region]);
    record(r);
    if (!r.ok) return { ok: false, code: 'DISABLE_FAILED', error: `cxl disable-region ${region}: ${(r.stderr ?? '').trim().split('\n').pop()}`, dax, node };
  }
  const r = run(['cxl', 'destroy-region', ...(force ? ['-f'] : []), region]);
  record(r);
  const gone = r.ok && waitRecorded(record, `${region} gone`, () => !existsSync(join(CXL, region)), timeoutMs);
  const facts = node === undefined ? undefined : nodeFacts(node);
  const empty = nodeEmpty(facts);
  const ok = r.ok && Boolean(gone) && empty;
  return { ok, ...(ok ? {} : { code: 'DESTROY_FAILED', error: !r.ok ? `cxl destroy-region ${region} failed: ${(r.stderr ?? '').trim().split('\n').pop()}` : !gone ? `${region} still exists` : `node ${node} still has memory` }), dax, node, nodeFacts: facts };
}

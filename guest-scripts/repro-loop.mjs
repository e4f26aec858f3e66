#!/usr/bin/env node
// The repro loop inside the guest: runs a scenario's steps for K iterations in ONE process
// (a `node` start costs 1.5-2 s under TCG, more than a whole online/offline cycle), and
// prints one JSON line per step and per iteration on stdout as they finish, so whatever
// ran before a kernel crash reaches the host.
//
//   node repro-loop.mjs < spec.json
//   spec: { scenario: {name, setup, steps, teardown, requires}, start, iterations, seed,
//           stopOnFail, crashAt, syncTimeoutMs, generation: {name, evidence} }
//   (generation: the kernel's SPM generation, decided on the host by src/suites/spm/generation.ts)
//
// It also writes to /dev/kmsg (so the host sees it live on the serial console):
//   "### cxl-harness step: repro.<name>.iter.NNN"  at the start of each iteration
//   "cxl-harness repro: sync <token>"              when a step needs the host (QMP fault);
//                                                  it then waits for /run/cxl-repro/<token>
//   "cxl-harness repro: iter NNN ok|FAIL <ms> ms"  at the end of each iteration
// Kernel refusals are data ({ok:false, code:'EBUSY'}); waits poll sysfs, no fixed sleeps.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import * as cxl from '../dist/agent/cxl.js';
import { errnoName as errnoOf } from '../dist/probe/errno.js';
import { native as addon } from '../dist/probe/native.js';
import { readAllNodeMeminfo } from '../dist/probe/nodes.js';
import { fills } from '../dist/probe/placement.js';
import { modes } from '../dist/probe/policy.js';

const { CXL, DAX, MEMORY, NODES, blockSize, blockStates, driverOf, ls, nodeMemory, read, setBlocks, waitFor } = cxl;
const SYNC_DIR = '/run/cxl-repro';
const MPOL_BIND = modes.bind;
const FILL_PATTERN = fills.pattern;
const FILL_RANDOM = fills.random;
/** The kernel's errno names (move_pages statuses come negated). */
const errnoName = (n) => errnoOf(Math.abs(n));

// ---------- small helpers ----------
/** A sysfs write as this script's steps show it: { ok } or { ok: false, code, errno }. */
function write(path, value) {
  const { ok, code, errno } = cxl.write(path, value);
  return ok ? { ok } : { ok, code, errno };
}
/** A command as this script's steps show it (output capped at 2000 characters). */
function run(argv) {
  return cap(cxl.run(argv));
}
function cap(r) {
  return { ...r, stdout: r.stdout.slice(0, 2000), ...(r.stderr !== undefined ? { stderr: r.stderr.slice(0, 2000) } : {}) };
}
function kmsg(line) {
  try { writeFileSync('/dev/kmsg', `${line}\n`); } catch { /* not fatal */ }
}
function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}
/** mulberry32: a small seeded PRNG, so --seed makes random choices repeatable. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function pick(value, rand) {
  // A number, or [min, max] to draw from with the seeded PRNG.
  if (Array.isArray(value)) return Math.floor(value[0] + rand() * (value[1] - value[0] + 1));
  return value;
}

// ---------- facts: features (the kernel generation comes from the host, spec.generation) ----------
function facts(generation) {
  const memdevs = cxl.memdevs();
  const features = {
    spm_node: generation.name === 'spm-v2',
    zswap: existsSync('/sys/module/zswap/parameters/enabled'),
    poison_list: memdevs.some((m) => existsSync(join(CXL, m, 'trigger_poison_list'))),
    dcd: memdevs.some((m) => ls(join(CXL, m)).some((e) => /^dynamic_ram|^dc\d*$/.test(e))),
    sysrq: existsSync('/proc/sysrq-trigger'),
  };
  return { generation: generation.name, evidence: generation.evidence, features, memdevs, blockSize: blockSize(), release: read('/proc/sys/kernel/osrelease') };
}

// ---------- region flows (src/agent/cxl.ts) ----------
/** A step of the shared flows in this script's `sub` format: commands and writes (a block's with its ms), no waits or notes. */
function recorder(sub) {
  return (step) => {
    if (step.run) sub.push(cap(step));
    else if (step.block !== undefined) sub.push(step);
    else if (step.write) { const { ms: _ms, ...w } = step; sub.push(w); }
  };
}

function createRegion(step, st, ctx) {
  const sub = [];
  const record = recorder(sub);
  const { decoder, memdevs } = cxl.pickTargets({ memdev: step.memdev });
  if (!decoder || !memdevs.length) return { ok: false, code: 'NO_TARGET', error: `no root decoder with a free memdev for each of its interleave positions${step.memdev ? ` (wanted ${step.memdev})` : ''}` };
  const made = cxl.createRegion({ decoder, memdevs, method: step.method ?? 'ndctl', spm: step.spm }, record);
  st.region = made.region;
  if (!made.ok) return { ok: false, code: made.code, error: made.error, ...(made.region ? { region: made.region } : {}), sub };
  const region = made.region;
  // Probing is synchronous with the bind: a dax device still without a driver after a few
  // seconds was refused (e.g. kmem's "memory add failed" on a node-type conflict).
  const on = cxl.onlineMemoryOf(region, { timeoutMs: ctx.timeoutMs, driverTimeoutMs: Math.min(ctx.timeoutMs, 5000), blockSize: ctx.blockSize }, record);
  if (!on.dax) return { ok: false, code: 'NO_DAX', error: `${region} got no dax device`, region, sub };
  st.dax = on.dax;
  st.node = on.node;
  if (on.code === 'NOT_KMEM') return { ok: false, code: on.code, error: on.error, region, dax: on.dax, node: on.node, sub };
  st.blocks = on.blocks;
  return { ok: on.ok, ...(on.ok ? {} : { code: 'NOT_ONLINE', error: `blocks of ${on.dax} did not all come online` }), region, dax: on.dax, node: st.node, blocks: st.blocks.length, spmNode: read(join(DAX, on.dax, 'spm_node')), nodeFacts: nodeMemory(st.node), sub };
}

/**
 * A sysfs write from a child process SIGKILLed after timeoutS: a write the kernel keeps
 * retrying (an offline that cannot migrate a page nobody frees, a hugetlb pool that cannot
 * grow) ends only on a fatal signal, and must not hang this process. code TIMEOUT = it was
 * still in the kernel when killed.
 */
function boundedWrite(path, value, timeoutS) {
  const t = Date.now();
  const r = cxl.run(['timeout', '-s', 'KILL', String(timeoutS), 'sh', '-c', `echo ${value} > ${path}`], (timeoutS + 10) * 1000);
  const ms = Date.now() - t;
  if (r.exitCode === 0) return { write: path, value: String(value), ms, ok: true };
  // timeout(1) SIGKILLs its whole process group, itself too: no exit status to go by, the time tells.
  if (r.exitCode !== 0 && ms >= timeoutS * 1000) return { write: path, value: String(value), ms, ok: false, code: 'TIMEOUT', error: `echo ${value} > ${path} was still in the kernel after ${timeoutS} s (SIGKILLed)` };
  const stderr = (r.stderr ?? '').slice(0, 200);
  return { write: path, value: String(value), ms, ok: false, code: /busy/i.test(stderr) ? 'EBUSY' : /invalid/i.test(stderr) ? 'EINVAL' : 'EIO', stderr };
}

function boundedOffline(blocks, timeoutS) {
  return blocks.map((b) => {
    const path = join(MEMORY, `memory${b}`, 'state');
    if (read(path) === 'offline') return undefined;
    const { write: _w, value: _v, ...r } = boundedWrite(path, 'offline', timeoutS);
    return { block: b, ...r };
  }).filter(Boolean);
}

function offlineMemory(step, st, ctx) {
  if (!st.blocks?.length) return { ok: false, code: 'NO_REGION', error: 'no online region: run create-region first' };
  const results = step.timeoutS ? boundedOffline(step.order === 'reverse' ? [...st.blocks].reverse() : st.blocks, step.timeoutS) : setBlocks(st.blocks, 'offline', step.order, ctx.rand);
  const failed = results.filter((r) => !r.ok);
  const states = blockStates(st.blocks);
  return {
    ok: failed.length === 0 && states.every((s) => s === 'offline'),
    ...(failed.length ? { code: failed[0].code, error: `${failed.length} block(s) refused offline: ${[...new Set(failed.map((f) => f.code))].join(',')}` } : {}),
    node: st.node, blocks: results, nodeFacts: nodeMemory(st.node),
  };
}

function onlineMemory(step, st, ctx) {
  if (!st.blocks?.length) return { ok: false, code: 'NO_REGION', error: 'no region: run create-region first' };
  const results = setBlocks(st.blocks, step.zone ?? 'online_movable', step.order, ctx.rand);
  const failed = results.filter((r) => !r.ok);
  const states = blockStates(st.blocks);
  return {
    ok: failed.length === 0 && states.every((s) => s === 'online'),
    ...(failed.length ? { code: failed[0].code, error: `${failed.length} block(s) refused online: ${failed[0].code}` } : {}),
    node: st.node, blocks: results, zones: [...new Set(st.blocks.map((b) => read(join(MEMORY, `memory${b}`, 'valid_zones'))))], nodeFacts: nodeMemory(st.node),
  };
}

function destroyRegion(step, st, ctx) {
  const region = st.region;
  if (!region) return { ok: false, code: 'NO_REGION', error: 'no region to destroy' };
  const sub = [];
  const r = cxl.destroyRegion(region, { offline: 'blocks', force: true, timeoutMs: ctx.timeoutMs, node: st.node, blockSize: ctx.blockSize }, recorder(sub));
  // Offlining or disabling refused: the region stays, as it was.
  if (!r.ok && r.code !== 'DESTROY_FAILED') return { ok: false, code: r.code, error: r.error, region, sub };
  Object.assign(st, { region: undefined, dax: undefined, blocks: undefined });
  const nf = r.nodeFacts && { node: r.nodeFacts.node, memTotalKiB: r.nodeFacts.memTotalKiB, memFreeKiB: r.nodeFacts.memFreeKiB, hasMemory: r.nodeFacts.hasMemory };
  return { ok: r.ok, ...(r.ok ? {} : { code: r.code, error: r.error }), region, node: r.node, nodeFacts: nf, sub };
}

// ---------- pages ----------
function counts(status) {
  const c = {};
  for (const s of status) { const k = s >= 0 ? `node${s}` : errnoName(s); c[k] = (c[k] ?? 0) + 1; }
  return c;
}
function hold(step, st, ctx) {
  if (st.node === undefined) return { ok: false, code: 'NO_REGION', error: 'no CXL node: run create-region first' };
  const a = addon();
  const pages = pick(step.pages ?? 256, ctx.rand);
  const m = a.mapPages(pages, 0, '/tmp');
  if (m.errno) return { ok: false, code: errnoName(m.errno), error: 'mmap failed' };
  const mb = a.mbind(m.map, MPOL_BIND, [st.node], 0);
  if (mb) { a.unmap(m.map); return { ok: false, code: errnoName(mb), error: `mbind to node ${st.node} failed: ${errnoName(mb)}` }; }
  const seed = Math.floor(ctx.rand() * 2 ** 31);
  const f = a.fill(m.map, FILL_PATTERN, seed);
  const where = counts(a.locate(m.map).status);
  st.holds.push({ map: m.map, pages, seed, node: st.node });
  const onNode = where[`node${st.node}`] ?? 0;
  return { ok: f === 0 && onNode === pages, ...(onNode === pages ? {} : { code: 'NOT_PLACED', error: `${onNode}/${pages} pages landed on node ${st.node}` }), pages, node: st.node, placed: where };
}
function release(step, st) {
  if (!st.holds.length) return { ok: false, code: 'NOTHING_HELD', error: 'no held pages: run hold first' };
  const a = addon();
  const out = [];
  let ok = true;
  let error;
  for (const h of st.holds.splice(0)) {
    const where = counts(a.locate(h.map).status);
    const corrupt = a.verify(h.map, FILL_PATTERN, h.seed);
    a.unmap(h.map);
    out.push({ pages: h.pages, boundTo: h.node, placed: where, corruptPages: corrupt });
    if (corrupt !== 0) { ok = false; error = `${corrupt} page(s) corrupt after the offline`; }
    const stillOnNode = where[`node${h.node}`] ?? 0;
    if (step.expectMoved && stillOnNode > 0) { ok = false; error ??= `${stillOnNode} page(s) still on node ${h.node}`; }
  }
  return { ok, ...(ok ? {} : { code: 'PAGES_BAD', error }), holds: out };
}

// Concurrent page moves in a worker thread (same process: no node start-up per cycle).
function churnWorker() {
  const { kind, pages, node, stop } = workerData;
  const a = addon();
  const flag = new Int32Array(stop);
  const m = a.mapPages(pages, 0, '/tmp');
  a.fill(m.map, FILL_PATTERN, 7);
  const stats = { rounds: 0, moves: 0, errors: {}, pageErrors: {} };
  const err = (table, key) => { table[key] = (table[key] ?? 0) + 1; };
  while (Atomics.load(flag, 0) === 0) {
    const to = a.move(m.map, node, 2);
    if (to.errno) err(stats.errors, `move_pages:${errnoName(to.errno)}`);
    for (const s of to.status) if (s < 0) err(stats.pageErrors, errnoName(s));
    if (kind === 'migrate_pages') {
      const back = a.migrate(process.pid, [node], [0]);
      if (back.errno) err(stats.errors, `migrate_pages:${errnoName(back.errno)}`);
    } else {
      const back = a.move(m.map, 0, 2);
      if (back.errno) err(stats.errors, `move_pages:${errnoName(back.errno)}`);
    }
    stats.rounds++;
    stats.moves += 2;
    Atomics.store(flag, 1, stats.rounds);
    Atomics.notify(flag, 1);
  }
  stats.corruptPages = a.verify(m.map, FILL_PATTERN, 7);
  stats.placed = counts(a.locate(m.map).status);
  a.unmap(m.map);
  parentPort.postMessage(stats);
}
function churnStart(step, st, ctx) {
  if (st.node === undefined) return { ok: false, code: 'NO_REGION', error: 'no CXL node: run create-region first' };
  const stop = new SharedArrayBuffer(8);
  const worker = new Worker(new URL(import.meta.url), { workerData: { kind: step.kind ?? 'move_pages', pages: step.pages ?? 64, node: st.node, stop } });
  const done = new Promise((resolve) => {
    worker.once('message', resolve);
    worker.once('error', (e) => resolve({ crashed: String(e) }));
    worker.once('exit', (code) => resolve({ exited: code }));
  });
  st.churn = { worker, stop, done, kind: step.kind ?? 'move_pages' };
  // Concurrent means concurrent: return only once the mover has finished a first round.
  const shared = new Int32Array(stop);
  const started = Date.now();
  while (Atomics.load(shared, 1) === 0 && Date.now() - started < ctx.timeoutMs) Atomics.wait(shared, 1, 0, 50);
  const rounds = Atomics.load(shared, 1);
  return { ok: rounds > 0, ...(rounds > 0 ? {} : { code: 'NOT_STARTED', error: 'the mover thread did not complete a round' }), kind: st.churn.kind, pages: step.pages ?? 64, node: st.node, startMs: Date.now() - started };
}
async function churnStop(step, st) {
  if (!st.churn) return { ok: false, code: 'NO_CHURN', error: 'no churn running: run churn-start first' };
  Atomics.store(new Int32Array(st.churn.stop), 0, 1);
  const stats = await st.churn.done;
  const kind = st.churn.kind;
  st.churn = undefined;
  const ok = !stats.crashed && stats.exited === undefined && stats.corruptPages === 0 && stats.rounds > 0;
  return { ok, ...(ok ? {} : { code: 'CHURN_BAD', error: stats.crashed ?? (stats.corruptPages ? `${stats.corruptPages} corrupt page(s)` : 'the mover made no round') }), kind, ...stats };
}

// Memory pressure on node 0 from a child process, the OOM killer's first choice.
function pressureStart(step, st, ctx) {
  const free = Number(/MemFree:\s+(\d+)/.exec(read(join(NODES, 'node0', 'meminfo')) ?? '')?.[1] ?? 0);
  const mib = step.mib ?? Math.floor((free / 1024) * (step.percent ?? 80) / 100);
  const child = spawn(process.execPath, [new URL(import.meta.url).pathname, '--pressure-child', String(mib)], { stdio: ['ignore', 'pipe', 'inherit'] });
  write(`/proc/${child.pid}/oom_score_adj`, 1000);
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  st.pressure = child;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ ok: false, code: 'TIMEOUT', error: `pressure child did not fill ${mib} MiB in time`, mib }), ctx.timeoutMs * 4);
    child.stdout.on('data', () => {
      if (out.includes('\n')) { clearTimeout(timer); resolve({ ok: true, mib, node0Before: free, node0After: nodeMemory(0) }); }
    });
    child.once('exit', (code, signal) => { clearTimeout(timer); resolve({ ok: false, code: 'CHILD_DIED', error: `pressure child ended (${code ?? signal}); OOM?`, mib }); });
  });
}
function pressureChild(mib) {
  const a = addon();
  const pages = Math.floor((mib * 1024 * 1024) / 4096);
  const m = a.mapPages(pages, 0, '/tmp');
  a.mbind(m.map, MPOL_BIND, [0], 0);
  a.fill(m.map, FILL_PATTERN, 3);
  process.stdout.write('ready\n');
  setInterval(() => {}, 1 << 30);
}
function pressureStop(step, st) {
  if (!st.pressure) return { ok: false, code: 'NO_PRESSURE', error: 'no pressure child: run pressure-start first' };
  const alive = st.pressure.exitCode === null && st.pressure.signalCode === null;
  st.pressure.kill('SIGKILL');
  st.pressure = undefined;
  return { ok: alive, ...(alive ? {} : { code: 'CHILD_DIED', error: 'the pressure child had died (OOM-killed?)' }) };
}

// zswap: random pages paged out (MADV_PAGEOUT) while zswap is on; on an SPM kernel the
// entries land on the SPM node, which the scenario then offlines.
function zswapStart(step, st, ctx) {
  const a = addon();
  const sub = [];
  for (const [p, v] of [['/sys/module/zswap/parameters/enabled', 'Y']]) { const w = write(p, v); sub.push({ write: p, value: v, ...w }); }
  if (!read('/proc/swaps')?.split('\n').slice(1).some(Boolean)) {
    const file = '/var/tmp/cxl-repro.swap';
    if (!existsSync(file)) sub.push(run(['fallocate', '-l', `${step.swapMiB ?? 64}M`, file]), run(['chmod', '600', file]), run(['mkswap', file]));
    const sw = a.swapon(file, 0);
    sub.push({ swapon: file, errno: sw });
  }
  const pages = pick(step.pages ?? 512, ctx.rand);
  const m = a.mapPages(pages, 0, '/tmp');
  a.mbind(m.map, MPOL_BIND, [0], 0);
  const seed = Math.floor(ctx.rand() * 2 ** 31);
  a.fill(m.map, FILL_RANDOM, seed);
  const before = nodeMemory(st.node ?? 0);
  const po = a.pageout(m.map);
  const swapped = counts(a.locate(m.map).status);
  st.zswap = { map: m.map, seed, pages };
  const out = swapped.ENOENT ?? 0; // not resident any more
  return { ok: po === 0 && out > 0, ...(out > 0 ? {} : { code: 'NOT_SWAPPED', error: 'no page left memory after MADV_PAGEOUT' }), pages, swappedOut: out, spmNodeFreeBefore: before.memFreeKiB, spmNodeFreeAfter: nodeMemory(st.node ?? 0).memFreeKiB, stored: read('/sys/kernel/debug/zswap/stored_pages'), sub };
}
// Stop: swap the pages back in and verify them, or (swapIn: false) unmap them unread, so the
// kernel invalidates the zswap entries still stored: the path the v2 series leaks on.
function zswapStop(step, st) {
  if (!st.zswap) return { ok: false, code: 'NO_ZSWAP', error: 'run zswap-start first' };
  const a = addon();
  const storedBefore = read('/sys/kernel/debug/zswap/stored_pages');
  const corrupt = step.swapIn === false ? 0 : a.verify(st.zswap.map, FILL_RANDOM, st.zswap.seed);
  a.unmap(st.zswap.map);
  st.zswap = undefined;
  return { ok: corrupt === 0, ...(corrupt ? { code: 'CORRUPT', error: `${corrupt} page(s) came back wrong from zswap` } : {}), swappedIn: step.swapIn !== false, corruptPages: corrupt, storedBefore, stored: read('/sys/kernel/debug/zswap/stored_pages'), node: st.node === undefined ? undefined : nodeMemory(st.node) };
}

// Grow the CXL node's 2 MiB hugetlb pool (bounded: on the v2 series growing an SPM node's pool
// never returns until the writer is killed), read what it got, and put it back to 0.
function hugetlbPool(step, st) {
  if (st.node === undefined) return { ok: false, code: 'NO_REGION', error: 'no CXL node: run create-region first' };
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
}

// What the CXL node has free: MemFree plus its per-cpu free lists (pages a process just freed
// wait there and are not in MemFree); a mark remembers it, a check compares with a mark.
function nodeFree(step, st) {
  if (st.node === undefined) return { ok: false, code: 'NO_REGION', error: 'no CXL node: run create-region first' };
  const m = readAllNodeMeminfo()[st.node] ?? {};
  const now = { node: st.node, memFreeKiB: m.MemFree ?? 0, perCpuFreeKiB: m.PerCpuFree ?? 0, freeKiB: (m.MemFree ?? 0) + (m.PerCpuFree ?? 0), memTotalKiB: m.MemTotal ?? 0 };
  const vmstat = Object.fromEntries((read('/proc/vmstat') ?? '').split('\n').filter((l) => /^zswp(out|in) /.test(l)).map((l) => { const [k, v] = l.split(' '); return [k, Number(v)]; }));
  if (step.mark !== undefined) {
    st.marks[step.mark] = { ...now, vmstat };
    return { ok: true, mark: step.mark, ...now, vmstat };
  }
  const was = st.marks[step.since];
  if (!was) return { ok: false, code: 'NO_MARK', error: `no node-free mark "${step.since}" was made in this guest process` };
  const lossKiB = was.freeKiB - now.freeKiB;
  const max = step.maxLossKiB ?? 256;
  const zswapNet = (vmstat.zswpout ?? 0) - (was.vmstat.zswpout ?? 0) - ((vmstat.zswpin ?? 0) - (was.vmstat.zswpin ?? 0));
  const ok = lossKiB <= max;
  return {
    ok, ...(ok ? {} : { code: 'LEAK', error: `node ${st.node} free ${was.freeKiB} -> ${now.freeKiB} KiB (MemFree + per-cpu lists) since mark "${step.since}": ${lossKiB} KiB not returned (allowed ${max}); zswpout - zswpin since then = ${zswapNet} pages` }),
    since: step.since, before: was, after: { ...now, vmstat }, lossKiB, maxLossKiB: max, zswpoutMinusZswpin: zswapNet,
  };
}

// ---------- host sync (QMP faults) and logs ----------
function sync(step, st, ctx) {
  const token = `${ctx.iteration}-${ctx.index}-${Math.floor(ctx.rand() * 1e9)}`;
  mkdirSync(SYNC_DIR, { recursive: true });
  const file = join(SYNC_DIR, token);
  kmsg(`cxl-harness repro: sync ${token} ${ctx.phase} ${ctx.index} ${ctx.iteration}`);
  const got = waitFor(() => existsSync(file), ctx.syncTimeoutMs, 20);
  if (!got) return { ok: false, code: 'NO_HOST', error: `the host did not answer sync ${token} within ${ctx.syncTimeoutMs} ms` };
  let answer = {};
  try { answer = JSON.parse(readFileSync(file, 'utf8')); } catch { /* empty answer */ }
  rmSync(file, { force: true });
  return { ok: answer.ok !== false, ...(answer.ok === false ? { code: answer.code ?? 'HOST_FAILED', error: answer.error } : {}), host: answer };
}
function bindKmem(step, st) {
  if (!st.dax) return { ok: false, code: 'NO_REGION', error: 'no dax device: run create-region first' };
  const w = write('/sys/bus/dax/drivers/kmem/bind', st.dax);
  return { ...w, ...(w.ok ? {} : { error: `binding ${st.dax} to kmem: ${w.code}` }), dax: st.dax, driver: driverOf(join(DAX, st.dax)), spmNode: read(join(DAX, st.dax, 'spm_node')) };
}
function triggerPoisonList(step, st) {
  const memdevs = ls(CXL).filter((d) => /^mem\d+$/.test(d));
  const tracing = '/sys/kernel/tracing';
  write(join(tracing, 'events/cxl/cxl_poison/enable'), 1);
  write(join(tracing, 'trace'), '');
  const writes = memdevs.map((m) => ({ memdev: m, ...write(join(CXL, m, 'trigger_poison_list'), 1) }));
  const trace = (read(join(tracing, 'trace')) ?? '').split('\n').filter((l) => l.includes('cxl_poison'));
  const ok = writes.some((w) => w.ok);
  return { ok, ...(ok ? {} : { code: writes[0]?.code ?? 'NO_MEMDEV', error: 'trigger_poison_list refused on every memdev' }), writes, poisonRecords: trace.length, trace: trace.slice(0, 20) };
}
function expectLog(step, st, ctx) {
  // The whole log (not run()'s capped copy for the step record): the iteration's marker and
  // what follows it lie far past the first 2000 characters, which held only boot messages, so
  // no pattern was ever found and a `present: false` check passed without looking.
  const text = cxl.run(['dmesg']).stdout ?? '';
  const since = text.lastIndexOf(ctx.marker);
  const lines = text.slice(since < 0 ? 0 : since).split('\n');
  const re = new RegExp(step.pattern);
  const hits = lines.filter((l) => re.test(l));
  const want = step.present !== false;
  const ok = want ? hits.length > 0 : hits.length === 0;
  return { ok, ...(ok ? {} : { code: 'LOG', error: want ? `no kernel log line matches /${step.pattern}/ in this iteration` : `${hits.length} kernel log line(s) match /${step.pattern}/` }), hits: hits.slice(0, 20) };
}

const STEPS = {
  'create-region': createRegion,
  'destroy-region': destroyRegion,
  'offline-memory': offlineMemory,
  'online-memory': onlineMemory,
  hold,
  release,
  'churn-start': churnStart,
  'churn-stop': churnStop,
  'pressure-start': pressureStart,
  'pressure-stop': pressureStop,
  'zswap-start': zswapStart,
  'zswap-stop': zswapStop,
  fault: sync,
  'trigger-poison-list': triggerPoisonList,
  'bind-kmem': bindKmem,
  'expect-log': expectLog,
  'node-free': nodeFree,
  'hugetlb-pool': hugetlbPool,
};

/** Did the step turn out as the scenario expects? `expect`: ok (default), fail, any, or an errno code. */
function meets(result, expect = 'ok') {
  if (expect === 'any') return true;
  if (expect === 'ok') return result.ok;
  if (expect === 'fail') return !result.ok;
  return !result.ok && result.code === expect;
}

async function runStep(step, st, ctx) {
  const t = Date.now();
  let result;
  try {
    result = await STEPS[step.do](step, st, ctx);
  } catch (e) {
    result = { ok: false, code: 'SCRIPT_ERROR', error: e instanceof Error ? e.message : String(e) };
  }
  const passed = meets(result, step.expect);
  return { do: step.do, ...(step.expect ? { expect: step.expect } : {}), passed, ms: Date.now() - t, ...result };
}

async function main() {
  const spec = JSON.parse(readFileSync(0, 'utf8'));
  const { scenario } = spec;
  const f = facts(spec.generation ?? { name: 'unknown', evidence: ['the host passed no kernel generation'] });
  emit({ type: 'facts', ...f });
  const missing = (scenario.requires ?? []).filter((r) => !f.features[r]);
  if (missing.length) {
    const why = missing.includes('spm_node') ? ` (generation ${f.generation}: ${f.evidence.join('; ')})` : missing.includes('dcd') ? ` (no dynamic_ram/dc partition under ${f.memdevs.join(', ') || 'any memdev'})` : '';
    emit({ type: 'skip', reason: `the guest kernel lacks ${missing.join(', ')}${why}` });
    return;
  }
  const st = { holds: [], marks: {} };
  const base = { blockSize: f.blockSize, timeoutMs: spec.stepTimeoutMs ?? 60_000, syncTimeoutMs: spec.syncTimeoutMs ?? 60_000 };
  const phase = async (name, steps, iteration) => {
    const rand = prng((spec.seed ?? 1) * 1_000_003 + iteration);
    const marker = `### cxl-harness step: repro.${scenario.name}.${name}`;
    const records = [];
    for (let index = 0; index < steps.length; index++) {
      const r = await runStep(steps[index], st, { ...base, rand, iteration, index, marker, phase: name });
      records.push(r);
      emit({ type: 'step', phase: name, iteration, index, ...r });
      if (!r.passed) break;
    }
    return records;
  };
  const setup = await phase('setup', scenario.setup ?? [], 0);
  if (setup.some((r) => !r.passed)) {
    emit({ type: 'setup-failed', error: setup.find((r) => !r.passed).error ?? 'a setup step did not turn out as expected' });
    return;
  }
  let failures = 0;
  let ran = 0;
  for (let i = spec.start; i < spec.start + spec.iterations; i++) {
    const name = `iter.${String(i).padStart(3, '0')}`;
    kmsg(`### cxl-harness step: repro.${scenario.name}.${name}`);
    const t = Date.now();
    const rand = prng((spec.seed ?? 1) * 1_000_003 + i);
    const records = [];
    for (let index = 0; index < scenario.steps.length; index++) {
      const r = await runStep(scenario.steps[index], st, { ...base, rand, iteration: i, index, phase: 'iteration', marker: `### cxl-harness step: repro.${scenario.name}.${name}` });
      records.push(r);
      emit({ type: 'step', phase: 'iteration', iteration: i, index, ...r });
      if (spec.crashAt === i && index === 0) {
        // Test aid (--inject-crash-at): a real kernel crash in the middle of an iteration.
        kmsg(`cxl-harness repro: crashing the kernel on purpose at iteration ${i} (--inject-crash-at)`);
        writeFileSync('/proc/sysrq-trigger', 'c');
      }
      if (!r.passed) break;
    }
    const failed = records.find((r) => !r.passed);
    const ms = Date.now() - t;
    ran++;
    if (failed) failures++;
    kmsg(`cxl-harness repro: iter ${String(i).padStart(3, '0')} ${failed ? 'FAIL' : 'ok'} ${ms} ms`);
    emit({ type: 'iteration', iteration: i, ok: !failed, ms, ...(failed ? { failedStep: failed.do, error: failed.error ?? `${failed.do} did not turn out as expected (${failed.expect ?? 'ok'})` } : {}) });
    if (failed) {
      // Leave the next iteration a clean slate: the scenario's cleanup steps, best effort.
      for (const [index, step] of (scenario.cleanup ?? []).entries()) emit({ type: 'cleanup', iteration: i, index, ...(await runStep(step, st, { ...base, rand, iteration: i, index, phase: 'cleanup', marker: '' })) });
      if (spec.stopOnFail) break;
    }
  }
  await phase('teardown', scenario.teardown ?? [], spec.start + spec.iterations);
  emit({ type: 'done', ran, failures });
}

if (!isMainThread) churnWorker();
else if (process.argv[2] === '--pressure-child') pressureChild(Number(process.argv[3]));
else main().then(() => process.exit(0), (e) => { emit({ type: 'error', error: e instanceof Error ? e.stack : String(e) }); process.exit(1); });

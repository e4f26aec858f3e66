#!/usr/bin/env node
// Region -> dax -> kmem flows inside the guest, as one JSON document on stdout.
//   cxl-region.mjs list
//   cxl-region.mjs online  [--memdev memN] [--decoder decoderX.Y] [--method ndctl|sysfs] [--spm 0|1] [--timeout-ms N]
//   cxl-region.mjs offline --region regionN [--timeout-ms N]
// Every step (a command or a sysfs write) is recorded with its result; kernel refusals are
// data (errno code), and the flow stops at the first failing step with ok:false.
// Waits poll sysfs state; there are no fixed sleeps.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const CXL = '/sys/bus/cxl/devices';
const DAX = '/sys/bus/dax/devices';
const NODES = '/sys/devices/system/node';
const steps = [];

function read(path) {
  try { return readFileSync(path, 'utf8').trim(); } catch { return undefined; }
}

function write(path, value) {
  const t = Date.now();
  try {
    writeFileSync(path, String(value));
    steps.push({ write: path, value: String(value), ok: true, ms: Date.now() - t });
    return true;
  } catch (e) {
    steps.push({ write: path, value: String(value), ok: false, code: e.code, errno: -e.errno, ms: Date.now() - t });
    return false;
  }
}

function cmd(argv, { allowFail = false } = {}) {
  const t = Date.now();
  try {
    const stdout = execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    steps.push({ run: argv, ok: true, exitCode: 0, stdout: stdout.slice(0, 4000), ms: Date.now() - t });
    return { ok: true, stdout };
  } catch (e) {
    const step = { run: argv, ok: allowFail, exitCode: e.status ?? null, stdout: String(e.stdout ?? '').slice(0, 4000), stderr: String(e.stderr ?? e.message).slice(0, 4000), ms: Date.now() - t };
    steps.push(step);
    return { ok: false, stdout: step.stdout, stderr: step.stderr };
  }
}

function waitFor(what, predicate, timeoutMs) {
  const t = Date.now();
  for (;;) {
    const v = predicate();
    if (v) { steps.push({ wait: what, ok: true, ms: Date.now() - t }); return v; }
    if (Date.now() - t > timeoutMs) { steps.push({ wait: what, ok: false, ms: Date.now() - t }); return undefined; }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  }
}

function ls(dir) {
  try { return readdirSync(dir); } catch { return []; }
}

function nodeFacts(node) {
  const meminfo = read(join(NODES, `node${node}`, 'meminfo')) ?? '';
  const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(meminfo)?.[1] ?? NaN);
  const blocks = ls(join(NODES, `node${node}`)).filter((e) => /^memory\d+$/.test(e));
  const states = blocks.map((b) => read(join(NODES, `node${node}`, b, 'state')));
  return {
    node,
    exists: existsSync(join(NODES, `node${node}`)),
    memTotalKiB: kb('MemTotal'),
    memFreeKiB: kb('MemFree'),
    blocks: blocks.length,
    onlineBlocks: states.filter((s) => s === 'online').length,
    zones: [...new Set(blocks.map((b) => read(join(NODES, `node${node}`, b, 'valid_zones'))))],
    hasMemory: expandList(read(join(NODES, 'has_memory')) ?? '').includes(node),
  };
}

function expandList(list) {
  const out = [];
  for (const part of list.split(',').filter(Boolean)) {
    const [a, b] = part.split('-').map(Number);
    for (let i = a; i <= (b ?? a); i++) out.push(i);
  }
  return out;
}

function daxOfRegion(region) {
  const dr = ls(join(CXL, region)).find((e) => e.startsWith('dax_region'));
  if (!dr) return undefined;
  return ls(join(CXL, region, dr)).find((e) => /^dax\d+\.\d+$/.test(e));
}

function driverOf(path) {
  try { return basename(realpathSync(join(path, 'driver'))); } catch { return undefined; }
}

function list() {
  const devs = ls(CXL);
  const decoderTargets = (d) => (read(join(CXL, d, 'target_list')) ?? '').split(',').filter(Boolean);
  const memdevs = devs.filter((d) => /^mem\d+$/.test(d)).map((m) => ({ memdev: m, ramSize: Number(read(join(CXL, m, 'ram', 'size')) ?? 0), endpoint: endpointOf(m), serial: read(join(CXL, m, 'serial')) }));
  const rootDecoders = devs.filter((d) => /^decoder0\.\d+$/.test(d)).map((d) => ({ decoder: d, targets: decoderTargets(d), size: Number(read(join(CXL, d, 'size'))), memdevs: memdevsBelow(d) }));
  const regions = devs.filter((d) => /^region\d+$/.test(d)).map((r) => {
    const dax = daxOfRegion(r);
    const node = dax ? Number(read(join(DAX, dax, 'target_node'))) : undefined;
    return { region: r, size: Number(read(join(CXL, r, 'size')) ?? 0), commit: read(join(CXL, r, 'commit')), driver: driverOf(join(CXL, r)), spmNode: read(join(CXL, r, 'spm_node')), dax, daxDriver: dax ? driverOf(join(DAX, dax)) : undefined, node };
  });
  return { memdevs, rootDecoders, regions, hasMemory: read(join(NODES, 'has_memory')), online: read(join(NODES, 'online')), possible: read(join(NODES, 'possible')), blockSize: parseInt(read('/sys/devices/system/memory/block_size_bytes') ?? '0', 16) };
}

function endpointOf(memdev) {
  for (const e of ls(CXL).filter((d) => /^endpoint\d+$/.test(d))) {
    try { if (basename(realpathSync(join(CXL, e, 'uport'))) === memdev) return e; } catch { /* not this one */ }
  }
  return undefined;
}

/** Memdevs a root decoder can reach (through `cxl list -M -d`, which walks the hierarchy). */
function memdevsBelow(decoder) {
  try {
    const out = execFileSync('cxl', ['list', '-M', '-d', decoder], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return (JSON.parse(out || '[]')).map((m) => m.memdev);
  } catch { return []; }
}

function pickTarget(args, facts) {
  // A memdev is free when none of its endpoint decoders holds capacity yet.
  const free = (m) => {
    const ep = facts.memdevs.find((x) => x.memdev === m)?.endpoint;
    return Boolean(ep) && ls(CXL).filter((d) => d.startsWith(`decoder${ep.slice(8)}.`)).every((d) => Number(read(join(CXL, d, 'dpa_size')) ?? 0) === 0);
  };
  let decoder = args.decoder;
  let memdev = args.memdev;
  if (!decoder) decoder = facts.rootDecoders.find((d) => (memdev ? d.memdevs.includes(memdev) : d.memdevs.some(free)))?.decoder;
  if (!memdev) memdev = facts.rootDecoders.find((d) => d.decoder === decoder)?.memdevs.find(free);
  return { decoder, memdev };
}

function onlineNdctl(decoder, memdev) {
  const r = cmd(['cxl', 'create-region', '-m', '-t', 'ram', '-d', decoder, '-w', '1', memdev]);
  if (!r.ok) return undefined;
  try { return JSON.parse(r.stdout).region; } catch { return undefined; }
}

function onlineSysfs(decoder, memdev, spm, facts) {
  const size = facts.memdevs.find((m) => m.memdev === memdev)?.ramSize;
  const endpoint = facts.memdevs.find((m) => m.memdev === memdev)?.endpoint;
  if (!size || !endpoint) { steps.push({ note: `no ram size or endpoint for ${memdev}`, ok: false }); return undefined; }
  const epDecoder = ls(CXL).filter((d) => d.startsWith(`decoder${endpoint.slice(8)}.`)).sort()
    .find((d) => (read(join(CXL, d, 'mode')) === 'none' || read(join(CXL, d, 'mode')) === 'ram') && Number(read(join(CXL, d, 'dpa_size')) ?? 0) === 0);
  if (!epDecoder) { steps.push({ note: `no free endpoint decoder on ${endpoint}`, ok: false }); return undefined; }
  const region = read(join(CXL, decoder, 'create_ram_region'));
  const hex = `0x${size.toString(16)}`;
  const ok = write(join(CXL, decoder, 'create_ram_region'), region)
    && write(join(CXL, region, 'interleave_granularity'), 256)
    && write(join(CXL, region, 'interleave_ways'), 1)
    && write(join(CXL, epDecoder, 'mode'), 'ram')
    && write(join(CXL, epDecoder, 'dpa_size'), hex)
    && write(join(CXL, region, 'size'), hex)
    && write(join(CXL, region, 'target0'), epDecoder)
    && write(join(CXL, region, 'commit'), 1)
    && (spm === undefined || write(join(CXL, region, 'spm_node'), spm))
    && write('/sys/bus/cxl/drivers/cxl_region/bind', region);
  return ok ? region : (existsSync(join(CXL, region)) ? region : undefined);
}

function online(args) {
  const timeout = Number(args['timeout-ms'] ?? 30000);
  const facts = list();
  const { decoder, memdev } = pickTarget(args, facts);
  if (!decoder || !memdev) return { ok: false, error: `no free memdev/root decoder pair (decoder=${decoder}, memdev=${memdev})`, facts };
  const method = args.method ?? 'ndctl';
  const spm = args.spm === undefined ? undefined : String(args.spm);
  const region = method === 'sysfs' ? onlineSysfs(decoder, memdev, spm, facts) : onlineNdctl(decoder, memdev);
  const failed = steps.some((s) => s.ok === false);
  if (!region || failed) return { ok: false, error: 'region creation failed', decoder, memdev, region };
  const dax = waitFor(`dax device of ${region}`, () => daxOfRegion(region), timeout);
  if (!dax) return { ok: false, error: `${region} has no dax device`, decoder, memdev, region };
  let driver = waitFor(`driver bound to ${dax}`, () => driverOf(join(DAX, dax)), timeout);
  if (driver === 'device_dax') {
    cmd(['daxctl', 'reconfigure-device', '--mode=system-ram', dax]);
    driver = driverOf(join(DAX, dax));
  }
  const node = Number(read(join(DAX, dax, 'target_node')));
  const blockSize = facts.blockSize;
  const expectBlocks = blockSize ? Math.floor(Number(read(join(CXL, region, 'size'))) / blockSize) : 0;
  const onlined = driver === 'kmem' && waitFor(`node${node}: ${expectBlocks} blocks online`, () => {
    const f = nodeFacts(node);
    return f.onlineBlocks >= expectBlocks && f.hasMemory ? f : undefined;
  }, timeout);
  return { ok: Boolean(onlined), error: onlined ? undefined : `memory of ${dax} did not come online on node ${node} (driver ${driver})`, decoder, memdev, region, dax, driver, node, spmNode: read(join(DAX, dax, 'spm_node')), nodeFacts: nodeFacts(node) };
}

function offline(args) {
  const timeout = Number(args['timeout-ms'] ?? 30000);
  const region = args.region;
  if (!region || !existsSync(join(CXL, region))) return { ok: false, error: `no region ${region}` };
  const dax = daxOfRegion(region);
  const node = dax ? Number(read(join(DAX, dax, 'target_node'))) : undefined;
  if (dax && driverOf(join(DAX, dax)) === 'kmem') {
    if (!cmd(['daxctl', 'offline-memory', dax]).ok) return { ok: false, error: `offlining ${dax} failed`, region, dax, node, nodeFacts: nodeFacts(node) };
    // daxctl --mode=devdax adds the device to device_dax/new_id; without this the next region binds device_dax.
    write('/sys/bus/dax/drivers/kmem/remove_id', dax) || steps.pop();
    if (!cmd(['daxctl', 'reconfigure-device', '--mode=devdax', dax]).ok) return { ok: false, error: `reconfiguring ${dax} to devdax failed`, region, dax, node };
    write('/sys/bus/dax/drivers/device_dax/remove_id', dax) || steps.pop();
  }
  if (!cmd(['cxl', 'disable-region', region]).ok || !cmd(['cxl', 'destroy-region', region]).ok) return { ok: false, error: `destroying ${region} failed`, region, dax, node };
  const gone = waitFor(`${region} gone`, () => !existsSync(join(CXL, region)), timeout);
  const facts = node === undefined ? undefined : nodeFacts(node);
  const empty = !facts || (!facts.hasMemory && !(facts.memTotalKiB > 0));
  return { ok: Boolean(gone) && empty, error: !gone ? `${region} still exists` : empty ? undefined : `node ${node} still has memory`, region, dax, node, nodeFacts: facts };
}

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) { console.error(`unexpected argument ${a}`); process.exit(2); }
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) { console.error(`${a} needs a value`); process.exit(2); }
    args[a.slice(2)] = v;
    i++;
  }
  return args;
}

const [verb, ...rest] = process.argv.slice(2);
const args = parseArgs(rest);
const t0 = Date.now();
let result;
if (verb === 'list') result = { ok: true, ...list() };
else if (verb === 'online') result = online(args);
else if (verb === 'offline') result = offline(args);
else { console.error('usage: cxl-region.mjs list | online [--memdev M] [--decoder D] [--method ndctl|sysfs] [--spm 0|1] | offline --region R'); process.exit(2); }
console.log(JSON.stringify({ verb, ...result, steps, ms: Date.now() - t0 }));

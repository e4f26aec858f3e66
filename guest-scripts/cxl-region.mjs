#!/usr/bin/env node
// Region -> dax -> kmem flows inside the guest, as one JSON document on stdout.
//   cxl-region.mjs list
//   cxl-region.mjs online  [--memdev memN] [--decoder decoderX.Y] [--method ndctl|sysfs] [--spm 0|1] [--timeout-ms N]
//     (a region takes one free memdev per interleave position of the root decoder; --memdev
//     names one that must be among them)
//   cxl-region.mjs offline --region regionN [--timeout-ms N]
// Every step (a command or a sysfs write) is recorded with its result; kernel refusals are
// data (errno code), and the flow stops at the first failing step with ok:false.
// Waits poll sysfs state; there are no fixed sleeps.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  CXL, DAX, NODES, blockSize, createRegion, daxOfRegion, destroyRegion, driverOf, endpointOf, ls, memdevs, memdevsBelow,
  nodeFacts, onlineMemoryOf, pickTargets, read, rootDecoders, rootGeometry,
} from './lib/cxl.mjs';

const steps = [];

/** A step of the shared flows, in this script's format (command output capped at 4000 characters). */
function record(step) {
  if (step.run) steps.push({ ...step, stdout: step.stdout.slice(0, 4000), ...(step.stderr !== undefined ? { stderr: step.stderr.slice(0, 4000) } : {}) });
  else steps.push(step);
}

function list() {
  return {
    memdevs: memdevs().map((m) => ({ memdev: m, ramSize: Number(read(join(CXL, m, 'ram', 'size')) ?? 0), endpoint: endpointOf(m), serial: read(join(CXL, m, 'serial')) })),
    rootDecoders: rootDecoders().map((d) => ({ decoder: d, ...rootGeometry(d), size: Number(read(join(CXL, d, 'size'))), memdevs: memdevsBelow(d) })),
    regions: ls(CXL).filter((d) => /^region\d+$/.test(d)).map((r) => {
      const dax = daxOfRegion(r);
      const node = dax ? Number(read(join(DAX, dax, 'target_node'))) : undefined;
      return { region: r, size: Number(read(join(CXL, r, 'size')) ?? 0), commit: read(join(CXL, r, 'commit')), driver: driverOf(join(CXL, r)), spmNode: read(join(CXL, r, 'spm_node')), dax, daxDriver: dax ? driverOf(join(DAX, dax)) : undefined, node };
    }),
    hasMemory: read(join(NODES, 'has_memory')), online: read(join(NODES, 'online')), possible: read(join(NODES, 'possible')), blockSize: blockSize(),
  };
}

function online(args) {
  const timeout = Number(args['timeout-ms'] ?? 30000);
  const { decoder, memdevs: targets } = pickTargets({ decoder: args.decoder, memdev: args.memdev });
  if (!decoder || !targets.length) return { ok: false, error: `no root decoder with a free memdev for each of its interleave positions (decoder=${args.decoder ?? 'any'}, memdev=${args.memdev ?? 'any'})`, facts: list() };
  const method = args.method ?? 'ndctl';
  const spm = args.spm === undefined ? undefined : String(args.spm);
  const { region } = createRegion({ decoder, memdevs: targets, method, spm }, record);
  if (!region || steps.some((s) => s.ok === false)) return { ok: false, error: 'region creation failed', decoder, memdevs: targets, region };
  const on = onlineMemoryOf(region, { timeoutMs: timeout, reconfigure: true }, record);
  if (!on.dax) return { ok: false, error: on.error, decoder, memdevs: targets, region };
  return { ok: on.ok, error: on.error, decoder, memdevs: targets, region, dax: on.dax, driver: on.driver, node: on.node, spmNode: read(join(DAX, on.dax, 'spm_node')), nodeFacts: nodeFacts(on.node) };
}

function offline(args) {
  const timeout = Number(args['timeout-ms'] ?? 30000);
  const region = args.region;
  if (!region || !existsSync(join(CXL, region))) return { ok: false, error: `no region ${region}` };
  const r = destroyRegion(region, { offline: 'daxctl', timeoutMs: timeout }, record);
  return { ok: r.ok, error: r.error, region, dax: r.dax, node: r.node, nodeFacts: r.nodeFacts };
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

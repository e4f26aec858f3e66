/**
 * Persistent memory on a CXL device, inside the guest: its label storage area read, zeroed and
 * written back; a pmem region, its nvdimm region, a devdax namespace and that memory online as
 * system RAM; and all of it taken down again, in the one order that frees the memory (ndctl #210:
 * a pmem region disabled with its memory online leaks it until reboot). The suite's checks and
 * the repro loop's steps both run these.
 *
 * The cxl region, the nd region, its namespace and its dax device share one number N
 * (nd_region_create keeps the memregion id of a CXL region): regionN, namespaceN.0, daxN.0.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CXL, DAX, blockSize, complaint, driverOf, ls, read, run, waitRecorded, type FlowResult, type Recorder } from './io.js';
import { cxlCreateRegion, offlineDax, onlineDax, removeRegion } from './flows.js';
import { nodeEmpty, nodeFacts, type NodeFacts } from './nodes.js';
import { memdevs, memdevsBelow, rootDecoders, rootGeometry } from './topology.js';

export const ND = '/sys/bus/nd/devices';

export interface PmemDevice {
  memdev: string;
  /** Bytes of persistent capacity (memX/pmem/size). */
  pmemSize: number;
  /** Bytes of label storage (memX/label_storage_size). */
  lsaSize: number;
  serial?: string;
  /** Its cxl_nvdimm device (memX/pmemY), when that driver is bound: it made the device's nvdimm. */
  cxlNvdimm?: string;
  /** That nvdimm on the nd bus (nmemK), where the kernel names its provider (nmemK/cxl/provider; not on 6.1). */
  nvdimm?: string;
}

/** Every memdev with persistent capacity. */
export function pmemDevices(): PmemDevice[] {
  return memdevs().flatMap((memdev) => {
    const pmemSize = Number(read(join(CXL, memdev, 'pmem', 'size')) ?? 0);
    if (!(pmemSize > 0)) return [];
    // Its cxl_nvdimm (memX/pmemY) makes an nmemK on the bridge's nd bus, whose cxl/provider names pmemY.
    const bridge = ls(join(CXL, memdev)).find((e) => /^pmem\d+$/.test(e));
    const cxlNvdimm = bridge && driverOf(join(CXL, memdev, bridge)) === 'cxl_nvdimm' ? bridge : undefined;
    const nvdimm = bridge ? ls(ND).find((n) => /^nmem\d+$/.test(n) && read(join(ND, n, 'cxl', 'provider')) === bridge) : undefined;
    const serial = read(join(CXL, memdev, 'serial'));
    return [{ memdev, pmemSize, lsaSize: Number(read(join(CXL, memdev, 'label_storage_size')) ?? 0), ...(serial ? { serial } : {}), ...(cxlNvdimm ? { cxlNvdimm } : {}), ...(nvdimm ? { nvdimm } : {}) }];
  });
}

/** The labels' share of the area a round trip covers: the two index blocks and the first labels. */
export const LABEL_BYTES = 64 * 1024;

const sha256 = (path: string): string | undefined => (existsSync(path) ? createHash('sha256').update(readFileSync(path)).digest('hex') : undefined);
const allZero = (path: string): boolean => existsSync(path) && readFileSync(path).every((b) => b === 0);

export interface LabelRoundTrip extends FlowResult {
  memdev: string;
  bytes?: number;
  /** sha256 of the labels as read first, after zero-labels (all zero?) and after writing the first read back. */
  first?: string;
  zeroed?: boolean;
  restored?: string;
}

/**
 * The label storage area through cxl-cli: read it, zero it, read it (all zero), write the first
 * read back, read it (the same bytes). Writing needs the memdev disabled (while its nvdimm is
 * bound, libcxl refuses: "has active nvdimm bridge"); it is enabled again at the end, whatever
 * happened, and its nvdimm must come back.
 */
export function labelRoundTrip(memdev: string, timeoutMs: number, record: Recorder): LabelRoundTrip {
  const dir = '/run/cxlh-labels';
  // The first LABEL_BYTES only: every label access is a mailbox command that moves a few KiB, and
  // under TCG a whole 1 MiB area took 20 s each way (three reads, a zero and a write: 61 s).
  const size = ['-s', String(LABEL_BYTES)];
  run(['mkdir', '-p', dir]);
  const file = (n: string): string => join(dir, `${memdev}-${n}.bin`);
  const readTo = (n: string): boolean => {
    const r = run(['cxl', 'read-labels', memdev, ...size, '-o', file(n)], timeoutMs);
    record(r);
    return r.ok;
  };
  const at = { memdev };
  try {
    if (!readTo('first')) return { ok: false, code: 'READ_FAILED', error: `cxl read-labels ${memdev} failed`, ...at };
    const bytes = readFileSync(file('first')).length;
    const first = sha256(file('first'))!;
    const disable = run(['cxl', 'disable-memdev', memdev], timeoutMs);
    record(disable);
    if (!disable.ok) return { ok: false, code: 'DISABLE_FAILED', error: `cxl disable-memdev ${memdev} failed: ${complaint(disable.stderr, 'first')}`, ...at, bytes, first };
    const zero = run(['cxl', 'zero-labels', memdev, ...size], timeoutMs);
    record(zero);
    if (!zero.ok) return { ok: false, code: 'ZERO_FAILED', error: `cxl zero-labels ${memdev} failed: ${complaint(zero.stderr, 'first')}`, ...at, bytes, first };
    if (!readTo('zeroed')) return { ok: false, code: 'READ_FAILED', error: `cxl read-labels ${memdev} after zero-labels failed`, ...at, bytes, first };
    const zeroed = allZero(file('zeroed'));
    const write = run(['cxl', 'write-labels', memdev, ...size, '-i', file('first')], timeoutMs);
    record(write);
    if (!write.ok) return { ok: false, code: 'WRITE_FAILED', error: `cxl write-labels ${memdev} failed: ${complaint(write.stderr, 'first')}`, ...at, bytes, first, zeroed };
    if (!readTo('restored')) return { ok: false, code: 'READ_FAILED', error: `cxl read-labels ${memdev} after write-labels failed`, ...at, bytes, first, zeroed };
    const restored = sha256(file('restored'))!;
    return { ok: zeroed && restored === first, ...(zeroed && restored === first ? {} : { code: 'MISMATCH', error: !zeroed ? 'the labels read after zero-labels are not all zero' : 'the labels read after write-labels differ from those written' }), ...at, bytes, first, zeroed, restored };
  } finally {
    if (!driverOf(join(CXL, memdev))) record(run(['cxl', 'enable-memdev', memdev], timeoutMs));
    waitRecorded(record, `${memdev}'s nvdimm back`, () => pmemDevices().find((d) => d.memdev === memdev)?.cxlNvdimm, timeoutMs);
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface PmemOnline extends FlowResult {
  memdev?: string;
  decoder?: string;
  /** The CXL region, the nd region, the namespace and the dax device (regionN, regionN, namespaceN.0, daxN.0). */
  region?: string;
  ndRegion?: string;
  namespace?: string;
  dax?: string;
  driver?: string;
  node?: number;
  /** Its memory blocks, once online. */
  blocks?: number[];
  nodeFacts?: NodeFacts;
  /** The memory block size: a node of pmem memory holds whole blocks only. */
  blockSize?: number;
}

/** A 1-way root decoder that can hold persistent memory and reaches the memdev. */
function pmemDecoderFor(memdev: string): string | undefined {
  return rootDecoders().find((d) => read(join(CXL, d, 'cap_pmem')) === '1' && rootGeometry(d).ways === 1 && memdevsBelow(d).includes(memdev));
}

/**
 * A pmem region of one memdev (`cxl create-region -t pmem`), its nvdimm region, a devdax
 * namespace on it (`ndctl create-namespace -m devdax`) and that memory online as system RAM
 * (`daxctl reconfigure-device -m system-ram --no-online --force`: the kernel's own policy,
 * online_movable on the harness's command line, onlines it).
 */
export function onlinePmem({ memdev: wanted, timeoutMs }: { memdev?: string; timeoutMs: number }, record: Recorder): PmemOnline {
  const device = pmemDevices().find((d) => (wanted ? d.memdev === wanted : true));
  if (!device) return { ok: false, code: 'NO_PMEM_DEVICE', error: wanted ? `${wanted} has no persistent capacity` : 'no memdev has persistent capacity' };
  const { memdev } = device;
  const decoder = pmemDecoderFor(memdev);
  if (!decoder) return { ok: false, code: 'NO_DECODER', error: `no 1-way root decoder with cap_pmem reaches ${memdev}`, memdev };
  const created = cxlCreateRegion({ type: 'pmem', decoder, memdevs: [memdev], timeoutMs }, record);
  if (!created.ok) return { ...created, memdev, decoder };
  const { region } = created;
  const at = { memdev, decoder, region };
  const ndRegion = waitRecorded(record, `nvdimm region of ${region}`, () => (existsSync(join(ND, region!)) ? region : undefined), timeoutMs);
  if (!ndRegion) return { ok: false, code: 'NO_ND_REGION', error: `${region} got no nvdimm region (on 6.15 and later a device without a serial number gets none: "invalid or missing serial number" in the kernel log)`, ...at };
  const ns = run(['ndctl', 'create-namespace', '-r', ndRegion, '-m', 'devdax'], timeoutMs);
  record(ns);
  let namespace: string | undefined;
  let dax: string | undefined;
  try {
    const j = JSON.parse(ns.stdout) as { dev?: string; daxregion?: { devices?: { chardev?: string }[] } };
    namespace = j.dev;
    dax = j.daxregion?.devices?.[0]?.chardev;
  } catch {
    // below
  }
  if (!ns.ok || !namespace || !dax) return { ok: false, code: 'NAMESPACE_FAILED', error: `ndctl create-namespace -r ${ndRegion} -m devdax failed: ${complaint(ns.stderr)}`, ...at, ndRegion };
  const on = { ...at, ndRegion, namespace, dax };
  // daxctl aborts against a kernel that will online the memory itself ("kernel policy will
  // auto-online memory") unless forced; --no-online leaves the onlining to that policy.
  const re = run(['daxctl', 'reconfigure-device', '--mode=system-ram', '--no-online', '--force', dax], timeoutMs);
  record(re);
  if (!re.ok) return { ok: false, code: 'SYSTEM_RAM_FAILED', error: `daxctl reconfigure-device --mode=system-ram ${dax} failed: ${complaint(re.stderr)}`, ...on };
  const mem = onlineDax(dax, { timeoutMs }, record);
  return {
    ok: mem.ok, ...(mem.ok ? {} : { code: mem.code, error: mem.error }), ...on,
    ...(mem.driver ? { driver: mem.driver } : {}), ...(mem.ok && mem.blocks ? { blocks: mem.blocks } : {}), ...(mem.node !== undefined ? { node: mem.node, nodeFacts: nodeFacts(mem.node) } : {}), blockSize: blockSize(),
  };
}

export interface PmemGone extends FlowResult {
  region: string;
  node?: number;
  nodeFacts?: NodeFacts;
  /** What is still there of the region's objects after the teardown (none when all went). */
  left: string[];
}

/** A pmem region's namespaces that hold capacity (an nd region keeps an empty seed namespace). */
function namespacesOf(region: string): string[] {
  const n = region.replace(/^region/, '');
  return ls(ND).filter((d) => d.startsWith(`namespace${n}.`) && Number(read(join(ND, d, 'size')) ?? 0) > 0);
}

/** What exists of a pmem region's objects: the CXL region, the nd region, namespaces, the dax device. */
export function pmemObjects(region: string): string[] {
  const n = region.replace(/^region/, '');
  return [
    join(CXL, region), join(ND, region),
    ...namespacesOf(region).map((d) => join(ND, d)),
    ...ls(DAX).filter((d) => d.startsWith(`dax${n}.`)).map((d) => join(DAX, d)),
  ].filter((p) => existsSync(p));
}

/**
 * Take it all down in the order that frees the memory: the dax device's memory offline and the
 * device back to devdax, the namespace destroyed (`ndctl destroy-namespace -f`), then the region
 * disabled and destroyed; nothing of it may be left and its node must have no memory.
 */
export function offlinePmem({ region, timeoutMs }: { region: string; timeoutMs: number }, record: Recorder): PmemGone {
  const n = region.replace(/^region/, '');
  const dax = ls(DAX).find((d) => d.startsWith(`dax${n}.`));
  const node = dax ? Number(read(join(DAX, dax, 'target_node'))) : undefined;
  const at = { region, ...(node !== undefined ? { node } : {}) };
  const done = (r: FlowResult): PmemGone => {
    const facts = node === undefined ? undefined : nodeFacts(node);
    return { ...r, ...at, ...(facts ? { nodeFacts: facts } : {}), left: pmemObjects(region) };
  };
  if (dax) {
    const off = offlineDax(dax, { timeoutMs, blockSize: blockSize() }, record);
    if (!off.ok) return done(off);
  }
  for (const ns of namespacesOf(region)) {
    const r = run(['ndctl', 'destroy-namespace', '-f', ns], timeoutMs);
    record(r);
    if (!r.ok) return done({ ok: false, code: 'NAMESPACE_DESTROY_FAILED', error: `ndctl destroy-namespace -f ${ns} failed: ${complaint(r.stderr)}` });
  }
  const removed = removeRegion(region, { timeoutMs }, record);
  if (!removed.ok) return done(removed);
  const gone = done({ ok: true });
  const empty = nodeEmpty(gone.nodeFacts);
  const ok = gone.left.length === 0 && empty;
  return { ...gone, ok, ...(ok ? {} : { code: 'NOT_GONE', error: gone.left.length ? `still there: ${gone.left.join(', ')}` : `node ${node} still has memory` }) };
}

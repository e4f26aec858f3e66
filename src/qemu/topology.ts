/**
 * CXL topologies as data: the JSON files in qemu/ (or a user's file) are parsed and
 * validated here into a Topology. Every error names the file, the field and what is allowed.
 */
import { join } from 'node:path';
import { CXL_WAYS, pickRegion } from '../contract/region-position.js';
import { packageRoot } from '../paths.js';
import { FieldError, builtinNames, loadJsonInput, validateJsonInput, type JsonInputKind, arr, str, int, oneOf } from '../fields.js';

export interface Type3Device {
  id: string;
  /**
   * volatile: a plain Type-3 RAM device; dcd: volatile dynamic-capacity device; persistent: a
   * persistent-memory device with its label storage area (booted and enumerated; no suite
   * onlines it yet, and regions take volatile devices only).
   */
  kind: 'volatile' | 'dcd' | 'persistent';
  sizeMiB: number;
  /** Dynamic capacity regions (dcd only). */
  dcRegions?: number;
  /** Label storage area size (persistent only). */
  lsaMiB?: number;
}

/**
 * A PCIe port: its QEMU id, its port number (the kernel's dport id, unique among its
 * siblings) and its (chassis, slot) pair, which QEMU wants unique machine-wide.
 */
export interface PortSlot {
  id: string;
  port: number;
  chassis: number;
  slot: number;
}

/** A root port with a Type-3 device attached to it. */
export interface RootPort extends PortSlot {
  device: Type3Device;
}

/** A switch downstream port (`cxl-downstream`), with a Type-3 device or with nothing. */
export interface DownstreamPort extends PortSlot {
  device?: Type3Device;
}

/** A CXL switch on a root port: its upstream port, its downstream ports, optionally its mailbox CCI. */
export interface CxlSwitch {
  /** The root port (`cxl-rp`) the switch's upstream port is attached to. */
  rootPort: PortSlot;
  /** `cxl-upstream`: its id (the bus of the downstream ports), its port number (one numbering with the downstream ports), its serial number. */
  upstream: { id: string; port: number; sn?: number };
  /** `cxl-switch-mailbox-cci`: function 1 beside the upstream port (function 0), targeting it. */
  mailboxCci?: { id: string };
  downstreamPorts: DownstreamPort[];
}

/**
 * A `pxb-cxl` host bridge. QEMU creates its root ports in the order rootPorts, switches,
 * emptyRootPorts (argv.ts), which is their bus order and so the order regions use them in.
 */
export interface HostBridge {
  id: string;
  busNr: number;
  /** Root ports with a device attached. */
  rootPorts: RootPort[];
  /** Root ports with a switch below. */
  switches: CxlSwitch[];
  /** Root ports with nothing below (the CXL developers' QEMU runner has them). */
  emptyRootPorts: PortSlot[];
}

export interface FixedWindow {
  /** Host bridge ids this window interleaves across (1 = no interleave). */
  targets: string[];
  sizeMiB: number;
  /** Interleave granularity in bytes (256..16384, power of two). */
  granularity?: number;
}

export interface Topology {
  name: string;
  description: string;
  /** Where it was read from. */
  file: string;
  ramMiB: number;
  cpus: number;
  /**
   * NUMA nodes the RAM and CPUs are split across (default 1: node 0 holds them all). The CXL
   * windows' nodes come after them. cxl_test puts its mock devices on nodes 0 and 1 and oopses
   * allocating on a node that does not exist: its topology (cxl-test) has 2.
   */
  ramNodes: number;
  hostBridges: HostBridge[];
  windows: FixedWindow[];
}

const TOPOLOGY_DIR = join(packageRoot, 'qemu');

const TOPOLOGIES: JsonInputKind<Topology> = {
  noun: 'topology',
  dir: TOPOLOGY_DIR,
  pathHint: 'a path to a topology JSON file',
  fieldHint: `fix that field; the presets in ${TOPOLOGY_DIR} show the format (qemu/README.md describes every field)`,
  validate: (data, file) => parse(data, file),
};

/**
 * The devices the guest's region flow (src/agent/cxl/ pickTargets) gives a region on window
 * `index`, in position order, leaving out the devices in `used`: the same rule (pickRegion) on
 * the same tree, the window's host bridges, their root ports in bus order, the volatile devices
 * below each (on the port, or below its switch's downstream ports). Empty when none fits.
 */
export function regionDevices(topology: Pick<Topology, 'hostBridges' | 'windows'>, index = 0, used: ReadonlySet<string> = new Set()): Type3Device[] {
  const w = topology.windows[index];
  if (!w) return [];
  const usable = (d: Type3Device): boolean => d.kind === 'volatile' && !used.has(d.id);
  return pickRegion(w.targets.map((id) => {
    const hb = topology.hostBridges.find((b) => b.id === id);
    return hb ? devicesByRootPort(hb).map((devices) => devices.filter(usable)) : [];
  }));
}

/** Every Type-3 device of a topology, in bus order. */
export function topologyDevices(topology: Pick<Topology, 'hostBridges'>): Type3Device[] {
  return topology.hostBridges.flatMap((hb) => devicesByRootPort(hb).flat());
}

/** The devices below each root port of a host bridge, in bus order (empty root ports, last, hold none). */
function devicesByRootPort(hb: HostBridge): Type3Device[][] {
  return [
    ...hb.rootPorts.map((rp) => [rp.device]),
    ...hb.switches.map((s) => s.downstreamPorts.flatMap((d) => (d.device ? [d.device] : []))),
  ];
}

/** The memory of a region on window `index`: its devices, each giving as much as the smallest of them. 0 when there is none. */
export function regionSizeMiB(topology: Topology, index = 0): number {
  const devices = regionDevices(topology, index);
  return devices.length === 0 ? 0 : devices.length * Math.min(...devices.map((d) => d.sizeMiB));
}

/**
 * How many regions the guest's region flow can make, one after the other: windows in order,
 * each region taking its devices (regionDevices) from those not used yet (a device serves one
 * region only).
 */
export function regionCapacity(topology: Topology): number {
  const used = new Set<string>();
  let regions = 0;
  topology.windows.forEach((_, i) => {
    for (;;) {
      const devices = regionDevices(topology, i, used);
      if (devices.length === 0) break;
      for (const d of devices) used.add(d.id);
      regions++;
    }
  });
  return regions;
}

export function builtinTopologies(): string[] {
  return builtinNames(TOPOLOGY_DIR);
}

/** Load a topology by built-in name (qemu/NAME.json) or by path to a JSON file. */
export function loadTopology(nameOrPath: string): Topology {
  return loadJsonInput(TOPOLOGIES, nameOrPath);
}

/** Validate parsed JSON into a Topology. Pure; throws HarnessError naming file and field. */
export function parseTopology(data: unknown, file: string): Topology {
  return validateJsonInput(TOPOLOGIES, data, file);
}

function parse(data: unknown, file: string): Topology {
  const o = obj(data, '(top level)', ['name', 'description', 'ramMiB', 'cpus', 'ramNodes', 'hostBridges', 'windows']);
  const c = claims();
  const busNrs = new Set<number>();
  // None at all is a machine without CXL hardware (qemu/cxl-test.json: cxl_test mocks its own).
  const hostBridges = arr(o.hostBridges, 'hostBridges', 0).map((hbv, i): HostBridge => {
    const hb = hostBridge(hbv, i, c);
    if (busNrs.has(hb.busNr)) throw new FieldError(`hostBridges[${i}].busNr ${hb.busNr} is used by another host bridge`);
    busNrs.add(hb.busNr);
    return hb;
  });
  const bridgeIds = new Set(hostBridges.map((h) => h.id));
  const windows = arr(o.windows, 'windows', hostBridges.length ? 1 : 0).map((wv, i) => fixedWindow(wv, `windows[${i}]`, bridgeIds));
  checkBuses(hostBridges);
  // The region flow gives a region one whole device per interleave position: the window must
  // hold them all at the largest one's size, or every region made on it fails at create time.
  windows.forEach((w, i) => {
    const devices = regionDevices({ hostBridges, windows }, i);
    if (devices.length === 0) return;
    const largest = Math.max(...devices.map((d) => d.sizeMiB));
    const need = devices.length * largest;
    if (w.sizeMiB < need) {
      throw new FieldError(`windows[${i}].sizeMiB ${w.sizeMiB} is smaller than a region on it: ${devices.length} way(s) x ${largest} MiB (${devices.map((d) => d.id).join(', ')} below ${w.targets.join(', ')}) = ${need} MiB; make it at least ${need}`);
    }
  });
  const ramMiB = int(o.ramMiB ?? 2048, 'ramMiB', 512, 64 * 1024);
  const cpus = int(o.cpus ?? 2, 'cpus', 1, 64);
  // Each RAM node gets an equal share of the RAM and a socket of its own with an equal share of the CPUs (CPUs of one socket on two nodes make the kernel WARN at boot).
  const ramNodes = int(o.ramNodes ?? 1, 'ramNodes', 1, 8);
  if (ramMiB % ramNodes !== 0 || cpus % ramNodes !== 0) throw new FieldError(`ramNodes ${ramNodes} must divide ramMiB ${ramMiB} and cpus ${cpus} (each node gets an equal share and a socket of its own)`);
  const description = o.description === undefined ? '' : str(o.description, 'description');
  return { name: str(o.name, 'name'), description, file, ramMiB, cpus, ramNodes, hostBridges, windows };
}

/** What the parts of one file share: every id is used once, and every (chassis, slot) pair (PCIe wants them distinct machine-wide). */
interface Claims {
  id(v: unknown, field: string): string;
  slot(port: PortSlot, field: string): void;
}

function claims(): Claims {
  const ids = new Set<string>();
  const slots = new Map<string, string>();
  return {
    id(v, field) {
      const id = str(v, field);
      if (!/^[A-Za-z][A-Za-z0-9_.-]*$/.test(id)) throw new FieldError(`${field} must start with a letter and hold only letters, digits, _ . - (got "${id}")`);
      if (ids.has(id)) throw new FieldError(`${field}: id "${id}" is used twice`);
      ids.add(id);
      return id;
    },
    slot(port, field) {
      const key = `${port.chassis}/${port.slot}`;
      const other = slots.get(key);
      if (other !== undefined) throw new FieldError(`${field} uses chassis ${port.chassis} slot ${port.slot}, already used by ${other}; every root port and switch downstream port needs its own (chassis, slot) pair`);
      slots.set(key, field);
    },
  };
}

const PORT_FIELDS = ['id', 'port', 'chassis', 'slot'] as const;

/**
 * A host bridge. Its root ports, in bus order (rootPorts, switches, emptyRootPorts), default
 * to port n, chassis = the bridge's index, slot n + 2; its switches' downstream ports to port
 * k of their switch, the same chassis, and the slots after the root ports' in turn.
 */
function hostBridge(hbv: unknown, i: number, c: Claims): HostBridge {
  const f = `hostBridges[${i}]`;
  const hb = obj(hbv, f, ['id', 'busNr', 'rootPorts', 'switches', 'emptyRootPorts']);
  const busNr = int(hb.busNr, `${f}.busNr`, 1, 254);
  const id = c.id(hb.id, `${f}.id`);
  const lists = {
    rootPorts: arr(hb.rootPorts ?? [], `${f}.rootPorts`, 0),
    switches: arr(hb.switches ?? [], `${f}.switches`, 0),
    emptyRootPorts: arr(hb.emptyRootPorts ?? [], `${f}.emptyRootPorts`, 0),
  };
  const count = lists.rootPorts.length + lists.switches.length + lists.emptyRootPorts.length;
  if (count === 0) throw new FieldError(`${f} has no root port; give it at least one in rootPorts (a device each), switches or emptyRootPorts`);
  const at = (n: number): Omit<PortSlot, 'id'> => ({ port: n, chassis: i, slot: n + 2 });
  const named: [PortSlot, string][] = [];
  const rootPorts = lists.rootPorts.map((v, j) => {
    const g = `${f}.rootPorts[${j}]`;
    const rp = obj(v, g, [...PORT_FIELDS, 'device']);
    const device = type3Device(rp.device, `${g}.device`, c);
    const port: RootPort = { ...portSlot(rp, g, at(j), c), device };
    named.push([port, g]);
    return port;
  });
  let nextSlot = count + 2;
  const switches = lists.switches.map((v, k) => {
    const g = `${f}.switches[${k}]`;
    const s = cxlSwitch(v, g, at(rootPorts.length + k), { chassis: i, slot: nextSlot }, c);
    nextSlot += s.downstreamPorts.length;
    named.push([s.rootPort, `${g}.rootPort`]);
    return s;
  });
  const emptyRootPorts = lists.emptyRootPorts.map((v, e) => {
    const g = `${f}.emptyRootPorts[${e}]`;
    const port = portSlot(obj(v, g, PORT_FIELDS), g, at(rootPorts.length + switches.length + e), c);
    named.push([port, g]);
    return port;
  });
  uniquePorts(named, `host bridge ${id}`);
  return { id, busNr, rootPorts, switches, emptyRootPorts };
}

/** A switch: its root port (defaults `rootAt`), upstream port, mailbox CCI, and downstream ports (chassis and first slot from `downstreamAt`). */
function cxlSwitch(sv: unknown, f: string, rootAt: Omit<PortSlot, 'id'>, downstreamAt: { chassis: number; slot: number }, c: Claims): CxlSwitch {
  const s = obj(sv, f, ['rootPort', 'upstream', 'mailboxCci', 'downstreamPorts']);
  const rootPort = portSlot(obj(s.rootPort, `${f}.rootPort`, PORT_FIELDS), `${f}.rootPort`, rootAt, c);
  const up = obj(s.upstream, `${f}.upstream`, ['id', 'port', 'sn']);
  const upId = c.id(up.id, `${f}.upstream.id`);
  const mailboxCci = s.mailboxCci === undefined ? undefined : { id: c.id(obj(s.mailboxCci, `${f}.mailboxCci`, ['id']).id, `${f}.mailboxCci.id`) };
  const downstreamPorts = arr(s.downstreamPorts, `${f}.downstreamPorts`, 1).map((dv, k): DownstreamPort => {
    const g = `${f}.downstreamPorts[${k}]`;
    const d = obj(dv, g, [...PORT_FIELDS, 'device']);
    const device = d.device === undefined ? undefined : type3Device(d.device, `${g}.device`, c);
    return { ...portSlot(d, g, { port: k, chassis: downstreamAt.chassis, slot: downstreamAt.slot + k }, c), ...(device ? { device } : {}) };
  });
  uniquePorts(downstreamPorts.map((d, k) => [d, `${f}.downstreamPorts[${k}]`]), `switch ${upId}`);
  const upPort = int(up.port ?? Math.max(...downstreamPorts.map((d) => d.port)) + 1, `${f}.upstream.port`, 0, 255);
  const clash = downstreamPorts.find((d) => d.port === upPort);
  if (clash) throw new FieldError(`${f}.upstream.port ${upPort} is also the port of downstream port ${clash.id}; a switch numbers its upstream and downstream ports together, so give it another`);
  const upstream = { id: upId, port: upPort, ...(up.sn === undefined ? {} : { sn: int(up.sn, `${f}.upstream.sn`, 0, Number.MAX_SAFE_INTEGER) }) };
  return { rootPort, upstream, ...(mailboxCci ? { mailboxCci } : {}), downstreamPorts };
}

/** A port's id, number and (chassis, slot), each defaulting to `at`. */
function portSlot(p: Record<string, unknown>, f: string, at: Omit<PortSlot, 'id'>, c: Claims): PortSlot {
  const port: PortSlot = {
    id: c.id(p.id, `${f}.id`),
    port: int(p.port ?? at.port, `${f}.port`, 0, 255),
    chassis: int(p.chassis ?? at.chassis, `${f}.chassis`, 0, 255),
    slot: int(p.slot ?? at.slot, `${f}.slot`, 0, 255),
  };
  c.slot(port, f);
  return port;
}

/** Sibling ports need distinct port numbers: the kernel names its dports by them. */
function uniquePorts(ports: readonly [PortSlot, string][], where: string): void {
  const seen = new Map<number, string>();
  for (const [p, field] of ports) {
    const other = seen.get(p.port);
    if (other !== undefined) throw new FieldError(`${field}.port ${p.port} is used twice on ${where} (also by ${other}); ports must differ`);
    seen.set(p.port, field);
  }
}

function type3Device(dv: unknown, f: string, c: Claims): Type3Device {
  const d = obj(dv, f, ['id', 'kind', 'sizeMiB', 'dcRegions', 'lsaMiB']);
  const kind = oneOf(d.kind ?? 'volatile', `${f}.kind`, ['volatile', 'dcd', 'persistent'] as const);
  const device: Type3Device = { id: c.id(d.id, `${f}.id`), kind, sizeMiB: int(d.sizeMiB, `${f}.sizeMiB`, 256, 64 * 1024, 256) };
  if (kind === 'dcd') device.dcRegions = int(d.dcRegions ?? 1, `${f}.dcRegions`, 1, 8);
  else if (d.dcRegions !== undefined) throw new FieldError(`${f}.dcRegions is only allowed with kind "dcd"`);
  if (kind === 'persistent') device.lsaMiB = int(d.lsaMiB ?? 1, `${f}.lsaMiB`, 1, 256);
  else if (d.lsaMiB !== undefined) throw new FieldError(`${f}.lsaMiB is only allowed with kind "persistent"`);
  return device;
}

/**
 * The PCI buses a host bridge's root ports take: one each, and below a switch one more for its
 * internal bus and one per downstream port.
 */
function busesBelow(hb: HostBridge): { count: number; what: string } {
  const roots = hb.rootPorts.length + hb.switches.length + hb.emptyRootPorts.length;
  const switchBuses = hb.switches.reduce((n, s) => n + 1 + s.downstreamPorts.length, 0);
  return { count: roots + switchBuses, what: `${roots} root port(s)${switchBuses ? ` and ${switchBuses} switch bus(es) (each switch's internal bus and one per downstream port)` : ''}` };
}

/**
 * QEMU numbers the buses below a host bridge from its busNr (busesBelow). A bridge whose
 * numbers run into the next one's leaves the guest's enumeration without a bus for a port, and
 * its device never appears.
 */
function checkBuses(hostBridges: readonly HostBridge[]): void {
  const byBus = [...hostBridges].sort((a, b) => a.busNr - b.busNr);
  byBus.forEach((hb, k) => {
    const { count, what } = busesBelow(hb);
    const last = hb.busNr + count;
    const field = `hostBridges[${hostBridges.indexOf(hb)}].busNr`;
    if (last > 255) throw new FieldError(`${field} ${hb.busNr} leaves no bus numbers for the ${what} of ${hb.id} (they need ${hb.busNr + 1}-${last}, the last bus is 255); use a busNr of at most ${255 - count}`);
    const next = byBus[k + 1];
    if (next && last >= next.busNr) {
      throw new FieldError(`${field} ${hb.busNr}: host bridge ${hb.id} needs buses ${hb.busNr}-${last} for itself and its ${what}, but ${next.id} starts at bus ${next.busNr}; move ${next.id} to busNr ${last + 1} or above`);
    }
  });
}

function fixedWindow(wv: unknown, f: string, bridgeIds: ReadonlySet<string>): FixedWindow {
  const w = obj(wv, f, ['targets', 'sizeMiB', 'granularity']);
  const targets = arr(w.targets, `${f}.targets`, 1).map((t, k) => {
    const id = str(t, `${f}.targets[${k}]`);
    if (!bridgeIds.has(id)) throw new FieldError(`${f}.targets[${k}] "${id}" is not a host bridge id (have: ${[...bridgeIds].join(', ')})`);
    return id;
  });
  const twice = targets.find((id, k) => targets.indexOf(id) !== k);
  if (twice) throw new FieldError(`${f}.targets names host bridge "${twice}" twice; each interleave target must be a different host bridge`);
  if (!CXL_WAYS.includes(targets.length)) {
    throw new FieldError(`${f}.targets has ${targets.length} entries; CXL interleave ways are ${CXL_WAYS.slice(0, -1).join(', ')} or ${CXL_WAYS.at(-1)}`);
  }
  const window: FixedWindow = { targets, sizeMiB: int(w.sizeMiB, `${f}.sizeMiB`, 256, 1024 * 1024, 256) };
  if (w.granularity !== undefined) {
    const g = int(w.granularity, `${f}.granularity`, 256, 16384);
    if ((g & (g - 1)) !== 0) throw new FieldError(`${f}.granularity must be a power of two between 256 and 16384 (got ${g})`);
    window.granularity = g;
  }
  return window;
}

function obj(v: unknown, field: string, allowed: readonly string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new FieldError(`${field} must be an object`);
  // A misspelt optional field would otherwise be ignored in silence.
  const unknown = Object.keys(v).find((k) => !allowed.includes(k));
  if (unknown !== undefined) {
    throw new FieldError(`${field === '(top level)' ? '' : `${field}.`}${unknown} is not a topology field (allowed here: ${allowed.join(', ')})`);
  }
  return v as Record<string, unknown>;
}

/**
 * CXL topologies as data: the JSON files in qemu/ (or a user's file) are parsed and
 * validated here into a Topology. Every error names the file, the field and what is allowed.
 */
import { join } from 'node:path';
import { CXL_WAYS, portsPerBridge } from '../agent/cxl.js';
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

export interface RootPort {
  id: string;
  port: number;
  chassis: number;
  slot: number;
  device: Type3Device;
}

export interface HostBridge {
  id: string;
  busNr: number;
  rootPorts: RootPort[];
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
 * The devices the guest's region flow (src/agent/cxl.ts pickTargets) gives a region on window
 * `index`, in position order, leaving out the devices in `used`: the window interleaves across
 * its R host bridges, each bridge across H of its root ports (the most that every bridge has
 * with an unused volatile device, cut down to a count the decoders allow); position p is host
 * bridge p mod R, root port floor(p / R). Empty when some bridge has none.
 */
export function regionDevices(topology: Pick<Topology, 'hostBridges' | 'windows'>, index = 0, used: ReadonlySet<string> = new Set()): Type3Device[] {
  const w = topology.windows[index];
  if (!w) return [];
  const ports = w.targets.map((id) => (topology.hostBridges.find((b) => b.id === id)?.rootPorts ?? [])
    .map((rp) => rp.device).filter((d) => d.kind === 'volatile' && !used.has(d.id)));
  const ways = w.targets.length;
  const perBridge = portsPerBridge(ways, Math.min(...ports.map((p) => p.length)));
  return Array.from({ length: perBridge * ways }, (_, p) => ports[p % ways]![Math.floor(p / ways)]!);
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
  const o = obj(data, '(top level)', ['name', 'description', 'ramMiB', 'cpus', 'hostBridges', 'windows']);
  const ids = new Set<string>();
  const uniqueId = (v: unknown, field: string): string => {
    const id = str(v, field);
    if (!/^[A-Za-z][A-Za-z0-9_.-]*$/.test(id)) throw new FieldError(`${field} must start with a letter and hold only letters, digits, _ . - (got "${id}")`);
    if (ids.has(id)) throw new FieldError(`${field}: id "${id}" is used twice`);
    ids.add(id);
    return id;
  };
  const busNrs = new Set<number>();
  // PCIe root ports need distinct (chassis, slot) pairs machine-wide and distinct ports per bridge.
  const slots = new Map<string, string>();
  const hostBridges = arr(o.hostBridges, 'hostBridges', 1).map((hbv, i): HostBridge => {
    const f = `hostBridges[${i}]`;
    const hb = obj(hbv, f, ['id', 'busNr', 'rootPorts']);
    const busNr = int(hb.busNr, `${f}.busNr`, 1, 254);
    if (busNrs.has(busNr)) throw new FieldError(`${f}.busNr ${busNr} is used by another host bridge`);
    busNrs.add(busNr);
    return {
      id: uniqueId(hb.id, `${f}.id`),
      busNr,
      rootPorts: arr(hb.rootPorts, `${f}.rootPorts`, 1).map((rpv, j): RootPort => {
        const g = `${f}.rootPorts[${j}]`;
        const rp = obj(rpv, g, ['id', 'port', 'chassis', 'slot', 'device']);
        const dv = obj(rp.device, `${g}.device`, ['id', 'kind', 'sizeMiB', 'dcRegions', 'lsaMiB']);
        const kind = oneOf(dv.kind ?? 'volatile', `${g}.device.kind`, ['volatile', 'dcd', 'persistent'] as const);
        const device: Type3Device = {
          id: uniqueId(dv.id, `${g}.device.id`),
          kind,
          sizeMiB: int(dv.sizeMiB, `${g}.device.sizeMiB`, 256, 64 * 1024, 256),
        };
        if (kind === 'dcd') device.dcRegions = int(dv.dcRegions ?? 1, `${g}.device.dcRegions`, 1, 8);
        else if (dv.dcRegions !== undefined) throw new FieldError(`${g}.device.dcRegions is only allowed with kind "dcd"`);
        if (kind === 'persistent') device.lsaMiB = int(dv.lsaMiB ?? 1, `${g}.device.lsaMiB`, 1, 256);
        else if (dv.lsaMiB !== undefined) throw new FieldError(`${g}.device.lsaMiB is only allowed with kind "persistent"`);
        const port: RootPort = {
          id: uniqueId(rp.id, `${g}.id`),
          port: int(rp.port ?? j, `${g}.port`, 0, 255),
          chassis: int(rp.chassis ?? i, `${g}.chassis`, 0, 255),
          slot: int(rp.slot ?? j + 2, `${g}.slot`, 0, 255),
          device,
        };
        const slotKey = `${port.chassis}/${port.slot}`;
        if (slots.has(slotKey)) throw new FieldError(`${g} uses chassis ${port.chassis} slot ${port.slot}, already used by ${slots.get(slotKey)}; every root port needs its own (chassis, slot) pair`);
        slots.set(slotKey, g);
        return port;
      }),
    };
  });
  hostBridges.forEach((hb, i) => {
    const ports = hb.rootPorts.map((rp) => rp.port);
    const k = ports.findIndex((p, n) => ports.indexOf(p) !== n);
    if (k >= 0) throw new FieldError(`hostBridges[${i}].rootPorts[${k}].port ${ports[k]} is used twice on host bridge ${hb.id}; ports must differ`);
  });
  const bridgeIds = new Set(hostBridges.map((h) => h.id));
  const windows = arr(o.windows, 'windows', 1).map((wv, i): FixedWindow => {
    const f = `windows[${i}]`;
    const w = obj(wv, f, ['targets', 'sizeMiB', 'granularity']);
    const targets = arr(w.targets, `${f}.targets`, 1).map((t, k) => {
      const id = str(t, `${f}.targets[${k}]`);
      if (!bridgeIds.has(id)) throw new FieldError(`${f}.targets[${k}] "${id}" is not a host bridge id (have: ${[...bridgeIds].join(', ')})`);
      return id;
    });
    const twice = targets.find((id, k) => targets.indexOf(id) !== k);
    if (twice) throw new FieldError(`${f}.targets names host bridge "${twice}" twice; each interleave target must be a different host bridge`);
    if (!CXL_WAYS.includes(targets.length)) {
      throw new FieldError(`${f}.targets has ${targets.length} entries; CXL interleave ways are 1, 2, 3, 4, 6, 8, 12 or 16`);
    }
    const window: FixedWindow = { targets, sizeMiB: int(w.sizeMiB, `${f}.sizeMiB`, 256, 1024 * 1024, 256) };
    if (w.granularity !== undefined) {
      const g = int(w.granularity, `${f}.granularity`, 256, 16384);
      if ((g & (g - 1)) !== 0) throw new FieldError(`${f}.granularity must be a power of two between 256 and 16384 (got ${g})`);
      window.granularity = g;
    }
    return window;
  });
  // QEMU numbers the buses below a host bridge from its busNr: one per root port. A bridge
  // whose numbers run into the next one's leaves the guest's enumeration without a bus for a
  // port, and its device never appears.
  const byBus = [...hostBridges].sort((a, b) => a.busNr - b.busNr);
  byBus.forEach((hb, k) => {
    const last = hb.busNr + hb.rootPorts.length;
    const field = `hostBridges[${hostBridges.indexOf(hb)}].busNr`;
    if (last > 255) throw new FieldError(`${field} ${hb.busNr} leaves no bus numbers for the ${hb.rootPorts.length} root port(s) of ${hb.id} (they need ${hb.busNr + 1}-${last}, the last bus is 255); use a busNr of at most ${255 - hb.rootPorts.length}`);
    const next = byBus[k + 1];
    if (next && last >= next.busNr) {
      throw new FieldError(`${field} ${hb.busNr}: host bridge ${hb.id} needs buses ${hb.busNr}-${last} for itself and its ${hb.rootPorts.length} root port(s), but ${next.id} starts at bus ${next.busNr}; move ${next.id} to busNr ${last + 1} or above`);
    }
  });
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
  return {
    name: str(o.name, 'name'),
    description: o.description === undefined ? '' : str(o.description, 'description'),
    file,
    ramMiB: int(o.ramMiB ?? 2048, 'ramMiB', 512, 64 * 1024),
    cpus: int(o.cpus ?? 2, 'cpus', 1, 64),
    hostBridges,
    windows,
  };
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

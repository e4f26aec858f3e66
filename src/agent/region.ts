/**
 * The agent's region verbs: list the CXL topology, online a region as system RAM (ndctl or
 * the manual sysfs flow, optionally isolated the way a version of the series does it), offline
 * and destroy one. Each result
 * carries every step the flow took (command output capped at 4000 characters), and the flow
 * stops at the first failing step with ok:false.
 */
import { join } from 'node:path';
import {
  CXL, DAX, NODES, blockSize, createRegion, daxOfRegion, destroyRegion, driverOf, endpointOf, ls, memdevs, memdevsBelow,
  isolationAttrs, nodeFacts, onlineMemoryOf, pickTargets, read, recorder, rootDecoders, rootGeometry, type Isolation, type NodeFacts, type Step,
} from './cxl/index.js';

export type { Isolation, NodeFacts, Step as RegionStep } from './cxl/index.js';

export interface CxlFacts {
  ok: true;
  memdevs: { memdev: string; ramSize: number; endpoint?: string; serial?: string }[];
  rootDecoders: { decoder: string; targets: string[]; ways: number; granularity: number; dports: (string | undefined)[]; size: number; memdevs: string[] }[];
  regions: { region: string; size: number; commit?: string; driver?: string; attrs: Record<string, string>; dax?: string; daxDriver?: string; node?: number }[];
  hasMemory?: string;
  online?: string;
  possible?: string;
  blockSize: number;
}

export interface OnlineOptions {
  /** A memdev that must be among the region's targets. */
  memdev?: string;
  decoder?: string;
  /** ndctl: `cxl create-region` (commit + enable in one step); sysfs: the manual flow (needed to isolate the node). */
  method?: 'ndctl' | 'sysfs';
  /** Set the region's node apart as a version of the series does (sysfs method only; cxl.ts Isolation). */
  isolate?: Isolation;
  timeoutMs?: number;
}

export interface OnlineResult {
  ok: boolean;
  error?: string;
  decoder?: string;
  /** The region's targets, in interleave position order. */
  memdevs?: string[];
  region?: string;
  dax?: string;
  driver?: string;
  node?: number;
  /** The isolation attributes its region and its dax device have (cxl.ts isolationAttrs), with their values. */
  regionAttrs?: Record<string, string>;
  daxAttrs?: Record<string, string>;
  nodeFacts?: NodeFacts;
  steps: Step[];
  ms: number;
}

export interface OfflineOptions {
  region: string;
  timeoutMs?: number;
}

export interface OfflineResult {
  ok: boolean;
  error?: string;
  region?: string;
  dax?: string;
  node?: number;
  nodeFacts?: NodeFacts;
  steps: Step[];
  ms: number;
}

const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

export function listRegions(): CxlFacts {
  return {
    ok: true,
    memdevs: memdevs().map((m) => defined({ memdev: m, ramSize: Number(read(join(CXL, m, 'ram', 'size')) ?? 0), endpoint: endpointOf(m), serial: read(join(CXL, m, 'serial')) })),
    rootDecoders: rootDecoders().map((d) => ({ decoder: d, ...rootGeometry(d), size: Number(read(join(CXL, d, 'size'))), memdevs: memdevsBelow(d) })),
    regions: ls(CXL).filter((d) => /^region\d+$/.test(d)).map((r) => {
      const dax = daxOfRegion(r);
      const node = dax ? Number(read(join(DAX, dax, 'target_node'))) : undefined;
      return defined({ region: r, size: Number(read(join(CXL, r, 'size')) ?? 0), commit: read(join(CXL, r, 'commit')), driver: driverOf(join(CXL, r)), attrs: isolationAttrs(join(CXL, r)), dax, daxDriver: dax ? driverOf(join(DAX, dax)) : undefined, node });
    }),
    ...defined({ hasMemory: read(join(NODES, 'has_memory')), online: read(join(NODES, 'online')), possible: read(join(NODES, 'possible')) }),
    blockSize: blockSize(),
  };
}

export function onlineRegion(options: OnlineOptions): OnlineResult {
  const t0 = Date.now();
  const { steps, record } = recorder();
  const done = (r: Omit<OnlineResult, 'steps' | 'ms'>): OnlineResult => ({ ...defined(r), steps, ms: Date.now() - t0 });
  const timeoutMs = options.timeoutMs ?? 30_000;
  const { decoder, memdevs: targets } = pickTargets({ ...(options.decoder ? { decoder: options.decoder } : {}), ...(options.memdev ? { memdev: options.memdev } : {}) });
  if (!decoder || !targets.length) {
    return done({ ok: false, error: `no root decoder with a free memdev for each of its interleave positions (decoder=${options.decoder ?? 'any'}, memdev=${options.memdev ?? 'any'})` });
  }
  const created = createRegion({ decoder, memdevs: targets, method: options.method ?? 'ndctl', ...(options.isolate ? { isolate: options.isolate } : {}) }, record);
  const { region } = created;
  if (!region || steps.some((s) => s.ok === false)) return done({ ok: false, error: created.error ?? 'region creation failed', decoder, memdevs: targets, region });
  const on = onlineMemoryOf(region, { timeoutMs, reconfigure: true }, record);
  if (!on.dax) return done({ ok: false, error: on.error, decoder, memdevs: targets, region });
  return done({
    ok: on.ok, error: on.error, decoder, memdevs: targets, region, dax: on.dax, driver: on.driver, node: on.node,
    regionAttrs: isolationAttrs(join(CXL, region)), daxAttrs: isolationAttrs(join(DAX, on.dax)), ...(on.node !== undefined ? { nodeFacts: nodeFacts(on.node) } : {}),
  });
}

export function offlineRegion(options: OfflineOptions): OfflineResult {
  const t0 = Date.now();
  const { steps, record } = recorder();
  const { region } = options;
  if (!region || !ls(CXL).includes(region)) return { ok: false, error: `no region ${region}`, steps, ms: Date.now() - t0 };
  const r = destroyRegion(region, { offline: 'daxctl', timeoutMs: options.timeoutMs ?? 30_000 }, record);
  return { ...defined({ ok: r.ok, error: r.error, region, dax: r.dax, node: r.node, nodeFacts: r.nodeFacts }), steps, ms: Date.now() - t0 };
}

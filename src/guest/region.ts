/**
 * Host side of guest-scripts/cxl-region.mjs: region -> dax -> kmem online and offline,
 * typed. The script records every command and sysfs write it makes; those steps come
 * back here and are kept in the command log.
 */
import type { GuestSession, JsonResult } from './session.js';

export const REGION_SCRIPT = '/opt/cxl-harness/guest-scripts/cxl-region.mjs';

export interface NodeFacts {
  node: number;
  exists: boolean;
  memTotalKiB: number | null;
  memFreeKiB: number | null;
  blocks: number;
  onlineBlocks: number;
  zones: string[];
  hasMemory: boolean;
}

export interface RegionStep {
  ok: boolean;
  ms: number;
  run?: string[];
  write?: string;
  value?: string;
  wait?: string;
  note?: string;
  code?: string;
  errno?: number;
  exitCode?: number | null;
  stdout?: string;
  stderr?: string;
}

export interface CxlFacts {
  memdevs: { memdev: string; ramSize: number; endpoint?: string }[];
  rootDecoders: { decoder: string; targets: string[]; ways: number; granularity: number; dports: (string | null)[]; size: number; memdevs: string[] }[];
  regions: { region: string; size: number; commit?: string; driver?: string; spmNode?: string; dax?: string; daxDriver?: string; node?: number }[];
  hasMemory?: string;
  online?: string;
  possible?: string;
  blockSize: number;
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
  spmNode?: string;
  nodeFacts?: NodeFacts;
  steps: RegionStep[];
  ms: number;
}

export interface OfflineResult {
  ok: boolean;
  error?: string;
  region?: string;
  dax?: string;
  node?: number;
  nodeFacts?: NodeFacts;
  steps: RegionStep[];
  ms: number;
}

export interface OnlineOptions {
  /** A memdev that must be among the region's targets. */
  memdev?: string;
  decoder?: string;
  /** ndctl: `cxl create-region` (commit + enable in one step); sysfs: the manual flow (needed to set spm_node before bind). */
  method?: 'ndctl' | 'sysfs';
  /** Write this to regionN/spm_node between commit and bind (sysfs method only). */
  spm?: 0 | 1;
  timeoutMs?: number;
}

export function listCxl(guest: GuestSession): Promise<JsonResult<CxlFacts & { ok: boolean }>> {
  return guest.json('cxl-region-list', ['node', REGION_SCRIPT, 'list']);
}

export function onlineRegion(guest: GuestSession, options: OnlineOptions = {}): Promise<JsonResult<OnlineResult>> {
  const argv = ['node', REGION_SCRIPT, 'online'];
  if (options.memdev) argv.push('--memdev', options.memdev);
  if (options.decoder) argv.push('--decoder', options.decoder);
  if (options.method) argv.push('--method', options.method);
  if (options.spm !== undefined) argv.push('--spm', String(options.spm));
  if (options.timeoutMs) argv.push('--timeout-ms', String(options.timeoutMs));
  return guest.json('cxl-region-online', argv, { timeoutMs: (options.timeoutMs ?? 30_000) + 30_000 });
}

export function offlineRegion(guest: GuestSession, region: string, timeoutMs = 30_000): Promise<JsonResult<OfflineResult>> {
  return guest.json('cxl-region-offline', ['node', REGION_SCRIPT, 'offline', '--region', region, '--timeout-ms', String(timeoutMs)], { timeoutMs: timeoutMs + 60_000 });
}

/**
 * Host side of the agent's region verbs (src/agent/region.ts): region -> dax -> kmem online
 * and offline, typed. The agent records every command and sysfs write the flow makes; those
 * steps come back in the result and are kept in the command log.
 */
import type { CxlFacts, OfflineResult, OnlineOptions, OnlineResult } from '../agent/region.js';
import type { GuestSession, JsonResult } from './session.js';

export type { CxlFacts, NodeFacts, OfflineResult, OnlineOptions, OnlineResult, RegionStep } from '../agent/region.js';

/** What the host waits beyond a flow's own bound: the flow's steps after the bounded one. */
const MARGIN_MS = 60_000;

export function listCxl(guest: GuestSession): Promise<JsonResult<CxlFacts>> {
  return guest.requestJson('cxl-region-list', 'region.list', {}, 60_000);
}

export function onlineRegion(guest: GuestSession, options: OnlineOptions = {}): Promise<JsonResult<OnlineResult>> {
  return guest.requestJson('cxl-region-online', 'region.online', options, (options.timeoutMs ?? 30_000) + MARGIN_MS);
}

export function offlineRegion(guest: GuestSession, region: string, timeoutMs = 30_000): Promise<JsonResult<OfflineResult>> {
  return guest.requestJson('cxl-region-offline', 'region.offline', { region, timeoutMs }, timeoutMs + MARGIN_MS);
}

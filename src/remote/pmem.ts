/**
 * Host side of the agent's persistent-memory verbs (src/agent/pmem.ts), typed. Every command
 * a flow ran comes back in its result and is kept in the command log.
 */
import type { LabelRoundTrip, PmemGone, PmemOnline } from '../agent/cxl/pmem.js';
import type { PmemList, Timed } from '../agent/pmem.js';
import type { GuestSession, JsonResult } from './session.js';

export type { LabelRoundTrip, PmemDevice, PmemGone, PmemOnline } from '../agent/cxl/pmem.js';

/** What the host waits beyond a flow's own bound (it is the bound of each of its commands). */
const FLOW_MS = 5 * 60_000;

export function listPmem(guest: GuestSession): Promise<JsonResult<PmemList>> {
  return guest.requestJson('pmem-list', 'pmem.list', {}, 60_000);
}

export function pmemLabels(guest: GuestSession, memdev: string): Promise<JsonResult<Timed<LabelRoundTrip>>> {
  return guest.requestJson('pmem-labels', 'pmem.labels', { memdev, timeoutMs: 60_000 }, FLOW_MS);
}

export function onlinePmem(guest: GuestSession, memdev?: string): Promise<JsonResult<Timed<PmemOnline>>> {
  return guest.requestJson('pmem-online', 'pmem.online', { ...(memdev ? { memdev } : {}), timeoutMs: 60_000 }, FLOW_MS);
}

export function offlinePmem(guest: GuestSession, region: string): Promise<JsonResult<Timed<PmemGone>>> {
  return guest.requestJson('pmem-offline', 'pmem.offline', { region, timeoutMs: 60_000 }, FLOW_MS);
}

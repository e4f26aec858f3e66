/**
 * Host side of the agent's node verbs (src/agent/park.ts): a node's free memory parked for a
 * hog and given back, typed. Each answer is kept in the command log.
 */
import type { ParkOptions, ParkResult, UnparkResult } from '../agent/park.js';
import type { GuestSession, JsonResult } from './session.js';

export type { ParkResult, UnparkResult } from '../agent/park.js';

/** What the host waits beyond the park's own bounds (its blocks' budget and the pool's growth). */
const MARGIN_MS = 30_000;

export function parkNode(guest: GuestSession, options: ParkOptions): Promise<JsonResult<ParkResult>> {
  return guest.requestJson(`park-node${options.node}`, 'node.park', options, (options.budgetMs ?? 20_000) + (options.poolTimeoutS ?? 20) * 1000 + MARGIN_MS);
}

/** The node given back as the guest shows it: whatever a park took, even one whose answer never came. */
export function unparkNode(guest: GuestSession, node: number): Promise<JsonResult<UnparkResult>> {
  return guest.requestJson(`unpark-node${node}`, 'node.unpark', { node }, 60_000);
}

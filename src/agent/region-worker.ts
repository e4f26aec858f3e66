/**
 * The worker thread that runs the agent's region verbs. The flows are synchronous (sysfs
 * writes, daxctl and cxl runs, polled waits): here they block this thread only, so the agent
 * keeps answering while a flow runs, and can give up on one the kernel never lets finish.
 */
import { parentPort } from 'node:worker_threads';
import { listRegions, offlineRegion, onlineRegion, type OfflineOptions, type OnlineOptions } from './region.js';

export type RegionVerb = 'region.list' | 'region.online' | 'region.offline';
export interface WorkerRequest { id: number; verb: RegionVerb; args: unknown }
export type WorkerReply = { id: number; result: unknown } | { id: number; error: string };

const handlers: Record<RegionVerb, (args: unknown) => unknown> = {
  'region.list': () => listRegions(),
  'region.online': (args) => onlineRegion(args as OnlineOptions),
  'region.offline': (args) => offlineRegion(args as OfflineOptions),
};

parentPort?.on('message', (m: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    reply = { id: m.id, result: handlers[m.verb](m.args) };
  } catch (error) {
    reply = { id: m.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  parentPort!.postMessage(reply);
});

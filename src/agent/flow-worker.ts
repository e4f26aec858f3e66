/**
 * The worker thread that runs the agent's synchronous flows: the region, node and pmem
 * verbs (sysfs writes, daxctl and cxl runs, polled waits). Here they block this thread only,
 * so the agent keeps answering while a flow runs, and can give up on one the kernel never
 * lets finish.
 */
import { parentPort } from 'node:worker_threads';
import { parkNode, unparkNode, type ParkOptions, type UnparkOptions } from './park.js';
import { listPmem, pmemLabels, pmemOffline, pmemOnline, type PmemLabelsOptions, type PmemOfflineOptions, type PmemOnlineOptions } from './pmem.js';
import { listRegions, offlineRegion, onlineRegion, type OfflineOptions, type OnlineOptions } from './region.js';

export const FLOW_VERBS = ['region.list', 'region.online', 'region.offline', 'node.park', 'node.unpark', 'pmem.list', 'pmem.labels', 'pmem.online', 'pmem.offline'] as const;
export type FlowVerb = (typeof FLOW_VERBS)[number];
export interface WorkerRequest { id: number; verb: FlowVerb; args: unknown }
export type WorkerReply = { id: number; result: unknown } | { id: number; error: string };

export function isFlowVerb(verb: string): verb is FlowVerb {
  return (FLOW_VERBS as readonly string[]).includes(verb);
}

const handlers: Record<FlowVerb, (args: unknown) => unknown> = {
  'region.list': () => listRegions(),
  'region.online': (args) => onlineRegion(args as OnlineOptions),
  'region.offline': (args) => offlineRegion(args as OfflineOptions),
  'node.park': (args) => parkNode(args as ParkOptions),
  'node.unpark': (args) => unparkNode(args as UnparkOptions),
  'pmem.list': () => listPmem(),
  'pmem.labels': (args) => pmemLabels(args as PmemLabelsOptions),
  'pmem.online': (args) => pmemOnline(args as PmemOnlineOptions),
  'pmem.offline': (args) => pmemOffline(args as PmemOfflineOptions),
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

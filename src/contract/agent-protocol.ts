/**
 * The guest agent's protocol, shared by the agent (src/agent/main.ts) and its host client
 * (src/remote/agent.ts): one JSON object per line each way over one long-lived channel.
 *   host -> agent  { id, verb, args, timeoutMs }
 *   agent -> host  { id, ok: true, result, ms } | { id, ok: false, code, error, ms }
 *   agent -> host  { id, progress }  before the answer, for a verb that streams
 *                  (repro.run: each loop line as it happens)
 *   agent -> host  { hello: { pid, node, payload } } once, when it is ready
 * Requests run concurrently; every one has a timeout the agent enforces itself, so a request
 * that hangs in the kernel is answered TIMED_OUT and the agent keeps serving.
 */
import type { ProbeName, ProbeOutput } from '../probe/index.js';
import type { Capabilities } from '../agent/capabilities.js';
import type { GenerationEvidence } from '../agent/evidence.js';
import type { ParkOptions, ParkResult, UnparkOptions, UnparkResult } from '../agent/park.js';
import type { CxlFacts, OfflineOptions, OfflineResult, OnlineOptions, OnlineResult } from '../agent/region.js';
import type { LabelRoundTrip, PmemGone, PmemOnline } from '../agent/cxl/pmem.js';
import type { PmemLabelsOptions, PmemList, PmemOfflineOptions, PmemOnlineOptions, Timed } from '../agent/pmem.js';
import type { LoopExit, LoopLine, LoopSpec } from './repro-protocol.js';

export interface Hello {
  pid: number;
  /** process.version of the guest's Node. */
  node: string;
}

/** Each verb's arguments and result; a verb that streams also names its progress lines. */
export interface Verbs {
  ping: { args: Record<string, never>; result: Hello };
  probe: { args: { name: ProbeName; args: Record<string, unknown> }; result: ProbeOutput<ProbeName> };
  'region.list': { args: Record<string, never>; result: CxlFacts };
  'region.online': { args: OnlineOptions; result: OnlineResult };
  'region.offline': { args: OfflineOptions; result: OfflineResult };
  /** A node's free memory taken away (blocks offline, hugetlb pool) down to keepFreeMiB, and given back. */
  'node.park': { args: ParkOptions; result: ParkResult };
  'node.unpark': { args: UnparkOptions; result: UnparkResult };
  /** Persistent memory: the devices, a label round trip, a pmem region online through a devdax namespace, and taken down. */
  'pmem.list': { args: Record<string, never>; result: PmemList };
  'pmem.labels': { args: PmemLabelsOptions; result: Timed<LabelRoundTrip> };
  'pmem.online': { args: PmemOnlineOptions; result: Timed<PmemOnline> };
  'pmem.offline': { args: PmemOfflineOptions; result: Timed<PmemGone> };
  capabilities: { args: Record<string, never>; result: Capabilities };
  'generation.evidence': { args: Record<string, never>; result: GenerationEvidence };
  /** A chunk of repro iterations (src/agent/repro/): its lines as progress, how its process ended as the result. */
  'repro.run': { args: LoopSpec; progress: LoopLine; result: LoopExit };
}

export type Verb = keyof Verbs;
export const VERBS: readonly Verb[] = [
  'ping', 'probe', 'region.list', 'region.online', 'region.offline', 'node.park', 'node.unpark',
  'pmem.list', 'pmem.labels', 'pmem.online', 'pmem.offline', 'capabilities', 'generation.evidence', 'repro.run',
];

/** The progress lines of a verb (never for one that does not stream). */
export type ProgressOf<V extends Verb> = V extends Verb ? (Verbs[V] extends { progress: infer P } ? P : never) : never;

export interface Request<V extends Verb = Verb> {
  id: number;
  verb: V;
  args: Verbs[V]['args'];
  timeoutMs: number;
}

/** Why the agent could not answer with a result: a bad request, a timeout, or the handler threw. */
export type FailureCode = 'BAD_REQUEST' | 'TIMED_OUT' | 'FAILED';

export type Response<V extends Verb = Verb> =
  | { id: number; ok: true; result: Verbs[V]['result']; ms: number }
  | { id: number; ok: false; code: FailureCode; error: string; ms: number };

export interface Progress<V extends Verb = Verb> {
  id: number;
  progress: ProgressOf<V>;
}

export type Line = Response | Progress | { hello: Hello };

export function isVerb(v: unknown): v is Verb {
  return typeof v === 'string' && (VERBS as readonly string[]).includes(v);
}

/** Parse one request line; what is not a well-formed request comes back as a reason. */
export function parseRequest(line: string): Request | { id: number; reason: string } {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return { id: -1, reason: 'not JSON' };
  }
  const r = o as Partial<Request>;
  const id = typeof r?.id === 'number' ? r.id : -1;
  if (typeof o !== 'object' || o === null || id < 0) return { id, reason: 'no numeric id' };
  if (!isVerb(r.verb)) return { id, reason: `unknown verb ${JSON.stringify(r.verb)} (known: ${VERBS.join(', ')})` };
  if (typeof r.args !== 'object' || r.args === null) return { id, reason: 'args must be an object' };
  if (typeof r.timeoutMs !== 'number' || !(r.timeoutMs > 0)) return { id, reason: 'timeoutMs must be a positive number' };
  return r as Request;
}

/**
 * The probe child (see isolate.ts): receives a request over IPC, runs the operation and sends
 * the result. When the operation returned and the thread's policy is back to default, the
 * child says it is reusable and waits for the next request (or exits when the parent closes
 * the channel); otherwise it exits. If the kernel kills it first, the parent reports how.
 */
import type { ChildReply, ChildRequest } from './isolate.js';
import { resetThreadPolicy } from './mempolicy.js';
import { operations } from './operations.js';

async function handle(request: ChildRequest): Promise<ChildReply> {
  // The parent has already put this process in its cgroup, and started it as its uid unless
  // it was started ahead of need: then it drops to that uid here, for good.
  const op = operations[request.op];
  if (!op) return { error: `unknown probe operation ${request.op}` };
  if (request.asUid !== undefined) dropTo(request.asUid);
  const result = await op(request.args);
  return { result, reusable: request.asUid === undefined && fitForMore() };
}

/** As libuv does for a child started with uid and gid: no supplementary groups, then gid, then uid (all capabilities go). */
function dropTo(uid: number): void {
  if (!process.setgroups || !process.setgid || !process.setuid) throw new Error(`this Node cannot change its uid (to ${uid}) on ${process.platform}`);
  process.setgroups([]);
  process.setgid(uid);
  process.setuid(uid);
}

/** Without the addon an operation cannot have changed the policy, but the child cannot check it either. */
function fitForMore(): boolean {
  try {
    return resetThreadPolicy();
  } catch {
    return false;
  }
}

process.on('message', (request: ChildRequest) => {
  handle(request)
    .catch((error: unknown): ChildReply => ({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }))
    .then((reply) => process.send!(reply, () => {
      if (!('result' in reply) || !reply.reusable) process.exit(0);
    }));
});
process.on('disconnect', () => process.exit(0));

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
  // The parent has already put this process in its cgroup and started it as its uid.
  const op = operations[request.op];
  if (!op) return { error: `unknown probe operation ${request.op}` };
  const result = await op(request.args);
  return { result, reusable: fitForMore() };
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

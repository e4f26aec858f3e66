/**
 * The probe child (see isolate.ts): receives one request over IPC, runs the operation, sends
 * the result and exits. If the kernel kills it first, the parent reports how.
 */
import type { ChildReply, ChildRequest } from './isolate.js';
import { operations } from './operations.js';

async function handle(request: ChildRequest): Promise<ChildReply> {
  // The parent has already put this process in its cgroup and started it as its uid.
  const op = operations[request.op];
  if (!op) return { error: `unknown probe operation ${request.op}` };
  return { result: await op(request.args) };
}

process.once('message', (request: ChildRequest) => {
  handle(request)
    .catch((error: unknown): ChildReply => ({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }))
    .then((reply) => process.send!(reply, () => process.exit(0)));
});

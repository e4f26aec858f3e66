/**
 * The probe child (see isolate.ts): receives one request over IPC, optionally joins a cgroup
 * and drops to a uid, runs the operation, sends the result and exits. If the kernel kills
 * it first, the parent reports how.
 */
import { join } from 'node:path';
import type { ChildReply, ChildRequest } from './isolate.js';
import { operations } from './operations.js';
import { writeText } from './sysfs.js';

async function handle(request: ChildRequest): Promise<ChildReply> {
  if (request.cgroup !== undefined) {
    // "0" moves the writer itself: the child's memory is then charged to that cgroup.
    const joined = writeText(join(request.cgroup, 'cgroup.procs'), '0');
    if (!joined.ok) return { result: { probe: request.op, ...joined, step: 'join-cgroup', cgroup: request.cgroup } };
  }
  if (request.asUid !== undefined) {
    // Present on POSIX, which is the only place probes run.
    process.setgroups!([]);
    process.setgid!(request.asUid);
    process.setuid!(request.asUid);
  }
  const op = operations[request.op];
  if (!op) return { error: `unknown probe operation ${request.op}` };
  return { result: await op(request.args) };
}

process.once('message', (request: ChildRequest) => {
  handle(request)
    .catch((error: unknown): ChildReply => ({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }))
    .then((reply) => process.send!(reply, () => process.exit(0)));
});

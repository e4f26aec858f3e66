// What the kernel does to a probe child (OOM kill, a write that never returns) comes back as a
// result, and the runner survives it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { findCgroup2Root, isProbeFailure, probePlace, probeWriteFile } from '../../src/probe/index.js';

t.test('10 a write that never returns becomes timedOut, and the child is killed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cxl-probe-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fifo = join(dir, 'fifo');
  t.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
  // Opening a FIFO for writing blocks until a reader comes, which never happens.
  const r = await probeWriteFile({ path: fifo, value: 'x', timeoutMs: 1500 });
  t.ok(isProbeFailure(r));
  t.match(r, { ok: false, failure: true, code: 'TIMED_OUT', timedOut: true, signal: 'SIGKILL' });
});

t.test('20 write-file reports the errno of a refused write', async (t) => {
  const r = await probeWriteFile({ path: '/sys/devices/system/node/possible', value: '0-3\n' });
  if (isProbeFailure(r)) throw new Error(r.message);
  t.equal(r.ok, false);
  t.ok(['EACCES', 'EIO', 'EPERM'].includes(r.code), `write to a read-only sysfs file: ${r.code}`);
  const missing = await probeWriteFile({ path: '/sys/fs/cgroup/no-such-dir/cpuset.mems', value: '0' });
  if (isProbeFailure(missing)) throw new Error(missing.message);
  t.same([missing.errno, missing.code], [2, 'ENOENT']);
});

const v2 = findCgroup2Root();
const memoryInV2 = v2 !== null && /\bmemory\b/.test(readFileSync(`${v2}/cgroup.controllers`, 'utf8'));
const memoryInV1 = existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes');

/** A memory cgroup with a 16 MiB limit and no swap: v2 with the memory controller, else v1's. */
function smallMemcg(): string {
  if (memoryInV2) {
    writeFileSync(`${v2}/cgroup.subtree_control`, '+memory');
    const path = join(v2!, 'cxl-probe-oom');
    mkdirSync(path, { recursive: true });
    writeFileSync(join(path, 'memory.max'), String(16 << 20));
    writeFileSync(join(path, 'memory.swap.max'), '0');
    return path;
  }
  const path = '/sys/fs/cgroup/memory/cxl-probe-oom';
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'memory.limit_in_bytes'), String(16 << 20));
  return path;
}

const noMemcg = memoryInV2 || memoryInV1 ? false : 'no memory cgroup controller (v1 or v2) on this host';

t.test('30 an OOM kill inside a memory limit becomes {signal: SIGKILL, oom: true}', { skip: noMemcg }, async (t) => {
  const memcg = smallMemcg();
  t.teardown(() => rmdirSync(memcg));
  // 64 MiB of faults in a 16 MiB limit without swap: the OOM killer ends the child.
  const r = await probePlace({ pages: 16384, fill: 'random', cgroup: memcg, timeoutMs: 120_000 });
  t.ok(isProbeFailure(r), 'the child did not survive');
  t.match(r, { ok: false, failure: true, code: 'SIGNALED', signal: 'SIGKILL', oom: true });
  const after = await probePlace({ pages: 4 });
  t.equal(after.ok, true, 'the runner still runs probes');
});

t.test('40 a cgroup that cannot be joined is an errno, not a crash', async (t) => {
  const r = await probePlace({ pages: 4, cgroup: '/sys/fs/cgroup/no-such-cgroup' });
  t.match(r, { ok: false, errno: 2, code: 'ENOENT' });
});

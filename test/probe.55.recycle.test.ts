// A long-lived caller (the agent) keeps a probe child ready; a child that ends an operation
// clean serves the next one, with the default policy a fresh process has, and one that joined
// a cgroup is replaced instead.
import { mkdirSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { findCgroup2Root, isProbeFailure, probeMempolicy, probePlace } from '../src/probe/index.js';
import { keepChildrenWarm } from '../src/probe/isolate.js';

/** Live child processes of this test process (zombies and exiting ones left out). */
function children(): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) === process.pid && state !== 'Z') out.push(Number(pid));
    } catch {
      // gone between readdir and read
    }
  }
  return out.sort((a, b) => a - b);
}

async function settled(): Promise<number[]> {
  for (let i = 0; i < 100 && children().length !== 1; i++) await sleep(50);
  return children();
}

keepChildrenWarm();
// The pool keeps a child (and its IPC channel) for as long as the caller lives: end it here.
t.teardown(() => children().forEach((pid) => process.kill(pid, 'SIGKILL')));

t.test('10 a clean child serves the next probe, with the default policy back', async (t) => {
  const [first] = await settled();
  t.ok(first, 'one child is kept ready');
  const bound = await probeMempolicy({ mode: 'bind', nodes: [0] });
  if (isProbeFailure(bound)) throw new Error(bound.message);
  t.same([bound.ok, bound.readback.mode, bound.readback.nodes], [true, 'bind', [0]], 'the first probe bound its thread to node 0');
  t.same(await settled(), [first], 'the same child came back: no new one was started');
  const after = await probeMempolicy({});
  if (isProbeFailure(after)) throw new Error(after.message);
  t.equal(after.readback.mode, 'default', 'the next probe in that child starts from the default policy');
  t.same(await settled(), [first]);
});

const v2 = findCgroup2Root();
t.test('20 a child that joined a cgroup is replaced, not reused', { skip: v2 === null ? 'no cgroup v2 on this host' : false }, async (t) => {
  const cg = join(v2!, 'cxl-probe-recycle');
  mkdirSync(cg, { recursive: true });
  t.teardown(() => rmdirSync(cg));
  const [before] = await settled();
  const r = await probePlace({ pages: 4, cgroup: cg });
  t.equal(r.ok, true);
  t.equal(readFileSync(join(cg, 'cgroup.procs'), 'utf8'), '', 'the answer comes once the child has left its cgroup (the caller may remove it at once)');
  const [now] = await settled();
  t.not(now, before, 'a new child was started in its place');
  t.notOk(children().includes(before!), 'the one that joined the cgroup is gone');
});

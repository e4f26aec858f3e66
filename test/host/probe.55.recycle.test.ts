// A long-lived caller (the agent) keeps a probe child ready; a child that ends an operation
// clean serves the next one, with the default policy a fresh process has, and one that joined
// a cgroup is replaced instead; one asked to run as another uid drops to it and is replaced.
import { mkdirSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { spawn } from 'node:child_process';
import { findCgroup2Root, isProbeFailure, probeMempolicy, probePlace, runProbe } from '../../src/probe/index.js';
import { keepChildrenWarm } from '../../src/probe/isolate.js';

/** Processes this test started itself, not probe children. */
const others = new Set<number>();

/** Live probe children of this test process (zombies and exiting ones left out). */
function children(): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) === process.pid && state !== 'Z' && !others.has(Number(pid))) out.push(Number(pid));
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

t.test('30 a ready child drops to the uid asked for, and is replaced', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, async (t) => {
  const [before] = await settled();
  // A root process: migrate_pages on it is EPERM unless the caller may ptrace it (root can).
  const target = spawn('sleep', ['30'], { stdio: 'ignore' });
  others.add(target.pid!);
  t.teardown(() => target.kill('SIGKILL'));
  const args = { pid: target.pid!, from: [0], to: [0] };
  const asRoot = await runProbe('migrate-pid', args);
  t.equal(asRoot.code, 'OK', 'root may migrate it');
  t.same(await settled(), [before], 'and the ready child came back');
  const asNobody = await runProbe('migrate-pid', { ...args, asUid: 65534 });
  t.equal(asNobody.code, 'EPERM', 'the same child, as uid 65534, may not: its uid and capabilities are gone');
  const [now] = await settled();
  t.not(now, before, 'a new child was started in its place');
  t.notOk(children().includes(before!), 'the one that dropped its uid is gone');
  const again = await runProbe('migrate-pid', args);
  t.equal(again.code, 'OK', 'the new child runs as root again');
});

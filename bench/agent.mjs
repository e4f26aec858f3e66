#!/usr/bin/env node
// Guest agent round trips under TCG, against a fresh Node per command as checks used to pay
// (run on demand; never a test). Boots the default guest (distro kernel, default topology).
//   node bench/agent.mjs [N=20]
// Prints, each as a median over N requests from the host:
//   agent start     : the first request once SSH is up (the agent init started, whatever of
//                     its start-up is left)
//   agent read      : a sysfs file read by the agent (probe read-file, in the agent's process)
//   agent child     : a probe in a forked child (mempolicy readback), with 3 s between requests
//   agent child b2b : the same, back to back (a child that ended clean serves the next)
//   fresh child     : the same probe as another uid, which always takes a new child
//   node per command: `cxl-harness probe read-file` over ssh exec, a fresh Node each time
// and boot to SSH, as the run records it. The last line is a JSON summary.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const dist = new URL('../dist/', import.meta.url);
const load = (p) => import(new URL(p, dist).href);
const [{ resolveKernel }, { guestImage }, { loadTopology }, { bootGuest }, { Results }, { GuestSession }] = await Promise.all([
  load('kernel/resolve.js'), load('image/image.js'), load('qemu/topology.js'), load('machine/boot.js'), load('results/results.js'), load('remote/session.js'),
]);

const n = Number(process.argv[2] ?? 20);
const log = (l) => console.error(`[bench] ${l}`);
const results = await Results.create({ dir: join(mkdtempSync(join(tmpdir(), 'cxlh-bench-agent-')), 'r') });
const kernel = await resolveKernel({ kind: 'distro' }, log);
const image = await guestImage(kernel, { log });
const { vm, ssh, bootMs } = await bootGuest({ kernel, image, topology: loadTopology('default'), dir: results.dir, accel: 'tcg', timeoutMs: 180_000 });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const timed = async (fn) => {
  const t = performance.now();
  const r = await fn();
  if (r === false) throw new Error('a request failed');
  return performance.now() - t;
};
try {
  const guest = new GuestSession(ssh, results);
  const first = await timed(() => guest.agent.request('ping', {}, 120_000).then((a) => a.ok));
  const read = { name: 'read-file', args: { path: '/sys/devices/system/node/online' } };
  const child = { name: 'mempolicy', args: {} };
  const agentRead = [];
  for (let i = 0; i < n; i++) agentRead.push(await timed(() => guest.agent.request('probe', read, 30_000).then((a) => a.ok && a.result.ok)));
  const agentChild = [];
  for (let i = 0; i < n; i++) {
    await sleep(3000);
    agentChild.push(await timed(() => guest.agent.request('probe', child, 60_000).then((a) => a.ok && a.result.ok)));
  }
  const agentB2b = [];
  for (let i = 0; i < n; i++) agentB2b.push(await timed(() => guest.agent.request('probe', child, 60_000).then((a) => a.ok && a.result.ok)));
  const fresh = [];
  const asNobody = { name: 'mempolicy', args: { asUid: 65534 } };
  for (let i = 0; i < Math.min(n, 8); i++) fresh.push(await timed(() => guest.agent.request('probe', asNobody, 60_000).then((a) => a.ok && a.result.ok)));
  const perCommand = [];
  for (let i = 0; i < Math.min(n, 8); i++) perCommand.push(await timed(() => ssh.exec('cxl-harness probe read-file --path=/sys/devices/system/node/online --json').then((r) => r.exitCode === 0)));
  const fig = {
    bootToSshS: +(bootMs / 1000).toFixed(1),
    agentStartMs: Math.round(first),
    agentReadMs: Math.round(median(agentRead)),
    agentChildMs: Math.round(median(agentChild)),
    agentChildBackToBackMs: Math.round(median(agentB2b)),
    freshChildMs: Math.round(median(fresh)),
    nodePerCommandMs: Math.round(median(perCommand)),
  };
  console.log(`boot to SSH      ${fig.bootToSshS} s`);
  console.log(`agent start      ${fig.agentStartMs} ms (first request after SSH)`);
  console.log(`agent read       ${fig.agentReadMs} ms median of ${n}`);
  console.log(`agent child      ${fig.agentChildMs} ms median of ${n} (3 s apart)`);
  console.log(`agent child b2b  ${fig.agentChildBackToBackMs} ms median of ${n} (back to back)`);
  console.log(`fresh child      ${fig.freshChildMs} ms median of ${fresh.length} (a new child each time)`);
  console.log(`node per command ${fig.nodePerCommandMs} ms median of ${perCommand.length}`);
  console.log(JSON.stringify(fig));
  guest.agent.close();
} finally {
  ssh.close();
  await vm.stop();
}

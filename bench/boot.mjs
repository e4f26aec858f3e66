#!/usr/bin/env node
// Boot to SSH, broken down (run on demand; never a test). Boots the default guest (distro
// kernel unless --kernel, default topology) N times and prints, as medians, when each
// milestone came in host time since QEMU was started (console lines as they arrive: the
// console file is read every 20 ms) and, for the kernel's lines, in the guest's clock:
//   first console byte, the kernel reaching /init, the root and payload disks mounted, the
//   guest init starting and saying it is ready (sshd started), SSH answering, the CXL
//   preflight passing (it waits for the drivers init loads meanwhile), the agent's first answer.
//   node bench/boot.mjs [N=3] [--kernel BZIMAGE]
// The last line is a JSON summary.
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const dist = new URL('../dist/', import.meta.url);
const load = (p) => import(new URL(p, dist).href);
const [{ resolveKernel }, { guestImage }, { loadTopology }, { assertGuestCxl, bootGuest }, { Results }, { GuestSession }] = await Promise.all([
  load('kernel/resolve.js'), load('image/image.js'), load('qemu/topology.js'), load('machine/boot.js'), load('results/results.js'), load('remote/session.js'),
]);

const { values, positionals } = parseArgs({ options: { kernel: { type: 'string' } }, allowPositionals: true });
const n = Number(positionals[0] ?? 3);
const log = (l) => console.error(`[bench] ${l}`);
const kernel = await resolveKernel(values.kernel ? { kind: 'prebuilt', image: values.kernel } : { kind: 'distro' }, log);
const image = await guestImage(kernel, { log });

/** Console milestones: a line's pattern, and whether it carries the kernel's timestamp. */
const MILESTONES = [
  ['kernel at /init', /Run \/init as init process/],
  ['root mounted', /EXT4-fs \(vda\): mounted/],
  ['init started', /cxl-harness: init started/],
  ['payload mounted', /EXT4-fs \(vdb\): mounted/],
  ['guest ready', /cxl-harness: guest ready/],
];

/** Host arrival time of each console line, read from the console file every 20 ms from QEMU's start. */
function watch(file, t0) {
  const seen = { firstByte: undefined, lines: [] };
  let offset = 0;
  let partial = '';
  const timer = setInterval(() => {
    let size = 0;
    try {
      size = statSync(file).size;
    } catch {
      return;
    }
    if (size <= offset) return;
    const now = Date.now() - t0;
    seen.firstByte ??= now;
    const text = readFileSync(file, 'utf8').slice(offset);
    offset = size;
    const parts = (partial + text).split('\n');
    partial = parts.pop();
    for (const line of parts) seen.lines.push({ line, hostMs: now });
  }, 20);
  return { seen, stop: () => clearInterval(timer) };
}

const boots = [];
for (let i = 0; i < n; i++) {
  const results = await Results.create({ dir: join(mkdtempSync(join(tmpdir(), 'cxlh-bench-boot-')), 'r') });
  const t0 = Date.now();
  const w = watch(join(results.dir, 'console.log'), t0);
  const { vm, ssh, bootMs } = await bootGuest({ kernel, image, topology: loadTopology('default'), dir: results.dir, accel: 'tcg', timeoutMs: 180_000 });
  try {
    await assertGuestCxl(ssh, async () => readFileSync(join(results.dir, 'console.log'), 'utf8'), kernel.release);
    const preflightMs = Date.now() - t0;
    const guest = new GuestSession(ssh, results);
    const ping = await guest.agent.request('ping', {}, 120_000);
    const agentMs = Date.now() - t0;
    if (!ping.ok) throw new Error(`the agent did not answer: ${ping.error}`);
    w.stop();
    const b = { firstByteMs: w.seen.firstByte, sshMs: bootMs, preflightMs, agentMs };
    for (const [name, re] of MILESTONES) {
      const hit = w.seen.lines.find((l) => re.test(l.line));
      const guestS = hit && /^\[\s*(\d+\.\d+)\]/.exec(hit.line)?.[1];
      b[name] = { hostMs: hit?.hostMs, ...(guestS ? { guestMs: Math.round(Number(guestS) * 1000) } : {}) };
    }
    boots.push(b);
    log(`boot ${i + 1}: ssh ${bootMs} ms, agent ${agentMs} ms`);
    guest.agent.close();
  } finally {
    w.stop();
    ssh.close();
    await vm.stop();
  }
}

const median = (xs) => {
  const s = xs.filter((x) => x !== undefined).sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : undefined;
};
const fig = { boots: n, firstByteMs: median(boots.map((b) => b.firstByteMs)) };
console.log(`${'milestone'.padEnd(18)} ${'host ms'.padStart(8)} ${'guest ms'.padStart(9)}`);
console.log(`${'first console byte'.padEnd(18)} ${String(fig.firstByteMs).padStart(8)}`);
for (const [name] of MILESTONES) {
  const host = median(boots.map((b) => b[name].hostMs));
  const guest = median(boots.map((b) => b[name].guestMs));
  fig[name] = { hostMs: host, ...(guest !== undefined ? { guestMs: guest } : {}) };
  console.log(`${name.padEnd(18)} ${String(host ?? '-').padStart(8)} ${String(guest ?? '').padStart(9)}`);
}
fig.sshMs = median(boots.map((b) => b.sshMs));
fig.preflightMs = median(boots.map((b) => b.preflightMs));
fig.agentMs = median(boots.map((b) => b.agentMs));
console.log(`${'SSH answers'.padEnd(18)} ${String(fig.sshMs).padStart(8)}`);
console.log(`${'CXL preflight'.padEnd(18)} ${String(fig.preflightMs).padStart(8)}`);
console.log(`${'agent answers'.padEnd(18)} ${String(fig.agentMs).padStart(8)}`);
console.log(JSON.stringify(fig));

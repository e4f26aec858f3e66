/**
 * Safety, for real, with two guests at once on this machine (two `cxl-harness ssh` runs):
 * no port, socket or cache collision; each QEMU listens on 127.0.0.1 only; the harness keys
 * are 0600 and a wrong pinned host key is refused by the real guest; an argv word full of
 * shell metacharacters reaches the guest as data and runs nothing. Then one guest's command
 * ends and the other's kernel panics under `ssh --exec`: exit 0 with the output, and exit 3
 * naming the panic. Two boots, in parallel.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GuestSsh, type ConnectOptions } from '../../src/remote/ssh.js';
import { sshKeys } from '../../src/image/keys.js';
import { qemuProcesses } from '../lib/cli.js';
import { qemuPid, startCli, waitForFile } from '../fixtures/spine/harness.js';

const base = mkdtempSync(join(tmpdir(), 'cxlh-safety-'));

/** host:port of every TCP socket in LISTEN state that process `pid` holds (IPv4 and IPv6). */
function listening(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // fd closed meanwhile
    }
  }
  const out: string[] = [];
  for (const table of ['tcp', 'tcp6']) {
    for (const line of readFileSync(`/proc/net/${table}`, 'utf8').trim().split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] !== '0A' || !inodes.has(f[9]!)) continue; // 0A = LISTEN
      const [hex, port] = f[1]!.split(':') as [string, string];
      const addr = table === 'tcp' ? hex.match(/../g)!.reverse().map((b) => parseInt(b, 16)).join('.') : `[${hex}]`;
      out.push(`${addr}:${parseInt(port, 16)}`);
    }
  }
  return out.sort();
}

function hostfwdPort(dir: string): number {
  const argv = JSON.parse(readFileSync(join(dir, 'qemu.argv.json'), 'utf8')) as string[];
  const net = argv.find((a) => a.includes('hostfwd='))!;
  return Number(/hostfwd=tcp:127\.0\.0\.1:(\d+)-:22/.exec(net)![1]);
}

t.test('two guests at once: separate ports and sockets, 127.0.0.1 only, keys pinned, metacharacters inert; a panic under ssh --exec is exit 3', async (t) => {
  const dirs = [join(base, 'a'), join(base, 'b')];
  // Each guest waits for /tmp/done, so both are up at the same time while the test looks at them.
  const runs = dirs.map((dir) => startCli(t, ['ssh', '--results', dir, '--exec', 'while [ ! -e /tmp/done ]; do sleep 0.3; done; echo finished'], dir));
  let ended = 0;
  for (const r of runs) void r.done.then(() => ended++);
  for (const dir of dirs) t.ok(await waitForFile(join(dir, 'qemu.argv.json'), () => ended > 0), `${dir}: QEMU started`);

  const keys = await sshKeys();
  for (const k of [keys.clientKey, keys.hostKey]) t.equal(statSync(k).mode & 0o777, 0o600, `${k} is 0600`);
  const ports = dirs.map(hostfwdPort);
  t.not(ports[0], ports[1], 'two different SSH ports');
  const options = ports.map((port): ConnectOptions => ({ port, privateKeyPath: keys.clientKey, hostPub: keys.hostPub }));
  const guests = await Promise.all(options.map((o) => GuestSsh.waitReady(o, () => ended === 0, 240_000)));
  t.teardown(() => guests.forEach((g) => g.close()));

  const qmp = dirs.map((dir) => (JSON.parse(readFileSync(join(dir, 'qemu.argv.json'), 'utf8')) as string[]).find((a) => a.startsWith('unix:'))!);
  t.not(qmp[0], qmp[1], 'two different QMP sockets');
  for (const [i, dir] of dirs.entries()) {
    t.same(listening(qemuPid(dir)), [`127.0.0.1:${ports[i]}`], `${dir}: QEMU listens on 127.0.0.1:${ports[i]} and nothing else`);
  }

  // The real guest's host key is the pinned one: pinning any other key is refused.
  await t.rejects(GuestSsh.connect({ ...options[0]!, hostPub: keys.clientPub }, 15_000), { message: /verification failed/i });

  // A scenario or probe value full of shell syntax is one word in the guest, and runs nothing.
  const word = 'x; touch /root/canary1 && $(touch /root/canary2) `touch /root/canary3` | tee /root/canary4 > /root/canary5';
  const echoed = await guests[0]!.exec(['printf', '%s', word]);
  t.equal(echoed.exitCode, 0);
  t.equal(echoed.stdout, word, 'the guest got the word as it is');
  const check = await guests[0]!.exec('ls /root');
  t.equal(check.exitCode, 0);
  t.same(check.stdout.split('\n').filter((f) => f.startsWith('canary')), [], 'no canary was created');

  // Both guests are separate machines: a file in one is not in the other.
  await guests[0]!.exec(['touch', '/tmp/only-in-a']);
  t.equal((await guests[1]!.exec(['test', '-e', '/tmp/only-in-a'])).exitCode, 1);

  // a ends its command; b's kernel panics under the running `ssh --exec`, which must say so
  // and exit 3 (kernel crash), not report a lost connection or the command's missing status.
  await guests[0]!.exec(['touch', '/tmp/done']);
  void guests[1]!.exec('echo c > /proc/sysrq-trigger', { timeoutMs: 20_000 }).catch(() => undefined);
  const [a, b] = await Promise.all(runs.map((r) => r.done));
  t.same([a!.exitCode, a!.stdout], [0, 'finished'], 'a finished cleanly with its command\'s output and status');
  t.equal(b!.exitCode, 3, 'b: exit 3, kernel crash');
  t.match(b!.stderr, /the guest kernel panicked during the command: .*Kernel panic - not syncing: sysrq triggered crash \(see console\.log in /);
  t.match(readFileSync(join(dirs[1]!, 'console.log'), 'utf8'), /Kernel panic - not syncing: sysrq triggered crash/, 'b: the panic is in its console.log');
  t.notMatch(readFileSync(join(dirs[0]!, 'console.log'), 'utf8'), /Kernel panic/, 'a: its console has no panic');
  for (const dir of dirs) t.same(qemuProcesses(dir), [], `${dir}: no QEMU left`);
});

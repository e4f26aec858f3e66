/**
 * The ssh layer against an in-process ssh2 server: the pinned host key (another key is
 * refused before any command), quoted argv, a connection dropped under a command (error,
 * never a pass; reconnect only for the next command and only while QEMU lives), timeouts,
 * output decoded whole and followed as it arrives, and the harness's own keys kept 0600.
 */
import t from 'tap';
import { execa } from 'execa';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import ssh2, { type Connection } from 'ssh2';
import { GuestSsh, hostKeyVerifier, type ConnectOptions } from '../../src/remote/ssh.js';

const { Server } = ssh2; // CommonJS: Server is not a named ESM export
const dir = mkdtempSync(join(tmpdir(), 'cxlh-ssh-'));

async function keypair(name: string): Promise<{ key: string; pub: string }> {
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', join(dir, name)]);
  return { key: join(dir, name), pub: readFileSync(join(dir, `${name}.pub`), 'utf8').trim() };
}

const host = await keypair('host');
const other = await keypair('other-host');
const client = await keypair('client');

/** A guest stand-in: echoes the command line it got; `drop` kills the connection, `noexit` closes without a status, `hang` never answers. */
async function startGuest(hostKey: string): Promise<{ port: number; commands: string[]; connections: () => number; close: () => Promise<void> }> {
  const commands: string[] = [];
  let connections = 0;
  const open = new Set<Connection>();
  const server = new Server({ hostKeys: [readFileSync(hostKey)] }, (conn) => {
    connections++;
    open.add(conn);
    conn.on('close', () => open.delete(conn));
    conn.on('error', () => undefined);
    conn.on('authentication', (ctx) => (ctx.method === 'publickey' ? ctx.accept() : ctx.reject(['publickey'])));
    conn.on('ready', () => {
      conn.on('session', (accept) => {
        accept().on('exec', (acceptExec, _reject, info) => {
          commands.push(info.command);
          const stream = acceptExec();
          if (info.command === 'drop') return void conn.end();
          if (info.command === 'noexit') return void stream.close();
          if (info.command === 'hang') return;
          if (info.command === 'stream') {
            stream.write('first\n');
            stream.stderr.write('warn\n');
            setTimeout(() => { stream.write('second\n'); stream.exit(0); stream.end(); }, 300);
            return;
          }
          if (info.command === 'euro') {
            const euro = Buffer.from('€', 'utf8');
            stream.write(euro.subarray(0, 1));
            setTimeout(() => { stream.write(euro.subarray(1)); stream.exit(0); stream.end(); }, 20);
            return;
          }
          stream.write(info.command);
          stream.stderr.write('err-side');
          stream.exit(7);
          stream.end();
        });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    commands,
    connections: () => connections,
    close: async () => {
      for (const c of open) c.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

t.test('10 hostKeyVerifier accepts exactly the pinned key blob', async (t) => {
  const blob = (pub: string) => Buffer.from(pub.split(' ')[1]!, 'base64');
  const verify = hostKeyVerifier(host.pub);
  t.equal(verify(blob(host.pub)), true);
  t.equal(verify(blob(other.pub)), false, 'another ed25519 key is refused');
  t.equal(verify(Buffer.alloc(0)), false);
  t.equal(verify(Buffer.concat([blob(host.pub), Buffer.from([0])])), false, 'a longer blob with the same prefix is refused');
  for (const bad of ['', 'ssh-ed25519', 'ssh-ed25519 not-base64-at-all!', `ssh-rsa ${host.pub.split(' ')[1]}`]) {
    t.throws(() => hostKeyVerifier(bad), { code: 'SSH_HOST_KEY_INVALID' }, `malformed pin ${JSON.stringify(bad.slice(0, 20))} is an error, not "accept anything"`);
  }
});

t.test('20 a guest presenting another host key is refused before any command runs', async (t) => {
  const guest = await startGuest(other.key);
  t.teardown(guest.close);
  const options: ConnectOptions = { port: guest.port, privateKeyPath: client.key, hostPub: host.pub };
  await t.rejects(GuestSsh.connect(options, 5000), { message: /verification failed/i });
  // waitReady gives up at once instead of retrying until its deadline.
  await t.rejects(GuestSsh.waitReady(options, () => true, 60_000), { message: /does not match the pinned key/ });
  t.same(guest.commands, [], 'no command reached the impostor');
});

t.test('30 with the right key: argv quoted word by word, results never thrown', async (t) => {
  const guest = await startGuest(host.key);
  t.teardown(guest.close);
  const ssh = await GuestSsh.connect({ port: guest.port, privateKeyPath: client.key, hostPub: host.pub }, 5000);
  t.teardown(() => ssh.close());
  const r = await ssh.exec(['cxl-harness', 'probe', 'place', '--dir=/tmp/x; rm -rf /', "it's"]);
  t.equal(r.command, `cxl-harness probe place '--dir=/tmp/x; rm -rf /' 'it'\\''s'`);
  t.same(guest.commands, [r.command], 'the guest got exactly the quoted line');
  t.match(r, { stdout: r.command, stderr: 'err-side', exitCode: 7, timedOut: false, disconnected: false });
  const euro = await ssh.exec('euro');
  t.equal(euro.stdout, '€', 'a character split across two packets stays whole');
  const slow = await ssh.exec('hang', { timeoutMs: 300 });
  t.match(slow, { exitCode: null, timedOut: true, disconnected: false });
  const noexit = await ssh.exec('noexit');
  t.match(noexit, { exitCode: null, disconnected: true, timedOut: false }, 'a channel closed without exit status is a lost command');
});

t.test('35 output can be followed as it arrives; the result still holds all of it', async (t) => {
  const guest = await startGuest(host.key);
  t.teardown(guest.close);
  const ssh = await GuestSsh.connect({ port: guest.port, privateKeyPath: client.key, hostPub: host.pub }, 5000);
  t.teardown(() => ssh.close());
  const seen: string[] = [];
  const pending = ssh.exec('stream', {
    onStdout: (d) => seen.push(`out:${d.toString()}`),
    onStderr: (d) => seen.push(`err:${d.toString()}`),
  });
  for (let i = 0; i < 100 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  t.same(seen, ['out:first\n', 'err:warn\n'], 'the first chunks arrive while the command still runs');
  const r = await pending;
  t.same(seen, ['out:first\n', 'err:warn\n', 'out:second\n']);
  t.match(r, { stdout: 'first\nsecond\n', stderr: 'warn\n', exitCode: 0 });
});

t.test('40 a connection dropped under a command: that command is lost, the next one reconnects while QEMU lives', async (t) => {
  const guest = await startGuest(host.key);
  t.teardown(guest.close);
  let qemuAlive = true;
  const ssh = await GuestSsh.connect({ port: guest.port, privateKeyPath: client.key, hostPub: host.pub }, 5000, () => qemuAlive);
  t.teardown(() => ssh.close());
  const dropped = await ssh.exec('drop');
  t.match(dropped, { exitCode: null, disconnected: true }, 'never a silent pass');
  t.equal(ssh.isClosed, true);
  const next = await ssh.exec(['echo', 'next']);
  t.match(next, { stdout: 'echo next', exitCode: 7, disconnected: false });
  t.equal(ssh.reconnects, 1);
  t.equal(guest.connections(), 2);
  t.same(guest.commands, ['drop', 'echo next'], 'the lost command was not run again');

  await ssh.exec('drop');
  qemuAlive = false;
  const afterExit = await ssh.exec('true');
  t.match(afterExit, { exitCode: null, disconnected: true, stderr: 'not run: the connection was lost and QEMU is not running' });
  t.equal(guest.connections(), 2, 'no reconnect once QEMU is gone');

  ssh.close();
  qemuAlive = true;
  t.match(await ssh.exec('true'), { disconnected: true, stderr: 'not run: the connection was closed by the harness' });
});

t.test('50 the harness keys are generated 0600 in the cache', async (t) => {
  process.env.CXL_HARNESS_CACHE = join(dir, 'cache');
  const { sshKeys } = await import('../../src/image/keys.js');
  const keys = await sshKeys();
  for (const k of [keys.clientKey, keys.hostKey]) t.equal(statSync(k).mode & 0o777, 0o600, `${k} is 0600`);
  t.match(keys.hostPub, /^ssh-ed25519 \S+ cxl-harness-host$/);
  t.ok(hostKeyVerifier(keys.hostPub), 'the generated host key is a valid pin');
  t.equal((await sshKeys()).hostPub, keys.hostPub, 'generated once, then reused');
});

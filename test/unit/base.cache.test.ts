/**
 * The one cache: entries appear whole or not at all, a build failure leaves nothing, a lock
 * left by a dead process is taken over, and two callers at once (in one process or in two)
 * build an entry once.
 */
import t from 'tap';
import { execa } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { cached, hashParts, lock, takeOver } from '../../src/cache.js';

const root = mkdtempSync(join(tmpdir(), 'cxlh-cache-'));
process.env.CXL_HARNESS_CACHE = root;

/** A pid that is certainly dead: a process that has exited and been reaped. */
async function deadPid(): Promise<number> {
  const p = execa('true');
  await p;
  return p.pid!;
}

t.test('10 hashParts: labelled parts, order-independent, boundaries matter', async (t) => {
  t.equal(hashParts({ a: 'x', b: 'y' }), hashParts({ b: 'y', a: 'x' }));
  t.not(hashParts({ a: 'xy', b: '' }), hashParts({ a: 'x', b: 'y' }), 'moving bytes between parts changes the key');
  t.not(hashParts({ a: 'x' }), hashParts({ b: 'x' }));
  t.match(hashParts({ a: Buffer.from([0, 1]) }), /^[0-9a-f]{64}$/);
});

t.test('20 an entry appears whole: built in a temp dir, renamed when complete', async (t) => {
  let seenDuringBuild: boolean | undefined;
  const first = await cached('things', 'k1', async (dir) => {
    seenDuringBuild = existsSync(join(root, 'things', 'k1'));
    t.match(dir, /k1\.tmp-\d+$/, 'the build writes into a temp dir');
    writeFileSync(join(dir, 'content'), 'one');
  }, { note: 'test' });
  t.equal(seenDuringBuild, false, 'nobody sees the entry before it is complete');
  t.same(first, { dir: join(root, 'things', 'k1'), key: 'k1', hit: false });
  t.same(readdirSync(first.dir).sort(), ['.complete', '.meta.json', 'content']);
  t.match(JSON.parse(readFileSync(join(first.dir, '.meta.json'), 'utf8')), { kind: 'things', key: 'k1', note: 'test' });
  const again = await cached('things', 'k1', async () => { t.fail('a complete entry is never rebuilt'); });
  t.same(again, { dir: first.dir, key: 'k1', hit: true });
  t.same(readdirSync(join(root, 'things')).sort(), ['k1'], 'no temp dir or lock left behind');
});

t.test('30 a failed build leaves neither an entry nor its temp dir, and the error goes through', async (t) => {
  await t.rejects(cached('things', 'k2', async (dir) => {
    writeFileSync(join(dir, 'half'), 'x');
    throw new Error('mkfs failed');
  }), { message: 'mkfs failed' });
  t.same(readdirSync(join(root, 'things')).filter((f) => f.startsWith('k2')), []);
  // An entry without .complete (a build killed before the rename cannot leave one, but a user copy could) is rebuilt.
  mkdirSync(join(root, 'things', 'k3'), { recursive: true });
  writeFileSync(join(root, 'things', 'k3', 'stale'), 'x');
  const e = await cached('things', 'k3', async (dir) => writeFileSync(join(dir, 'fresh'), 'y'));
  t.equal(e.hit, false);
  t.same(readdirSync(e.dir).sort(), ['.complete', '.meta.json', 'fresh']);
});

t.test('40 a lock whose owner is dead is taken over; a live owner is waited for, then named', async (t) => {
  const base = join(root, 'locks');
  mkdirSync(join(base, 'dead.lock'), { recursive: true });
  const dead = await deadPid();
  writeFileSync(join(base, 'dead.lock', 'pid'), String(dead));
  const release = await lock(join(base, 'dead.lock'), 2000);
  t.equal(readFileSync(join(base, 'dead.lock', 'pid'), 'utf8'), String(process.pid), 'the lock is ours now');
  await release();
  t.notOk(existsSync(join(base, 'dead.lock')), 'released');

  // The entry under a dead owner's lock gets built.
  mkdirSync(join(root, 'things', 'k4.lock'), { recursive: true });
  writeFileSync(join(root, 'things', 'k4.lock', 'pid'), String(dead));
  t.equal((await cached('things', 'k4', async (dir) => writeFileSync(join(dir, 'c'), 'z'))).hit, false);

  const sleeper = execa('sleep', ['30'], { reject: false });
  t.teardown(() => { sleeper.kill('SIGKILL'); });
  mkdirSync(join(base, 'live.lock'), { recursive: true });
  writeFileSync(join(base, 'live.lock', 'pid'), String(sleeper.pid));
  await t.rejects(lock(join(base, 'live.lock'), 300), {
    code: 'CACHE_LOCKED',
    message: `cache entry ${join(base, 'live.lock')} is locked by process ${sleeper.pid} for too long`,
    hint: /wait for the other cxl-harness run/,
  });
  t.equal(readFileSync(join(base, 'live.lock', 'pid'), 'utf8'), String(sleeper.pid), 'a live owner keeps its lock');
});

t.test('50 a waiter that saw the dead owner late does not remove the new owner\'s lock', async (t) => {
  // B read the dead pid; meanwhile A took the lock over and holds it. B's takeover must not remove it.
  const path = join(root, 'locks', 'race.lock');
  const dead = await deadPid();
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'pid'), String(dead));
  const releaseA = await lock(path, 2000);
  await takeOver(path, dead);
  t.ok(existsSync(path), 'the lock is still there');
  t.same(readdirSync(path), ['pid'], 'with its pid file back in place');
  t.equal(readFileSync(join(path, 'pid'), 'utf8'), String(process.pid), 'still naming the new owner');
  await releaseA();
  // And a takeover of a truly dead lock removes it.
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'pid'), String(dead));
  await takeOver(path, dead);
  t.notOk(existsSync(path));
});

t.test('55 many waiters on one dead lock: exactly one holds it at a time', async (t) => {
  const path = join(root, 'locks', 'crowd.lock');
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'pid'), String(await deadPid()));
  let inside = 0;
  let most = 0;
  await Promise.all(Array.from({ length: 6 }, async () => {
    const release = await lock(path, 20_000);
    inside++;
    most = Math.max(most, inside);
    await sleep(20);
    inside--;
    await release();
  }));
  t.equal(most, 1, 'never two holders at once');
});

t.test('60 two callers at once build once: in one process, and in two processes', async (t) => {
  let builds = 0;
  const build = async (dir: string): Promise<void> => {
    builds++;
    await sleep(300);
    writeFileSync(join(dir, 'c'), 'x');
  };
  const [a, b] = await Promise.all([cached('things', 'k5', build), cached('things', 'k5', build)]);
  t.equal(builds, 1);
  t.same([a.hit, b.hit].sort(), [false, true]);

  const worker = fileURLToPath(new URL('../fixtures/spine/cache-worker.ts', import.meta.url));
  const log = join(root, 'builds.log');
  writeFileSync(log, '');
  const run = () => execa(process.execPath, [...process.execArgv, worker, log, 'k6'], { env: { CXL_HARNESS_CACHE: root } });
  const [p1, p2] = await Promise.all([run(), run()]);
  const entries = [JSON.parse(p1.stdout), JSON.parse(p2.stdout)] as { dir: string; hit: boolean }[];
  const builders = readFileSync(log, 'utf8').trim().split('\n');
  t.equal(builders.length, 1, 'one process built the entry');
  t.same(entries.map((e) => e.hit).sort(), [false, true], 'the other found it complete');
  t.equal(entries[0]!.dir, entries[1]!.dir);
  t.equal(readFileSync(join(entries[0]!.dir, 'content'), 'utf8'), `built by ${builders[0]}\n`);
});

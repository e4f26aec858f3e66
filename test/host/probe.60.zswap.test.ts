// zswap against the host kernel: random pages go out through zswap and come back intact.
// The probe changes host state (zswap enabled, swap); both are put back afterwards.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import t from 'tap';
import { findCgroup2Root, isProbeFailure, probeZswap } from '../../src/probe/index.js';

const enabledFile = '/sys/module/zswap/parameters/enabled';
const noZswap = !existsSync(enabledFile) ? 'kernel without zswap' : process.getuid?.() !== 0 ? 'needs root' : false;

t.test('10 pageout pushes random pages through zswap; counters rise, then fall back after the consumer exits', { skip: noZswap }, async (t) => {
  const was = readFileSync(enabledFile, 'utf8').trim();
  t.teardown(() => writeFileSync(enabledFile, was));
  const r = await probeZswap({ pages: 64, swapMiB: 16, keepSwap: false });
  if (isProbeFailure(r)) throw new Error(r.message);
  t.equal(r.ok, true, `ok (${r.code})`);
  t.equal(r.config.enabled?.ok, true);
  t.equal(r.parameters.enabled, 'Y');
  const consumer = r.consumer;
  if (!consumer || isProbeFailure(consumer)) throw new Error(`consumer failed: ${JSON.stringify(consumer)}`);
  t.same(consumer.placed.nodes, { 0: 64 });
  t.equal(consumer.swappedOut, 64, 'every page left memory');
  // The counters are the host's: while the probe's swap is on, the host may swap a few pages of
  // other processes through zswap too (seen: 2, with the page cache full). Those are allowed,
  // bounded, and taken off the later comparisons.
  const out = consumer.during.vmstat.zswpout! - r.before.vmstat.zswpout!;
  const others = out - 64;
  t.ok(others >= 0 && others <= 16, `zswpout rose by the page count (${out}: ${others} of other processes)`);
  const stored = consumer.during.debugfs.stored_pages! - r.before.debugfs.stored_pages!;
  t.ok(stored >= 64 && stored <= 64 + others, `debugfs stored_pages rose by the page count (${stored})`);
  t.ok(consumer.during.meminfo.Zswapped! >= 64 * 4, 'Zswapped covers the pages (kB)');
  t.equal(consumer.corruptPages, 0, 'contents survived the round trip');
  t.same(consumer.afterSwapIn?.nodes, { 0: 64 });
  t.ok(r.after.debugfs.stored_pages! - r.before.debugfs.stored_pages! <= others, 'entries gone after swap-in and exit');
  t.ok(r.after.nodes['0']?.MemFree, 'node meminfo recorded after');
  if (r.swapSetup) t.equal(r.swapTeardown?.ok, true, 'swap set up by the probe was torn down');
});

const root = findCgroup2Root();
const memoryInV2 = root !== null && readFileSync(`${root}/cgroup.controllers`, 'utf8').split(/\s+/).includes('memory');

t.test('20 memory.reclaim pressure needs the v2 memory controller; without it the probe says why', { skip: noZswap }, async (t) => {
  const was = readFileSync(enabledFile, 'utf8').trim();
  t.teardown(() => writeFileSync(enabledFile, was));
  const r = await probeZswap({ pages: 32, pressure: 'reclaim', swapMiB: 16, keepSwap: false });
  if (isProbeFailure(r)) throw new Error(r.message);
  if (memoryInV2) {
    t.equal(r.memcg?.ok, true);
    t.equal(r.ok, true, `ok (${r.code}): the consumer had left its memcg when it answered, so the probe could remove it`);
    const c = r.consumer;
    if (!c || isProbeFailure(c)) throw new Error(JSON.stringify(c));
    t.ok(c.swappedOut > 0, `memory.reclaim swapped ${c.swappedOut} pages`);
  } else {
    t.same([r.ok, r.memcg?.code], [false, 'ENOENT'], '+memory cannot be enabled in v2 here');
    t.notOk(r.consumer, 'no consumer ran');
  }
});

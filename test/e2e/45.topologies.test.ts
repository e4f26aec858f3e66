/**
 * Topologies beyond one device per window, booted for real on Debian's kernel: a host bridge
 * with two root ports under a one-target window (hotplug: both devices in one region, one
 * node of 1 GiB), a persistent-memory device beside a volatile one (enumerated, not onlined),
 * and the SPM suite with S interleaved across its bridge's two root ports (every row with the
 * stock column's verdict).
 */
import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunSummary } from '../../src/report/model.js';
import { qemuProcesses, readJson, runCli } from '../lib/cli.js';
import { UNPATCHED_SPM_VERDICTS } from '../lib/spm-verdicts.js';

const base = mkdtempSync(join(tmpdir(), 'cxlh-e2e-topologies-'));

t.test('hb-interleave: the host bridge interleaves its two root ports, one node holds both devices', async (t) => {
  const dir = join(base, 'hb-interleave');
  const r = await runCli(['run', '--suite', 'hotplug', '--topology', 'hb-interleave', '--results', dir, '--format', 'none']);
  t.equal(r.exitCode, 0, r.stderr.split('\n').filter((l) => /PASS|FAIL|ERROR/.test(l)).join('\n'));
  const s = readJson<RunSummary>(join(dir, 'summary.json'));
  t.same(s.checks.map((c) => [c.id, c.verdict]), [
    ['hotplug.enumerate', 'pass'], ['hotplug.online', 'pass'], ['hotplug.place', 'pass'], ['hotplug.move-pages', 'pass'], ['hotplug.offline', 'pass'],
  ]);
  const online = s.checks.find((c) => c.id === 'hotplug.online')!.observed as { memTotalKiB: number; blocks: number };
  t.equal(online.memTotalKiB, 1024 * 1024, 'the node has both 512 MiB devices');
  t.same(qemuProcesses(dir), []);
});

t.test('pmem: a persistent-memory device boots and is enumerated beside the volatile one, which onlines alone', async (t) => {
  const dir = join(base, 'pmem');
  const r = await runCli(['run', '--suite', 'hotplug', '--topology', 'pmem', '--results', dir, '--format', 'none']);
  t.equal(r.exitCode, 0, r.stderr.split('\n').filter((l) => /PASS|FAIL|ERROR/.test(l)).join('\n'));
  const s = readJson<RunSummary>(join(dir, 'summary.json'));
  t.same(s.checks.map((c) => [c.id, c.verdict]), [
    ['hotplug.enumerate', 'pass'], ['hotplug.online', 'pass'], ['hotplug.place', 'pass'], ['hotplug.move-pages', 'pass'], ['hotplug.offline', 'pass'],
  ]);
  t.equal((s.checks[0]!.observed as { memdevs: string[] }).memdevs.length, 2, 'both devices are memdevs');
  t.equal((s.checks[1]!.observed as { memTotalKiB: number }).memTotalKiB, 512 * 1024, 'the region holds the volatile device only');
  t.same(qemuProcesses(dir), []);
});

t.test('spm-interleave: the SPM suite with S interleaved across two root ports, on the stock kernel', async (t) => {
  const dir = join(base, 'spm-interleave');
  const r = await runCli(['run', '--topology', 'spm-interleave', '--results', dir, '--format', 'none']);
  t.equal(r.exitCode, 0, r.stderr.split('\n').filter((l) => /FAIL|ERROR/.test(l)).join('\n'));
  const s = readJson<RunSummary>(join(dir, 'summary.json'));
  t.equal(s.topology?.name, 'spm-interleave');
  t.same(s.checks.map((c) => [c.id, c.verdict]), UNPATCHED_SPM_VERDICTS, 'every row, in order, with the stock column\'s verdict');
  // The region flows' own records: C of one device, S of both devices on cxl.1's two ports.
  const onlines = readdirSync(join(dir, 'commands')).filter((f) => f.endsWith('-cxl-region-online.txt')).sort()
    .map((f) => JSON.parse(readFileSync(join(dir, 'commands', f), 'utf8').split('--- stdout\n')[1]!.split('\n--- stderr')[0]!) as { memdevs: string[]; nodeFacts: { memTotalKiB: number } });
  t.same(onlines.slice(0, 2).map((o) => [o.memdevs.length, o.nodeFacts.memTotalKiB]), [[1, 512 * 1024], [2, 1024 * 1024]], 'C: one device; S: two, 1 GiB');
  t.same(qemuProcesses(dir), []);
});

/**
 * Persistent memory for real, on the pmem preset (a 512 MiB persistent device with a 1 MiB label
 * storage area beside a volatile one): the pmem suite on Debian's 7.2.13 and on trixie's 6.12
 * (every verdict a literal), and the pmem-create-destroy repro loop (region, namespace, memory
 * online, all of it down again, three times in one guest).
 */
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunSummary } from '../../src/report/model.js';
import type { ReproSummary } from '../../src/repro/report.js';
import { qemuProcesses, readJson, runCli } from '../lib/cli.js';

const base = mkdtempSync(join(tmpdir(), 'cxlh-e2e-pmem-'));

const PMEM_VERDICTS = [
  ['pmem.enumerate', 'pass'], ['pmem.labels', 'pass'], ['pmem.online', 'pass'], ['pmem.place', 'pass'], ['pmem.offline', 'pass'],
];

for (const [name, args] of [['Debian sid 7.2.13', []], ['Debian trixie 6.12', ['--kernel-suite', 'trixie']]] as const) {
  t.test(`the pmem suite on ${name}: the persistent device becomes a node with its memory, and goes away again`, async (t) => {
    const dir = join(base, name.split(' ')[1]!);
    const r = await runCli(['run', '--suite', 'pmem', ...args, '--results', dir, '--format', 'none']);
    t.equal(r.exitCode, 0, r.stderr.split('\n').filter((l) => /PASS|FAIL|ERROR|SKIP/.test(l)).join('\n'));
    const s = readJson<RunSummary>(join(dir, 'summary.json'));
    t.equal(s.topology?.name, 'pmem', 'the suite\'s own topology');
    t.same(s.checks.map((c) => [c.id, c.verdict]), PMEM_VERDICTS);
    t.same(s.findings.filter((f) => !f.expected), [], 'the console has no kernel report');
    const enumerate = s.checks.find((c) => c.id === 'pmem.enumerate')!.observed as Array<{ pmemSize: number; lsaSize: number; serial: string }>;
    t.match(enumerate, [{ pmemSize: 512 * 1024 * 1024, lsaSize: 1024 * 1024, serial: '0x2' }], 'the device as QEMU made it: 512 MiB, 1 MiB of labels, serial 2 (its place in the topology)');
    const labels = s.checks.find((c) => c.id === 'pmem.labels')!.observed as { bytes: number; zeroed: boolean; first: string; restored: string };
    t.equal(labels.bytes, 65536);
    t.equal(labels.zeroed, true);
    t.equal(labels.restored, labels.first, 'the labels written back read back the same');
    const online = s.checks.find((c) => c.id === 'pmem.online')!.observed as { region: string; ndRegion: string; namespace: string; dax: string; memTotalKiB: number; blocks: number; zones: string[] };
    t.match(online, { region: /^region(\d+)$/, driver: 'kmem', zones: ['Movable'] });
    const n = /^region(\d+)$/.exec(online.region)![1];
    t.same([online.ndRegion, online.namespace, online.dax], [`region${n}`, `namespace${n}.0`, `dax${n}.0`], 'the region, its nvdimm region, namespace and dax device share their number');
    // 512 MiB less the namespace's page metadata leaves three whole 128 MiB blocks.
    t.same([online.blocks, online.memTotalKiB], [3, 3 * 128 * 1024]);
    const placed = s.checks.find((c) => c.id === 'pmem.place')!;
    t.ok(placed.nodeMemory, 'the node\'s memory before and after the check is recorded');
    const offline = s.checks.find((c) => c.id === 'pmem.offline')!.observed as { left: string[]; nodeFacts: { hasMemory: boolean } };
    t.same(offline.left, [], 'no region, namespace or dax device left');
    t.equal(offline.nodeFacts.hasMemory, false);
    t.same(qemuProcesses(dir), []);
  });
}

t.test('repro pmem-create-destroy: three rounds of region, namespace, memory online and all of it down, in one guest', async (t) => {
  const dir = join(base, 'repro');
  const r = await runCli(['repro', 'pmem-create-destroy', '--iterations', '3', '--seed', '1', '--results', dir]);
  t.equal(r.exitCode, 0, r.stderr.split('\n').slice(-15).join('\n'));
  const s = readJson<ReproSummary>(join(dir, 'repro.json'));
  t.equal(s.outcome, 'pass');
  t.same(s.iterations.map((i) => [i.iteration, i.ok, i.steps.map((x) => x.do)]), [
    [1, true, ['pmem-online', 'pmem-offline']], [2, true, ['pmem-online', 'pmem-offline']], [3, true, ['pmem-online', 'pmem-offline']],
  ]);
  t.equal(s.boots, 1);
  t.same(qemuProcesses(dir), []);
});

t.test('a pmem scenario on a topology without a persistent device is refused before anything boots', async (t) => {
  const dir = join(base, 'refused');
  const r = await runCli(['repro', 'pmem-create-destroy', '--topology', 'default', '--results', dir]);
  t.equal(r.exitCode, 2);
  t.match(r.stderr, /SCENARIO_TOPOLOGY.*needs a persistent-memory device, and topology default has none/);
  t.match(r.stderr, /--topology pmem/);
});

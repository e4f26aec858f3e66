/**
 * The CI scale-out path for real: `matrix` plans kernels x topologies x suites, two shards
 * run their slices with `matrix --shard I/N --run` (each job boots its own guest), and `merge`
 * joins the shard results into one report per kernel/topology with a combined KCIDB file.
 * The kernels are Debian oldstable's, stable's and unstable's, on the 2-way interleave
 * topology: bookworm's 6.1 boots and skips what it cannot do (no CXL ram regions, named).
 */
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunSummary } from '../../src/report/model.js';
import { qemuProcesses, readJson, runCli } from '../lib/cli.js';

const base = mkdtempSync(join(tmpdir(), 'cxlh-matrix-'));
const AXES = ['--kernels', 'distro:bookworm,distro:trixie,distro', '--topologies', 'interleave', '--suites', 'hotplug'];
const NO_RAM_REGION = 'kernel has no CXL volatile (ram) regions: /sys/bus/cxl/devices/decoder0.*/create_ram_region absent (added in 6.3)';
const HOTPLUG = ['hotplug.enumerate', 'hotplug.online', 'hotplug.place', 'hotplug.move-pages', 'hotplug.offline'];
/** Each job's verdicts, check by check, as each kernel can do it. */
const VERDICTS: Record<string, Array<[string, string, string | null]>> = {
  'distro-bookworm__interleave__hotplug': [['hotplug.enumerate', 'pass', null], ...HOTPLUG.slice(1).map((id): [string, string, string] => [id, 'skip', NO_RAM_REGION])],
  'distro-trixie__interleave__hotplug': HOTPLUG.map((id): [string, string, null] => [id, 'pass', null]),
  distro__interleave__hotplug: HOTPLUG.map((id): [string, string, null] => [id, 'pass', null]),
};

interface Manifest { shard: string; jobs: { id: string; topology: string; dir: string; exitCode: number; outcome?: string }[] }
interface MergeIndex { exitCode: number; groups: { name: string; dir: string; outcome: string; checks: number; inputs: string[] }[]; notRun: string[] }

t.test('matrix plans two shards over three kernels, each job runs in a real guest, merge joins them', async (t) => {
  const plan = await runCli(['matrix', ...AXES, '--shards', '2']);
  t.equal(plan.exitCode, 0);
  t.same(JSON.parse(plan.stdout), [
    { shard: '1/2', jobs: ['distro-bookworm__interleave__hotplug', 'distro-trixie__interleave__hotplug'] },
    { shard: '2/2', jobs: ['distro__interleave__hotplug'] },
  ]);

  const shardDirs = [join(base, 'shard1'), join(base, 'shard2')];
  for (const [i, dir] of shardDirs.entries()) {
    const r = await runCli(['matrix', ...AXES, '--shard', `${i + 1}/2`, '--run', '--results-base', dir]);
    t.equal(r.exitCode, 0, `shard ${i + 1}/2 passed (${r.stderr.split('\n').filter(Boolean).slice(-2).join(' | ')})`);
    const manifest = readJson<Manifest>(join(dir, `shard-${i + 1}-of-2.json`));
    t.equal(manifest.jobs.length, i === 0 ? 2 : 1);
    for (const job of manifest.jobs) {
      t.same([job.topology, job.exitCode, job.outcome], ['interleave', 0, 'pass'], job.id);
      const summary = readJson<RunSummary>(join(job.dir, 'summary.json'));
      t.equal(summary.topology?.name, 'interleave', 'the job ran on its topology');
      t.same(summary.checks.map((c) => [c.id, c.verdict, c.reason ?? null]), VERDICTS[job.id], `${job.id}: every verdict`);
      t.ok(existsSync(join(job.dir, 'matrix-job.json')), 'the job dir names its matrix entry');
      t.same(qemuProcesses(job.dir), [], 'no QEMU left');
    }
  }
  // The shard of two kernels writes the kernels side by side, in Markdown and as a page.
  for (const ext of ['md', 'html']) t.ok(existsSync(join(shardDirs[0]!, `side-by-side-interleave-hotplug.${ext}`)), `shard 1: side-by-side-interleave-hotplug.${ext}`);
  const page = readFileSync(join(shardDirs[0]!, 'side-by-side-interleave-hotplug.html'), 'utf8');
  for (const id of ['hotplug.enumerate', 'hotplug.online', 'hotplug.offline']) t.match(page, id, `the cross-kernel page has ${id}`);
  const interleaved = readJson<RunSummary>(join(shardDirs[1]!, 'distro__interleave__hotplug', 'summary.json'));
  const online = interleaved.checks.find((c) => c.id === 'hotplug.online')!.observed as { memTotalKiB: number };
  t.equal(online.memTotalKiB, 1024 * 1024, 'the 2-way interleaved region onlines both 512 MiB devices as one 1 GiB node');

  const out = join(base, 'merged');
  const merged = await runCli(['merge', ...shardDirs, '--out', out, '--json']);
  t.equal(merged.exitCode, 0);
  const index = JSON.parse(merged.stdout) as MergeIndex;
  t.same(readJson<MergeIndex>(join(out, 'merge.json')), index);
  t.same(index.groups.map((g) => [g.name, g.outcome, g.checks, g.inputs.length]).sort(), [
    ['distro-bookworm__interleave', 'pass', 5, 1],
    ['distro-trixie__interleave', 'pass', 5, 1],
    ['distro__interleave', 'pass', 5, 1],
  ], 'one group per kernel, each with its 5 checks');
  t.same(index.notRun, []);
  for (const g of index.groups) {
    for (const f of ['summary.json', 'results.tap', 'junit.xml', 'kcidb.json', 'report.html']) t.ok(existsSync(join(out, g.dir, f)), `${g.dir}/${f}`);
  }
  const kcidb = readJson<{ tests: { path: string; status: string }[] }>(join(out, 'kcidb.json'));
  t.equal(kcidb.tests.length, 21, 'the combined KCIDB file holds the three runs\' tests (per run: the run itself, 5 checks and the console check)');
  t.same([...new Set(kcidb.tests.map((x) => x.status))].sort(), ['PASS', 'SKIP'], 'bookworm\'s region rows are SKIP');
});

/**
 * The main job, for real: `cxl-harness run` with no options is the SPM suite on spm-pair with
 * Debian's kernel. The verdict of every row is written out below, in run order, as the stock
 * column of ../shared/spm-interface.md says it must be: pass, or skip where the row only exists
 * on SPM kernels.
 */
import t from 'tap';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunSummary } from '../../src/report/model.js';
import { commandStdout, qemuProcesses, readJson, runCli } from '../lib/cli.js';
import { UNPATCHED_SKIP_REASONS, UNPATCHED_SPM_VERDICTS } from '../lib/spm-verdicts.js';

const dir = join(mkdtempSync(join(tmpdir(), 'cxlh-e2e-')), 'spm');


t.test('cxl-harness run (default: SPM suite) on the stock Debian kernel', async (t) => {
  const r = await runCli(['run', '--results', dir]);
  t.comment(r.stderr.split('\n').filter((l) => /PASS|FAIL|ERROR|SKIP|NOTE|generation|guest up|capabilities/.test(l)).join('\n'));
  t.equal(r.exitCode, 0, 'exit 0: every check passed or was skipped');

  const summary = readJson<RunSummary>(join(dir, 'summary.json'));
  t.equal(summary.suite, 'spm');
  t.equal(summary.topology?.name, 'spm-pair', 'the suite brings its own topology');
  t.equal(summary.generation?.name, 'stock', 'Debian 7.2 has none of the SPM interfaces');
  t.match(summary.generation?.evidence.join('\n') ?? '', /cpuset\.mems\.sysram absent/);
  t.match(summary.generation?.evidence.join('\n') ?? '', /no version of the series identified: stock/);
  t.equal(summary.outcome, 'pass');
  t.same(summary.checks.map((c) => [c.id, c.verdict]), UNPATCHED_SPM_VERDICTS, 'every row, in order, with the stock column\'s verdict');
  for (const c of summary.checks) {
    if (c.verdict === 'skip') t.equal(c.reason, UNPATCHED_SKIP_REASONS[c.id], `${c.id} says why it skips`);
    else t.ok(c.evidence.length > 0, `${c.id} has evidence`);
  }
  const hugetlb = summary.checks.find((c) => c.id === 'spm.hugetlb.node_pool')?.observed as { poolOnSpm: number; timedOut: boolean };
  t.same({ poolOnSpm: hugetlb.poolOnSpm, timedOut: hugetlb.timedOut }, { poolOnSpm: 4, timedOut: false }, 'S\'s pool grew to 4 on stock');

  // The pressure check parked node 0 in the agent (memory blocks offline, the hugetlb pool over
  // the rest) and gave back exactly what it took.
  const pressure = summary.checks.find((c) => c.id === 'spm.pressure.fallback')!;
  const kept = (label: string): { ok: boolean; offlined?: number[]; blocks: Array<{ block: number; ok: boolean }>; memFreeKiB: number; pool?: { ok: boolean; got: number } } => {
    const rel = pressure.evidence.find((e) => e.endsWith(`-${label}.txt`));
    t.ok(rel, `the pressure check kept ${label}`);
    return JSON.parse(commandStdout(dir, rel!)) as ReturnType<typeof kept>;
  };
  const park = kept('park-node0');
  t.ok(park.ok, 'node 0 was parked');
  t.ok(park.offlined!.length >= 4, `at least 4 of node 0's memory blocks went offline (${park.offlined!.join(' ')})`);
  t.ok(park.memFreeKiB > 0 && park.memFreeKiB < 512 * 1024, `node 0 had under 512 MiB free for the hog (${park.memFreeKiB} KiB)`);
  t.ok(park.pool === undefined || park.pool.ok, 'the hugetlb pool took what the offline left');
  const unpark = kept('unpark-node0');
  t.ok(unpark.ok, 'node 0 was given back');
  t.same(unpark.blocks.map((b) => [b.block, b.ok]), park.offlined!.map((b) => [b, true]), 'every block the park took came back online');

  const tap = readFileSync(join(dir, 'results.tap'), 'utf8');
  for (const [id] of UNPATCHED_SPM_VERDICTS) t.match(tap, new RegExp(`- ${id.replace(/\./g, '\\.')} - `), `TAP names ${id}`);
  t.match(tap, /# SKIP spm_node does not exist on unpatched kernels/, 'skips carry their reason in TAP');
  t.same(qemuProcesses(dir), [], 'no QEMU process outlives the run');
});

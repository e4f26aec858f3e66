/**
 * The pressure row's park when the agent is lost in the middle of it (CXL_HARNESS_SPM_FAULT=
 * park-agent-lost kills it while node 0's blocks go offline): the row says it could not set
 * up, node 0 is given back from what the guest shows (not from an answer that never came),
 * the restarted agent carries the run on, and S still goes offline at the end.
 */
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunSummary } from '../../src/report/model.js';
import { commandStdout, qemuProcesses, readJson, runCli } from '../lib/cli.js';

t.test('the agent killed while it parks node 0: the row errors, node 0 comes back, the run goes on', async (t) => {
  const dir = join(mkdtempSync(join(tmpdir(), 'cxlh-e2e-park-')), 'run');
  const r = await runCli(['run', '--results', dir], { env: { CXL_HARNESS_SPM_FAULT: 'park-agent-lost' } });
  t.comment(r.stderr.split('\n').filter((l) => /FAIL|ERROR|passed/.test(l)).join('\n'));
  t.equal(r.exitCode, 1, 'exit 1: the row could not set up');
  const s = readJson<RunSummary>(join(dir, 'summary.json'));
  const verdict = (id: string): string | undefined => s.checks.find((c) => c.id === id)?.verdict;
  const pressure = s.checks.find((c) => c.id === 'spm.pressure.fallback')!;
  t.equal(pressure.verdict, 'error');
  t.match(pressure.reason, /^precondition not met: node 0 free memory parked .*AGENT_LOST: the agent \(pid \d+\) went away \(while node\.park ran\)/);
  t.same(s.checks.filter((c) => c.verdict === 'error' || c.verdict === 'fail').map((c) => c.id), ['spm.pressure.fallback'], 'nothing else failed for it');
  t.same([verdict('spm.offline.spm'), verdict('spm.offline.node_released')], ['pass', 'pass'], 'S went offline after it, with the restarted agent');

  const kept = (label: string): string => commandStdout(dir, pressure.evidence.find((e) => e.endsWith(`-${label}.txt`))!);
  t.match(kept('park-failed-memory-state'), /Node 0 MemFree:/, 'the guest\'s own account of the park that did not answer');
  const unpark = JSON.parse(kept('unpark-node0')) as { ok: boolean; blocks: Array<{ block: number; ok: boolean }>; memFreeKiB: number; memTotalKiB: number };
  t.ok(unpark.ok, 'node 0 given back');
  t.ok(unpark.blocks.length > 0 && unpark.blocks.every((b) => b.ok), `the blocks the lost park had taken offline came back (${unpark.blocks.map((b) => b.block).join(' ')})`);
  t.ok(unpark.memTotalKiB > 1900 * 1024, `node 0 has its 2 GiB again (${unpark.memTotalKiB} KiB)`);
  t.same(qemuProcesses(dir), [], 'no QEMU process outlives the run');
});

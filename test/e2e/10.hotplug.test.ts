/**
 * The spine, for real: boot the Debian kernel under QEMU (TCG) with one CXL Type-3 device,
 * online it as a NUMA node, place and move pages, offline and remove it, shut down. Then the
 * run's reproducer.sh repeats it, and `nightly` runs it a third time against the first as
 * baseline.
 */
import t from 'tap';
import { execa } from 'execa';
import { existsSync, mkdtempSync, readFileSync, realpathSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Parser as TapParser } from 'tap-parser';
import type { DirComparison } from '../../src/report/compare.js';
import type { RunSummary } from '../../src/report/model.js';
import { qemuProcesses, readJson, runCli } from '../lib/cli.js';

const dir = join(mkdtempSync(join(tmpdir(), 'cxlh-e2e-')), 'hotplug');

t.test('cxl-harness run --suite hotplug on the Debian kernel', async (t) => {
  const r = await runCli(['run', '--suite', 'hotplug', '--results', dir]);
  t.comment(r.stderr.split('\n').filter((l) => /PASS|FAIL|ERROR|SKIP|guest up|kernel:/.test(l)).join('\n'));
  t.equal(r.exitCode, 0, 'exit code 0: every check passed');

  const summary = readJson<RunSummary>(join(dir, 'summary.json'));
  t.equal(summary.outcome, 'pass');
  t.same(summary.checks.map((c) => [c.id, c.verdict]), [
    ['hotplug.enumerate', 'pass'],
    ['hotplug.online', 'pass'],
    ['hotplug.place', 'pass'],
    ['hotplug.move-pages', 'pass'],
    ['hotplug.offline', 'pass'],
  ]);
  t.match(summary.kernel, { origin: 'distro', release: /^\d+\.\d+/ });
  t.match(summary.qemu?.version ?? '', /^\d+\.\d+/);

  const online = summary.checks.find((c) => c.id === 'hotplug.online')!.observed as { node: number; memTotalKiB: number; zones: string[] };
  const offline = summary.checks.find((c) => c.id === 'hotplug.offline')!.observed as { nodeFacts: { hasMemory: boolean; memTotalKiB: number | null } };
  t.comment(`node ${online.node} gained ${online.memTotalKiB} KiB (${online.zones.join(',')}), then has_memory=${offline.nodeFacts.hasMemory} MemTotal=${offline.nodeFacts.memTotalKiB ?? 'gone'}`);
  t.ok(online.node >= 1, 'the CXL memory became its own NUMA node');
  t.equal(online.memTotalKiB, 512 * 1024, 'with all 512 MiB of the device');
  t.equal(offline.nodeFacts.hasMemory, false, 'and lost it again');

  // The TAP on stdout is the same as results.tap and parses as TAP.
  const tap = readFileSync(join(dir, 'results.tap'), 'utf8');
  t.equal(r.stdout, tap, 'stdout carries results.tap');
  const parsed = await new Promise<{ ok: boolean; count: number }>((resolve) => {
    const p = new TapParser((results: { ok: boolean; count: number }) => resolve(results));
    p.end(tap);
  });
  t.ok(parsed.ok, 'the TAP report says ok');

  for (const f of ['console.log', 'dmesg.txt', 'junit.xml', 'kcidb.json', 'report.html', 'reproducer.sh', 'qemu.argv.json']) t.ok(existsSync(join(dir, f)), `${f} kept`);
  t.match(readFileSync(join(dir, 'console.log'), 'utf8'), /cxl-harness: guest ready/, 'the console shows the guest init');
  t.match(readFileSync(join(dir, 'dmesg.txt'), 'utf8'), /cxl/i, 'dmesg was collected');
  t.same(qemuProcesses(dir), [], 'no QEMU process outlives the run');

  // reproducer.sh repeats the run with the same inputs, from anywhere, into a new results dir.
  const again = `${dir}-again`;
  const rerun = await execa('sh', [join(dir, 'reproducer.sh'), '--results', again], { cwd: tmpdir(), reject: false, timeout: 15 * 60 * 1000 });
  t.equal(rerun.exitCode, 0, 'the reproducer exits like the run did');
  const repeated = readJson<RunSummary>(join(again, 'summary.json'));
  t.equal(repeated.suite, summary.suite);
  t.same(repeated.topology?.name, summary.topology?.name);
  t.same(repeated.kernel?.package, summary.kernel?.package, 'on the same kernel');
  t.same(repeated.checks.map((c) => [c.id, c.verdict]), summary.checks.map((c) => [c.id, c.verdict]), 'with the same checks and verdicts');
  t.same(qemuProcesses(again), [], 'and no QEMU left either');
});

t.test('nightly with that run as the baseline: a real run, compared, and the baseline link advanced', async (t) => {
  t.ok(existsSync(join(dir, 'summary.json')), 'the first run left its results');
  const link = join(dir, '..', 'baseline');
  symlinkSync(dir, link);
  const tonight = `${dir}-nightly`;
  const r = await runCli(['nightly', '--baseline', link, '--update-baseline', '--json', '--suite', 'hotplug', '--results', tonight]);
  t.equal(r.exitCode, 0, `exit 0: no regression (${r.stderr.split('\n').slice(-3).join(' | ')})`);
  const printed = JSON.parse(r.stdout) as DirComparison;
  t.same(readJson<DirComparison>(join(tonight, 'compare.json')), printed, 'compare.json holds what was printed');
  t.equal(printed.old.runId, readJson<RunSummary>(join(dir, 'summary.json')).runId, 'compared with the baseline run');
  t.equal(printed.new.runId, readJson<RunSummary>(join(tonight, 'summary.json')).runId, 'against tonight\'s run');
  t.same(printed.comparison.outcome, { old: 'pass', new: 'pass' });
  t.same([printed.comparison.newFailures, printed.comparison.fixed, printed.comparison.missing, printed.comparison.newFindings], [[], [], [], []]);
  t.equal(printed.comparison.isRegression, false);
  t.equal(realpathSync(link), realpathSync(tonight), 'the baseline now points at tonight\'s run');
  t.same(readJson<RunSummary>(join(tonight, 'summary.json')).checks.map((c) => c.verdict).filter((v) => v !== 'pass'), [], 'every check of the real run passed');
  t.same(qemuProcesses(tonight), [], 'no QEMU left');
});

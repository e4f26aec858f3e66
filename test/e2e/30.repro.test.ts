/**
 * The repro loop for real on the Debian kernel (TCG): a short online/offline loop with
 * per-iteration timings, a real kernel crash in the middle of a loop (sysrq c through the
 * --inject-crash-at test aid) recorded as a failure with its console trace while the loop
 * goes on in a fresh guest, and an SPM-only scenario skipped clearly on the stock kernel.
 */
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Parser as TapParser } from 'tap-parser';
import type { ReproSummary } from '../../src/repro/report.js';
import { qemuProcesses, readJson, runCli } from '../lib/cli.js';

const base = mkdtempSync(join(tmpdir(), 'cxlh-e2e-repro-'));

/** Kill (by pid) any QEMU a failed run left behind, so none outlives the test; the assertion below still fails. */
function reap(dir: string): void {
  for (const p of qemuProcesses(dir)) {
    try {
      process.kill(Number(p.split(' ')[0]), 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

async function parseTap(text: string): Promise<{ ok: boolean; count: number; fail: number; plan: { skipAll: boolean } }> {
  return new Promise((resolve) => {
    const p = new TapParser((r: { ok: boolean; count: number; fail: number; plan: { skipAll: boolean } }) => resolve(r));
    p.end(text);
  });
}

t.test('repro online-offline: 3 cycles in one guest, per-iteration timings', async (t) => {
  const dir = join(base, 'loop');
  t.teardown(() => reap(dir));
  const r = await runCli(['repro', 'online-offline', '--iterations', '3', '--seed', '11', '--results', dir]);
  t.comment(r.stderr.split('\n').filter((l) => /ok  |FAIL|guest up|repro |iteration time/.test(l)).join('\n'));
  t.equal(r.exitCode, 0, 'exit 0: every iteration passed');
  const s = readJson<ReproSummary>(join(dir, 'repro.json'));
  t.equal(s.outcome, 'pass');
  t.equal(s.iterationsRun, 3);
  t.equal(s.failures, 0);
  t.equal(s.boots, 1, 'all iterations in one booted guest');
  t.equal(s.seed, 11);
  t.equal(s.generation?.name, 'stock');
  t.same(s.iterations.map((i) => [i.iteration, i.ok]), [[1, true], [2, true], [3, true]]);
  for (const it of s.iterations) {
    t.same(it.steps.map((x) => x.do), ['offline-memory', 'online-memory'], `iteration ${it.iteration} ran both steps`);
    t.type(it.ms, 'number');
  }
  const im = s.timings.iterationMs!;
  t.equal(im.count, 3);
  t.ok(im.min <= im.median && im.median <= im.max, 'min <= median <= max');
  t.ok(s.timings.stepMs['offline-memory'] && s.timings.stepMs['online-memory'], 'per-step statistics');

  const tap = readFileSync(join(dir, 'repro.tap'), 'utf8');
  t.equal(r.stdout, tap, 'stdout carries repro.tap');
  const parsed = await parseTap(tap);
  t.same([parsed.ok, parsed.count], [true, 3], 'one passing test point per iteration');
  for (const f of ['console.log', 'dmesg.txt', 'summary.json', 'results.tap', 'junit.xml', 'kcidb.json', 'report.html', 'reproducer.sh']) t.ok(existsSync(join(dir, f)), `${f} kept`);
  t.match(readFileSync(join(dir, 'report.html'), 'utf8'), /<section id="repro"><h2>Repro loop: online-offline<\/h2>/, 'report.html shows the loop from repro.json');
  t.match(readFileSync(join(dir, 'reproducer.sh'), 'utf8'), /repro online-offline --iterations 3 --seed 11/, 'reproducer.sh repeats it with the same seed');
  t.notOk(existsSync(join(dir, 'iterations')), 'no failing iteration, no iteration folder');
  t.same(qemuProcesses(dir), [], 'no QEMU process outlives the run');
});

t.test('a kernel crash at iteration 2 is a failure with its console trace, and the loop goes on', async (t) => {
  const dir = join(base, 'crash');
  t.teardown(() => reap(dir));
  const r = await runCli(['repro', 'online-offline', '--iterations', '3', '--inject-crash-at', '2', '--seed', '5', '--results', dir]);
  t.comment(r.stderr.split('\n').filter((l) => /ok  |FAIL|guest up|repro |kernel-crash/.test(l)).join('\n'));
  t.equal(r.exitCode, 3, 'exit 3: a kernel crash happened');
  const s = readJson<ReproSummary>(join(dir, 'repro.json'));
  t.equal(s.outcome, 'kernel-crash');
  t.same(s.iterations.map((i) => [i.iteration, i.ok]), [[1, true], [2, false], [3, true]], 'iteration 3 ran after the crash');
  t.equal(s.failures, 1);
  t.equal(s.crashes, 1);
  t.equal(s.firstFailure, 2);
  t.equal(s.boots, 2, 'the guest was booted again after the crash');
  const crashed = s.iterations[1]!;
  t.equal(crashed.failure?.kind, 'kernel-crash');
  t.match(crashed.failure?.reason, /Kernel panic - not syncing: sysrq triggered crash/);
  t.equal(crashed.boot, 1);
  t.equal(s.iterations[2]!.boot, 2);
  t.equal(crashed.folder, 'iterations/002');
  t.same(crashed.steps.map((x) => x.do), ['offline-memory'], 'the steps finished before the crash are kept');

  const consoleText = readFileSync(join(dir, 'iterations', '002', 'console.txt'), 'utf8');
  t.match(consoleText, /^\S.*### cxl-harness step: repro\.online-offline\.iter\.002/, 'the slice starts at the iteration');
  t.match(consoleText, /sysrq: Trigger a crash/);
  t.match(consoleText, /Call Trace:/, 'with the kernel\'s call trace');
  t.notMatch(consoleText, /iter\.001/, 'and nothing of iteration 1');
  for (const f of ['commands.txt', 'dmesg.txt', 'iteration.json']) t.ok(existsSync(join(dir, 'iterations', '002', f)), `iterations/002/${f}`);
  t.ok(existsSync(join(dir, 'boot2.console.log')), 'the second boot has its own console log');

  const parsed = await parseTap(readFileSync(join(dir, 'repro.tap'), 'utf8'));
  t.same([parsed.count, parsed.fail], [3, 1]);
  t.same(qemuProcesses(dir), [], 'no QEMU process outlives the run');
});

t.test('an SPM-only scenario is a clear skip on the stock kernel', async (t) => {
  const dir = join(base, 'skip');
  t.teardown(() => reap(dir));
  const r = await runCli(['repro', 'spm-node-conflict', '--iterations', '2', '--results', dir]);
  t.equal(r.exitCode, 4, 'a skip is not a failure, and not a pass either: exit 4 (nothing judged)');
  const s = readJson<ReproSummary>(join(dir, 'repro.json'));
  t.equal(s.outcome, 'skip');
  t.match(s.skipReason, /lacks spm_node \(generation stock: kernel \S+; .*cpuset\.mems\.sysram absent/, 'with the host-side generation evidence');
  t.equal(s.iterationsRun, 0);
  t.match(r.stdout, /^1\.\.0 # SKIP the guest kernel lacks spm_node/m);
  t.same(qemuProcesses(dir), [], 'no QEMU process outlives the run');
});

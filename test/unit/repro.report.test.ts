/** The pure side of the repro loop: guest output parsing, timing statistics, outcome, TAP, exit codes, fault commands, bisect mapping. */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Parser as TapParser } from 'tap-parser';
import { faultToQmp, qomPath, unsupportedFault } from '../../src/qemu/faults.js';
import { BISECT_EXIT, bisectVerdict, attemptFromError } from '../../src/repro/bisect.js';
import { withConsoleSteps } from '../../src/repro/chunk.js';
import { faultForIteration } from '../../src/repro/host-sync.js';
import { sliceByMarker } from '../../src/repro/iteration-files.js';
import { parseLoopLine } from '../../src/contract/repro-protocol.js';
import { reproExitCode, settleRepro, stats, toReproTap, type IterationRecord, type ReproSummary } from '../../src/repro/report.js';
import { HarnessError } from '../../src/errors.js';
import { ROOT } from '../lib/cli.js';

function summary(iterations: IterationRecord[], extra: Partial<ReproSummary> = {}): ReproSummary {
  return settleRepro({
    schema: 1, kind: 'repro', scenario: { name: 'online-offline', file: 'x.json', description: '' }, seed: 9,
    requested: { iterations: iterations.length, maxIterations: iterations.length, rebootEvery: 0, stopOnFail: false },
    startedAt: '2026-01-01T00:00:00Z', outcome: 'pass', exitCode: 0, iterationsRun: 0, failures: 0, crashes: 0, boots: 1,
    timings: { stepMs: {} }, iterations, ...extra,
  });
}
const step = (d: string, ms: number) => ({ do: d, passed: true, ok: true, ms });

t.test('10 the guest output: loop lines known by their type, anything else is garbage (kept apart by the agent)', async (t) => {
  const text = readFileSync(join(ROOT, 'test', 'fixtures', 'repro', 'loop-output-crash.jsonl'), 'utf8');
  const raw = text.split('\n').filter(Boolean);
  const lines = raw.flatMap((l) => parseLoopLine(l) ?? []);
  t.same(lines.map((l) => l.type), ['facts', 'step', 'step', 'step', 'iteration', 'step']);
  t.same(raw.filter((l) => parseLoopLine(l) === undefined), ['not json: the connection dropped mid-l']);
  t.equal(parseLoopLine('{"type":"telemetry"}'), undefined, 'an object of no known line type is not a loop line');
  t.equal(parseLoopLine('[1]'), undefined);
  t.notOk(lines.some((l) => l.type === 'done'), 'a crashed chunk has no done line: the loop knows it ended early');
});

t.test('20 statistics: min/median/max of iteration times', async (t) => {
  t.equal(stats([]), undefined);
  t.same(stats([5]), { count: 1, min: 5, median: 5, max: 5, mean: 5 });
  t.same(stats([300, 100, 200]), { count: 3, min: 100, median: 200, max: 300, mean: 200 });
  t.same(stats([4, 1, 3, 2]), { count: 4, min: 1, median: 3, max: 4, mean: 3 }, 'even count: the rounded middle mean');
});

t.test('30 outcome, counters and first failure come from the iterations', async (t) => {
  const pass = summary([
    { iteration: 1, ok: true, ms: 400, boot: 1, steps: [step('offline-memory', 300), step('online-memory', 100)] },
    { iteration: 2, ok: true, ms: 500, boot: 1, steps: [step('offline-memory', 350), step('online-memory', 150)] },
  ]);
  t.equal(pass.outcome, 'pass');
  t.equal(pass.exitCode, 0);
  t.same(pass.timings.iterationMs, { count: 2, min: 400, median: 450, max: 500, mean: 450 });
  t.same(pass.timings.stepMs['offline-memory'], { count: 2, min: 300, median: 325, max: 350, mean: 325 });

  const crash = summary([
    { iteration: 3, ok: true, ms: 400, boot: 2, steps: [] },
    { iteration: 2, ok: false, boot: 1, steps: [], failure: { kind: 'kernel-crash', reason: 'kernel crash: Kernel panic' }, folder: 'iterations/002' },
    { iteration: 1, ok: false, ms: 90, boot: 1, steps: [], failure: { kind: 'step', reason: 'EBUSY', step: 'offline-memory' }, folder: 'iterations/001' },
  ]);
  t.same(crash.iterations.map((i) => i.iteration), [1, 2, 3], 'sorted by iteration');
  t.equal(crash.outcome, 'kernel-crash');
  t.equal(crash.exitCode, 3);
  t.equal(crash.failures, 2);
  t.equal(crash.crashes, 1);
  t.equal(crash.firstFailure, 1);
  t.equal(summary([{ iteration: 1, ok: false, boot: 1, steps: [], failure: { kind: 'hang', reason: 'no progress' } }]).outcome, 'fail');
  t.equal(summary([], { outcome: 'skip', skipReason: 'no spm_node' }).outcome, 'skip', 'a skip stays a skip');
  t.same(['pass', 'skip', 'fail', 'kernel-crash', 'error', 'interrupted'].map((o) => reproExitCode(o as never)), [0, 4, 1, 3, 2, 130], 'a scenario that does not apply is a skip (4), as a run with nothing judged');
});

t.test('40 TAP: one test point per iteration, failures name their folder', async (t) => {
  const s = summary([
    { iteration: 1, ok: true, ms: 400, boot: 1, steps: [] },
    { iteration: 2, ok: false, boot: 1, steps: [], failure: { kind: 'kernel-crash', reason: 'kernel crash: Kernel panic - not syncing: sysrq triggered crash' }, folder: 'iterations/002' },
  ]);
  const tap = toReproTap(s);
  t.match(tap, /^ok 1 - repro\.online-offline\.iter\.001 - iteration 1 \(400 ms\)$/m);
  t.match(tap, /^not ok 2 - repro\.online-offline\.iter\.002 - iteration 2$/m);
  t.match(tap, /logs: "iterations\/002"/);
  const parsed = await new Promise<{ ok: boolean; count: number; fail: number }>((resolve) => {
    const p = new TapParser((r: { ok: boolean; count: number; fail: number }) => resolve(r));
    p.end(tap);
  });
  t.same([parsed.ok, parsed.count, parsed.fail], [false, 2, 1]);
  const skip = toReproTap(summary([], { outcome: 'skip', skipReason: 'the guest kernel lacks spm_node' }));
  t.match(skip, /^1\.\.0 # SKIP the guest kernel lacks spm_node$/m);
});

t.test('50 one iteration of a console log, by marker', async (t) => {
  const log = ['boot', '### cxl-harness step: repro.x.iter.001', 'a', '### cxl-harness step: repro.x.iter.002', 'b', 'Kernel panic', ''].join('\n');
  t.equal(sliceByMarker(log, 'repro.x.iter.001', false), '### cxl-harness step: repro.x.iter.001\na\n');
  t.equal(sliceByMarker(log, 'repro.x.iter.002', true), '### cxl-harness step: repro.x.iter.002\nb\nKernel panic\n\n');
  t.match(sliceByMarker(log, 'repro.x.iter.009', false), /^# no marker for repro\.x\.iter\.009/);
});

t.test('55 a crash that beat the loop\'s own lines: the finished steps come back from the kernel log', async (t) => {
  const logged = [
    { iteration: 1, phase: 'iteration' as const, index: 0, do: 'offline-memory', passed: true, ms: 80 },
    { iteration: 2, phase: 'iteration' as const, index: 0, do: 'offline-memory', passed: true, ms: 91 },
    { iteration: 2, phase: 'iteration' as const, index: 1, do: 'online-memory', passed: false, ms: 12, code: 'EBUSY' },
  ];
  t.same(withConsoleSteps([], logged, 2), [
    { do: 'offline-memory', passed: true, ok: true, ms: 91, from: 'console' },
    { do: 'online-memory', passed: false, ok: false, ms: 12, code: 'EBUSY', from: 'console' },
  ], 'none arrived: both of iteration 2 from the console, none of iteration 1');
  const arrived = [{ do: 'offline-memory', passed: true, ok: true, ms: 91, blocks: [] }];
  t.same(withConsoleSteps(arrived, logged, 2).map((s) => [s.do, s.from ?? 'loop']), [['offline-memory', 'loop'], ['online-memory', 'console']], 'the step whose line arrived is kept whole, only the lost one is rebuilt');
  t.same(withConsoleSteps(arrived, [], 2), arrived, 'nothing in the log: what arrived');
});

t.test('60 QMP fault commands have the shapes of qapi/cxl.json', async (t) => {
  t.equal(qomPath('cxlmem0'), '/machine/peripheral/cxlmem0');
  t.same(faultToQmp({ fault: 'poison', device: 'cxlmem0', offset: 4096, length: 64 }), { command: 'cxl-inject-poison', args: { path: '/machine/peripheral/cxlmem0', start: 4096, length: 64 } });
  t.same(faultToQmp({ fault: 'correctable-error', device: 'd', type: 'mem-data-ecc' }), { command: 'cxl-inject-correctable-error', args: { path: '/machine/peripheral/d', type: 'mem-data-ecc' } });
  t.same(faultToQmp({ fault: 'uncorrectable-error', device: 'd', type: 'internal' }).args, { path: '/machine/peripheral/d', errors: [{ type: 'internal', header: [] }] });
  t.same(faultToQmp({ fault: 'dc-add', device: 'd', region: 0, offset: 0, length: 128 << 20 }), {
    command: 'cxl-add-dynamic-capacity',
    args: { path: '/machine/peripheral/d', 'host-id': 0, 'selection-policy': 'prescriptive', region: 0, extents: [{ offset: 0, len: 134217728 }] },
  });
  t.same(faultToQmp({ fault: 'dc-release', device: 'd', region: 1, offset: 2 << 20, length: 2 << 20 }).args, {
    path: '/machine/peripheral/d', 'host-id': 0, 'removal-policy': 'prescriptive', region: 1, extents: [{ offset: 2097152, len: 2097152 }],
  });
  const old = { version: '8.0.0', commands: new Set(['cxl-inject-correctable-error', 'cxl-inject-uncorrectable-errors']) };
  t.equal(unsupportedFault('correctable-error', old), undefined);
  t.equal(unsupportedFault('poison', old), 'QEMU 8.0.0 has no QMP command cxl-inject-poison (poison needs QEMU >= 8.1 built with CXL)');
  t.match(unsupportedFault('dc-add', old) ?? '', /needs QEMU >= 9\.1/);
  const poison = { do: 'fault' as const, fault: 'poison' as const, device: 'cxlmem0', offset: 128, length: 64, stride: 4096 };
  t.same(faultForIteration(poison, 1), { fault: 'poison', device: 'cxlmem0', offset: 128, length: 64 }, 'iteration 1 at the offset given');
  t.same(faultForIteration(poison, 3), { fault: 'poison', device: 'cxlmem0', offset: 128 + 2 * 4096, length: 64 }, 'then one stride further per iteration');
  t.same(faultForIteration(poison, 0), { fault: 'poison', device: 'cxlmem0', offset: 128, length: 64 }, 'setup (iteration 0) at the offset given');
});

t.test('70 bisect: each step outcome maps to the exit code git bisect run expects', async (t) => {
  t.same(BISECT_EXIT, { good: 0, bad: 1, skip: 125, abort: 130 });
  const code = (a: Parameters<typeof bisectVerdict>[0]) => bisectVerdict(a).exitCode;
  t.equal(code({ phase: 'repro', outcome: 'pass', iterationsRun: 5, failures: 0 }), 0, 'no failing iteration: good');
  t.equal(code({ phase: 'repro', outcome: 'fail', iterationsRun: 5, failures: 1 }), 1, 'a failing iteration: bad');
  t.equal(code({ phase: 'repro', outcome: 'kernel-crash', iterationsRun: 5, failures: 1 }), 1, 'a kernel crash in the scenario: bad, not 3 (git would read 3 as bad too, but say so)');
  t.equal(code({ phase: 'build', error: { code: 'KERNEL_MAKE_FAILED', message: 'x' } }), 125, 'does not build: skip');
  t.equal(code({ phase: 'build', error: { code: 'PATCH_CONFLICT', message: 'x' } }), 125, 'the series does not apply: skip');
  t.equal(code({ phase: 'repro', outcome: 'error', error: { code: 'KERNEL_PANIC', message: 'panic during boot' } }), 125, 'panics while booting: skip');
  t.equal(code({ phase: 'repro', outcome: 'error', error: { code: 'GUEST_NO_SSH', message: 'x' } }), 125);
  t.equal(code({ phase: 'repro', outcome: 'skip' }), 125, 'the scenario does not apply to this kernel: skip');
  t.equal(code({ phase: 'boot', error: { code: 'QEMU_EXITED', message: 'x' } }), 125);
  t.equal(code({ phase: 'repro', outcome: 'interrupted' }), 130, 'interrupted: >= 128 aborts git bisect run');
  t.match(bisectVerdict({ phase: 'repro', outcome: 'fail', iterationsRun: 5, failures: 2 }).reason, /2 of 5 iteration/);
  t.same(attemptFromError('build', new HarnessError('KERNEL_MAKE_FAILED', 'make failed')), { phase: 'build', error: { code: 'KERNEL_MAKE_FAILED', message: 'make failed' } });
  t.same(attemptFromError('boot', new Error('boom')), { phase: 'boot', error: { code: 'HARNESS_BUG', message: 'Error: boom' } });
  for (const c of [0, 1, 125]) t.ok(c < 128, 'none of the verdict codes aborts the bisect');
});

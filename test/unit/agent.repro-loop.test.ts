/**
 * The guest side of the repro loop without a VM: the seeded PRNG (the same draws as the loop
 * always made, so an old --seed repeats), expectations, the dispatch table against the step
 * kinds, the features' skip reasons, the kernel-log markers as the host parses them, and the
 * loop itself on this host (no CXL: its steps refuse, as expected).
 */
import t from 'tap';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatStepMarker, iterationEndLine, iterationId, parseIterationEnd, parseIterationStart, parseStepEnd, parseSyncLine, reproNote, stepEndLine, syncLine } from '../../src/contract/markers.js';
import { lacking } from '../../src/agent/repro/facts.js';
import { runLoop } from '../../src/agent/repro/loop.js';
import { iterationRand, pick, prng } from '../../src/agent/repro/prng.js';
import { FEATURES, STEP_KINDS, type LoopFacts, type LoopLine, type LoopSpec } from '../../src/contract/repro-protocol.js';
import { STEPS, STEP_GROUPS, meets } from '../../src/agent/repro/steps.js';
import { parseStepMarker } from '../../src/report/console-scan.js';

t.test('10 the PRNG draws what guest-scripts/repro-loop.mjs drew for the same seed', async (t) => {
  // Recorded from the JavaScript loop this one replaces: prng(seed * 1000003 + iteration).
  const draws = (seed: number, iteration: number): number[] => {
    const r = iterationRand(seed, iteration);
    return [r(), r(), r()];
  };
  t.same(draws(1, 1), [0.011450528167188168, 0.48486175388097763, 0.6467488773632795]);
  t.same(draws(11, 3), [0.3285120469518006, 0.09272800898179412, 0.46489312360063195]);
  t.same(draws(123456789, 2), [0.13195087504573166, 0.9304211339913309, 0.6911224466748536], 'a seed whose product passes 2^32 wraps as it did');
  const r = iterationRand(5, 2);
  t.same(Array.from({ length: 5 }, () => pick([10, 20], r)), [14, 16, 12, 10, 19], 'pages drawn from [min, max]');
  t.equal(pick(256, prng(1)), 256, 'a plain number is taken as it is');
  const u = prng(42);
  const xs = Array.from({ length: 1000 }, () => u());
  t.ok(xs.every((x) => x >= 0 && x < 1), 'uniform in [0, 1)');
});

t.test('20 meets: ok by default, fail, any, the exact code of a failure, or alternatives', async (t) => {
  const ok = { ok: true };
  const busy = { ok: false, code: 'EBUSY' };
  t.same([meets(ok), meets(busy)], [true, false]);
  t.same([meets(ok, 'fail'), meets(busy, 'fail')], [false, true]);
  t.same([meets(ok, 'any'), meets(busy, 'any')], [true, true]);
  t.same([meets(busy, 'EBUSY'), meets(busy, 'EINVAL'), meets({ ok: true, code: 'EBUSY' }, 'EBUSY')], [true, false, false], 'a code is met only by a failure with it');
  const timeout = { ok: false, code: 'TIMEOUT' };
  t.same([meets(ok, 'ok|EBUSY'), meets(busy, 'ok|EBUSY'), meets(timeout, 'ok|EBUSY')], [true, true, false], 'alternatives: either is met, nothing else');
});

t.test('30 every step kind has exactly one implementation, and nothing else has one', async (t) => {
  const owners = new Map<string, string[]>();
  for (const [group, handlers] of Object.entries(STEP_GROUPS)) for (const kind of Object.keys(handlers)) owners.set(kind, [...(owners.get(kind) ?? []), group]);
  t.same([...owners.keys()].sort(), [...STEP_KINDS].sort(), 'the groups implement the kinds scenarios can name');
  t.same([...owners].filter(([, g]) => g.length > 1), [], 'no kind in two groups');
  t.same(Object.keys(STEPS).sort(), [...STEP_KINDS].sort());
  t.ok(Object.values(STEPS).every((h) => typeof h === 'function'));
});

t.test('40 a missing feature skips the scenario with the reason the host shows', async (t) => {
  const facts: LoopFacts = {
    generation: 'stock', evidence: ['kernel 7.2.13', 'cgroup root: cpuset.mems.sysram absent'],
    features: Object.fromEntries(FEATURES.map((f) => [f, f === 'sysrq'])) as LoopFacts['features'], memdevs: ['mem0'], blockSize: 1 << 27,
  };
  t.equal(lacking(facts, []), undefined);
  t.equal(lacking(facts, ['sysrq']), undefined);
  t.equal(lacking(facts, ['spm_node', 'zswap']), 'the guest kernel lacks spm_node, zswap (generation stock: kernel 7.2.13; cgroup root: cpuset.mems.sysram absent)');
  t.equal(lacking(facts, ['dcd']), 'the guest kernel lacks dcd (no dynamic_ram/dc partition under mem0)');
  t.equal(lacking(facts, ['poison_list']), 'the guest kernel lacks poison_list');
});

t.test('50 the kernel-log lines: what the guest writes is what the host parses', async (t) => {
  const stamp = '[   12.345678] ';
  const id = iterationId('online-offline', 7);
  t.equal(id, 'repro.online-offline.iter.007');
  const marker = formatStepMarker(id);
  t.equal(marker, '### cxl-harness step: repro.online-offline.iter.007');
  t.equal(parseStepMarker(stamp + marker), id, 'the console scanner attributes findings to the iteration');
  t.equal(parseIterationStart(stamp + marker), 7);
  t.equal(parseIterationStart(stamp + formatStepMarker('spm.online')), undefined, 'a check marker is no iteration');
  const end = iterationEndLine({ iteration: 12, ok: false, ms: 345 });
  t.equal(end, 'cxl-harness repro: iter 012 FAIL 345 ms');
  t.same(parseIterationEnd(stamp + end), { iteration: 12, ok: false, ms: 345 });
  t.same(parseIterationEnd(iterationEndLine({ iteration: 3, ok: true, ms: 9 })), { iteration: 3, ok: true, ms: 9 });
  const sync = { token: '2-0-123456', phase: 'iteration', index: 0, iteration: 2 };
  t.equal(syncLine(sync), 'cxl-harness repro: sync 2-0-123456 iteration 0 2');
  t.same(parseSyncLine(stamp + syncLine(sync)), sync);
  t.equal(parseSyncLine(stamp + reproNote('crashing the kernel on purpose at iteration 2 (--inject-crash-at)')), undefined);
  t.equal(parseIterationEnd(stamp + reproNote('crashing')), undefined);
  const step = { iteration: 2, phase: 'iteration' as const, index: 0, do: 'offline-memory', passed: true, ms: 87 };
  t.equal(stepEndLine(step), 'cxl-harness repro: step 002 iteration 0 offline-memory ok 87 ms');
  t.same(parseStepEnd(stamp + stepEndLine(step)), step);
  const failed = { iteration: 9, phase: 'cleanup' as const, index: 1, do: 'online-memory', passed: false, ms: 3, code: 'EBUSY' };
  t.same(parseStepEnd(stamp + stepEndLine(failed)), failed, 'a failed step keeps its code');
  t.equal(parseStepEnd(stamp + end), undefined, 'an iteration end is no step end');
  t.equal(parseIterationEnd(stamp + stepEndLine(step)), undefined, 'and a step end no iteration end');
});

t.test('60 the loop on this host: setup, iterations until a step disappoints, cleanup, teardown, in order', async (t) => {
  const lines: LoopLine[] = [];
  const spec: LoopSpec = {
    scenario: {
      name: 'host-test', requires: [],
      setup: [{ do: 'release', expect: 'NOTHING_HELD' }],
      steps: [{ do: 'node-free', mark: 'm', expect: 'NO_REGION' }, { do: 'hold' }, { do: 'release' }],
      cleanup: [{ do: 'churn-stop', expect: 'any' }, { do: 'pressure-stop', expect: 'any' }],
      teardown: [{ do: 'destroy-region', expect: 'fail' }],
    },
    start: 4, iterations: 2, seed: 1, stopOnFail: false, stepTimeoutMs: 1000, syncTimeoutMs: 1000, generation: { name: 'stock', evidence: [] },
  };
  const kmsg = join(mkdtempSync(join(tmpdir(), 'cxlh-kmsg-')), 'kmsg');
  process.env.CXL_HARNESS_KMSG = kmsg;
  t.teardown(() => { delete process.env.CXL_HARNESS_KMSG; });
  await runLoop(spec, (l) => lines.push(l));
  const kind = (l: string): string => (parseIterationStart(l) !== undefined ? 'start' : parseIterationEnd(l) ? 'end' : parseStepEnd(l) ? `${parseStepEnd(l)!.phase}:${parseStepEnd(l)!.do}` : l);
  t.same(readFileSync(kmsg, 'utf8').split('\n').filter(Boolean).map(kind), [
    'start', 'iteration:node-free', 'iteration:hold', 'end', 'cleanup:churn-stop', 'cleanup:pressure-stop',
    'start', 'iteration:node-free', 'iteration:hold', 'end', 'cleanup:churn-stop', 'cleanup:pressure-stop',
  ], 'each iteration\'s start, its finished steps, its end and its cleanup steps went to the kernel log (here a file, not the host\'s)');
  const where = (l: LoopLine): string => ('phase' in l ? `${l.type}:${String(l.phase)}:${l.do}` : 'do' in l ? `${l.type}:${l.do}` : l.type);
  t.same(lines.map(where), [
    'facts', 'step:setup:release',
    'step:iteration:node-free', 'step:iteration:hold', 'iteration', 'cleanup:churn-stop', 'cleanup:pressure-stop',
    'step:iteration:node-free', 'step:iteration:hold', 'iteration', 'cleanup:churn-stop', 'cleanup:pressure-stop',
    'step:teardown:destroy-region', 'done',
  ], 'release never ran: hold failed first');
  t.match(lines.filter((l) => l.type === 'iteration'), [
    { iteration: 4, ok: false, failedStep: 'hold', error: 'no CXL node: run create-region first' },
    { iteration: 5, ok: false, failedStep: 'hold' },
  ]);
  t.match(lines[2], { iteration: 4, index: 0, passed: true, ok: false, code: 'NO_REGION', expect: 'NO_REGION' });
  t.match(lines.at(-2), { type: 'step', phase: 'teardown', iteration: 6, passed: true, code: 'NO_REGION' });
  t.same(lines.at(-1), { type: 'done', ran: 2, failures: 2 });
  t.ok(lines.filter((l) => l.type === 'step' || l.type === 'cleanup').every((l) => 'ms' in l && typeof l.ms === 'number'), 'every step is timed');
});

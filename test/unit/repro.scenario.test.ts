/** Scenario files: every shipped one is valid, and a bad file is refused naming file, field and allowed values. */
import t from 'tap';
import { join } from 'node:path';
import { isHarnessError } from '../../src/errors.js';
import { loadTopology } from '../../src/qemu/topology.js';
import { STEP_KINDS } from '../../src/contract/repro-protocol.js';
import { bindScenarioToTopology, builtinScenarios, loadScenario, parseScenario } from '../../src/repro/scenario.js';
import { ROOT } from '../lib/cli.js';

const FIX = join(ROOT, 'test', 'fixtures', 'repro');

function refusal(fn: () => unknown): { code: string; message: string; hint?: string | undefined } {
  try {
    fn();
  } catch (e) {
    if (isHarnessError(e)) return { code: e.code, message: e.message, hint: e.hint };
    throw e;
  }
  throw new Error('expected a HarnessError, nothing was thrown');
}

t.test('10 every shipped scenario loads and fits its own topology', async (t) => {
  const names = builtinScenarios();
  t.ok(names.length >= 10, `${names.length} scenarios shipped`);
  for (const want of ['online-offline', 'offline-held-pages', 'offline-pressure', 'offline-concurrent-migration', 'create-destroy', 'spm-node-conflict', 'spm-zswap-offline', 'poison', 'cxl-errors', 'dcd-add-release']) {
    t.ok(names.includes(want), `${want} is shipped`);
  }
  for (const name of names) {
    const s = loadScenario(name);
    t.equal(s.name, name, `${name}: the name field matches the file name`);
    t.ok(s.description.length > 20, `${name} says what it does`);
    const bound = bindScenarioToTopology(s, loadTopology(s.topology));
    for (const step of bound.steps.filter((x) => x.do === 'fault')) t.type(step.device, 'string', `${name}: fault steps get a device`);
  }
  t.ok(loadScenario('spm-node-conflict').requires.includes('spm_node'), 'the SPM scenarios require spm_node (skip on stock)');
  t.equal(loadScenario('spm-node-conflict').rebootEvery, 1, 'the node-type latch needs a fresh guest per iteration');
});

t.test('20 a user file is loaded by path, with defaults filled in', async (t) => {
  const s = loadScenario(join(FIX, 'user-scenario.json'));
  t.equal(s.name, 'my-cycles');
  t.equal(s.topology, 'default');
  t.equal(s.rebootEvery, 0);
  t.equal(s.iterationTimeoutS, 300);
  t.same(s.setup, []);
  t.same(s.steps[1], { do: 'hold', pages: [16, 32] });
  t.same(s.cleanup, [{ do: 'destroy-region', expect: 'any' }]);
});

t.test('30 refusals name the file, the field and what is allowed', async (t) => {
  const step = refusal(() => loadScenario(join(FIX, 'bad-step.json')));
  t.equal(step.code, 'SCENARIO_INVALID');
  t.match(step.message, /bad-step\.json/);
  t.match(step.message, /steps\[0\]\.do must be one of create-region, destroy-region/);
  t.match(step.message, /got "offline-memroy"/);
  t.match(step.hint ?? '', /scenarios\/README\.md/);

  t.match(refusal(() => loadScenario(join(FIX, 'bad-spm-method.json'))).message, /steps\[0\]\.spm needs "method": "sysfs"/);
  const fault = refusal(() => loadScenario(join(FIX, 'bad-fault-type.json'))).message;
  t.match(fault, /steps\[0\]\.type must be one of cache-data-ecc, mem-data-ecc/);
  t.match(fault, /got "mem-data-parity"/);

  const unknown = refusal(() => loadScenario('no-such-scenario'));
  t.equal(unknown.code, 'SCENARIO_UNKNOWN');
  t.match(unknown.hint ?? '', /online-offline/, 'the hint lists the shipped scenarios');
  t.equal(refusal(() => loadScenario('/nonexistent/x.json')).code, 'SCENARIO_UNKNOWN');
});

t.test('40 field by field', async (t) => {
  const bad = (data: unknown): string => refusal(() => parseScenario(data, 'mem.json')).message;
  const ok = { name: 'x', steps: [{ do: 'create-region' }] };
  t.equal(parseScenario(ok, 'mem.json').name, 'x');
  t.match(bad([]), /\(top level\) must be an object/);
  t.match(bad({ ...ok, name: 'Has Space' }), /name must be lower-case/);
  t.match(bad({ name: 'x', steps: [] }), /steps needs at least 1 entry/);
  t.match(bad({ ...ok, extra: 1 }), /unknown field "extra" \(allowed: name, description/);
  t.match(bad({ ...ok, requires: ['spm'] }), /requires\[0\] must be one of spm_node, isolated_node, zswap, poison_list, dcd, sysrq/);
  t.match(bad({ name: 'x', requires: ['isolated_node'], steps: [{ do: 'create-region', isolate: true }] }), /steps\[0\]\.isolate needs "method": "sysfs"/);
  t.match(bad({ name: 'x', steps: [{ do: 'create-region', method: 'sysfs', isolate: true }] }), /"isolate": true needs "isolated_node" in requires/, 'a scenario that isolates skips where no version can');
  t.match(bad({ name: 'x', requires: ['isolated_node'], steps: [{ do: 'create-region', method: 'sysfs', isolate: true, spm: 1 }] }), /takes isolate or spm, not both/);
  t.match(bad({ ...ok, rebootEvery: -1 }), /rebootEvery must be between 0 and/);
  t.match(bad({ name: 'x', steps: [{ do: 'hold', pages: [10, 5] }] }), /steps\[0\]\.pages: min 10 is above max 5/);
  t.match(bad({ name: 'x', steps: [{ do: 'hold', pages: 0 }] }), /steps\[0\]\.pages must be between 1 and 65536/);
  t.match(bad({ name: 'x', steps: [{ do: 'hold', size: 3 }] }), /steps\[0\] has unknown field "size" \(allowed: do, expect, pages\)/);
  t.match(bad({ name: 'x', steps: [{ do: 'offline-memory', expect: 'maybe' }] }), /expect must be ok, fail, any, an error code such as EBUSY or NOT_KMEM, or several joined by \| such as ok\|EBUSY \(got "maybe"\)/);
  t.match(bad({ name: 'x', steps: [{ do: 'offline-memory', expect: 'ok|maybe' }] }), /expect must be ok, fail, any/, 'every alternative is checked');
  t.match(bad({ name: 'x', steps: [{ do: 'expect-log', pattern: '(' }] }), /pattern is not a valid regular expression/);
  t.match(bad({ name: 'x', steps: [{ do: 'pressure-start', percent: 50, mib: 10 }] }), /give percent or mib, not both/);
  t.match(bad({ name: 'x', steps: [{ do: 'fault', fault: 'poison', offset: 10 }] }), /offset must be a multiple of 64/);
  t.match(bad({ name: 'x', teardown: [{ do: 'online-memory', zone: 'dma' }], steps: [{ do: 'release' }] }), /teardown\[0\]\.zone must be one of online_movable, online_kernel, online/);
  t.match(bad({ name: 'x', steps: [{ do: 'node-free' }] }), /steps\[0\]: give either "mark": NAME .* or "since": NAME/);
  t.match(bad({ name: 'x', steps: [{ do: 'node-free', mark: 'a', since: 'a' }] }), /give either "mark"/);
  t.match(bad({ name: 'x', steps: [{ do: 'node-free', mark: 'a', maxLossKiB: 4 }] }), /steps\[0\]\.maxLossKiB goes with "since"/);
  t.match(bad({ name: 'x', steps: [{ do: 'node-free', since: 'start' }, { do: 'node-free', mark: 'start' }] }), /steps\[0\]\.since names mark "start", which no node-free step before it makes/);
  t.match(bad({ name: 'x', steps: [{ do: 'offline-memory', timeoutS: 0 }] }), /steps\[0\]\.timeoutS must be between 1 and 600/);
  t.match(bad({ name: 'x', steps: [{ do: 'online-memory', timeoutS: 5 }] }), /unknown field "timeoutS"/);
  const marked = parseScenario({ name: 'x', setup: [{ do: 'node-free', mark: 's' }], steps: [{ do: 'node-free', since: 's', maxLossKiB: 64 }], cleanup: [{ do: 'node-free', since: 's' }] }, 'm.json');
  t.same(marked.steps[0], { do: 'node-free', since: 's', maxLossKiB: 64 }, 'a mark made in setup serves the steps and the cleanup');
  t.match(bad({ name: 'x', steps: [{ do: 'hugetlb-pool', pages: 0 }] }), /steps\[0\]\.pages must be between 1 and 4096/);
  t.same(parseScenario({ name: 'x', steps: [{ do: 'hugetlb-pool', timeoutS: 5 }] }, 'h.json').steps[0], { do: 'hugetlb-pool', timeoutS: 5 });
  t.equal(STEP_KINDS.length, new Set(STEP_KINDS).size);
});

t.test('50 faults are checked against the topology', async (t) => {
  const s = parseScenario({ name: 'x', steps: [{ do: 'fault', fault: 'dc-add' }] }, 'dc.json');
  const onDefault = refusal(() => bindScenarioToTopology(s, loadTopology('default')));
  t.equal(onDefault.code, 'SCENARIO_TOPOLOGY');
  t.match(onDefault.message, /needs a dynamic-capacity device, but cxlmem0 in topology default is volatile/);
  t.match(onDefault.hint ?? '', /--topology dcd/);
  t.same(bindScenarioToTopology(s, loadTopology('dcd')).steps[0], { do: 'fault', fault: 'dc-add', region: 0, offset: 0, length: 134217728, device: 'cxlmem0' });
  const wrongDevice = parseScenario({ name: 'x', steps: [{ do: 'fault', fault: 'poison', device: 'cxlmem9' }] }, 'p.json');
  const r = refusal(() => bindScenarioToTopology(wrongDevice, loadTopology('spm-pair')));
  t.match(r.message, /steps\[0\]\.device "cxlmem9" is not a device of topology spm-pair/);
  t.match(r.hint ?? '', /cxlmem0, cxlmem1/);
});

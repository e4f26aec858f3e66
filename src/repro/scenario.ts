/**
 * Repro scenarios as data: scenarios/*.json (or a user's file) are parsed and validated here.
 * A scenario is a list of guest steps run once per iteration (plus setup/teardown once per
 * guest process and cleanup after a failed iteration); the guest agent's repro loop
 * (src/agent/repro/) runs them. The step kinds, their fields and the features a scenario can
 * require are the loop's contract (src/contract/repro-protocol.ts). Every error names the file,
 * the field and the allowed values.
 */
import { join } from 'node:path';
import { FEATURES, STEP_KINDS, type Feature, type Step, type StepKind, type StepOf } from '../contract/repro-protocol.js';
import { HarnessError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { FAULT_KINDS, CORRECTABLE_TYPES, UNCORRECTABLE_TYPES, type FaultKind } from '../qemu/faults.js';
import { topologyDevices, type Topology } from '../qemu/topology.js';
import { FieldError, builtinNames, loadJsonInput, validateJsonInput, type JsonInputKind, arr, str, bool, int, oneOf } from '../fields.js';

export const SCENARIO_DIR = join(packageRoot, 'scenarios');

/** A fault step as the host does it (QMP): the guest only waits for it. */
export type FaultStep = StepOf<'fault'> & {
  fault: FaultKind;
  /** Topology device id (default: the topology's first device). */
  device?: string;
  offset?: number;
  length?: number;
  /** poison: added to the offset on each iteration. */
  stride?: number;
  type?: string;
  region?: number;
};

export interface Scenario {
  name: string;
  description: string;
  file: string;
  /** Topology used when the user names none. */
  topology: string;
  requires: Feature[];
  /** Boot a fresh guest after this many iterations (1: every iteration starts with unlatched nodes); 0 = never. */
  rebootEvery: number;
  /** Bound on one iteration; longer is a hang. */
  iterationTimeoutS: number;
  setup: Step[];
  steps: Step[];
  cleanup: Step[];
  teardown: Step[];
}

const PAGES_MAX = 65536;

const SCENARIOS: JsonInputKind<Scenario> = {
  noun: 'scenario',
  dir: SCENARIO_DIR,
  pathHint: 'a path to a scenario JSON file (./my.json)',
  fieldHint: 'see scenarios/README.md for the scenario format and the step types',
  validate: (data, file) => parse(data, file),
};

export function builtinScenarios(): string[] {
  return builtinNames(SCENARIO_DIR);
}

/** Load a scenario by built-in name (scenarios/NAME.json) or by path to a JSON file. */
export function loadScenario(nameOrPath: string): Scenario {
  return loadJsonInput(SCENARIOS, nameOrPath);
}

/** Validate parsed JSON into a Scenario. Pure; throws HarnessError naming file and field. */
export function parseScenario(data: unknown, file: string): Scenario {
  return validateJsonInput(SCENARIOS, data, file);
}

function parse(data: unknown, file: string): Scenario {
  const o = obj(data, '(top level)');
  known(o, '(top level)', ['name', 'description', 'topology', 'requires', 'rebootEvery', 'iterationTimeoutS', 'setup', 'steps', 'cleanup', 'teardown', '$comment']);
  const name = str(o.name, 'name');
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) throw new FieldError(`name must be lower-case letters, digits, . _ - (got "${name}")`);
  const requires = o.requires === undefined ? [] : arr(o.requires, 'requires', 0).map((r, i) => oneOf(r, `requires[${i}]`, FEATURES));
  const steps = (field: 'setup' | 'steps' | 'cleanup' | 'teardown', min: number): Step[] =>
    o[field] === undefined && min === 0 ? [] : arr(o[field], field, min).map((s, i) => parseStep(s, `${field}[${i}]`));
  const phases = { setup: steps('setup', 0), steps: steps('steps', 1), cleanup: steps('cleanup', 0), teardown: steps('teardown', 0) };
  checkMarks(phases);
  if (Object.values(phases).flat().some((step) => step.do === 'create-region' && step.isolate) && !requires.includes('isolated_node')) {
    throw new FieldError('a create-region step with "isolate": true needs "isolated_node" in requires (the scenario then skips on kernels that cannot isolate a node)');
  }
  if (Object.values(phases).flat().some((step) => step.do === 'pmem-online') && !requires.includes('pmem')) {
    throw new FieldError('a pmem-online step needs "pmem" in requires (the scenario then skips on kernels without CXL persistent memory)');
  }
  return {
    name,
    description: o.description === undefined ? '' : str(o.description, 'description'),
    file,
    topology: o.topology === undefined ? 'default' : str(o.topology, 'topology'),
    requires,
    rebootEvery: o.rebootEvery === undefined ? 0 : int(o.rebootEvery, 'rebootEvery', 0, 1_000_000),
    iterationTimeoutS: o.iterationTimeoutS === undefined ? 300 : int(o.iterationTimeoutS, 'iterationTimeoutS', 10, 86_400),
    ...phases,
  };
}

/** A node-free check names a mark made before it: earlier in its phase, in setup, or (cleanup, teardown) in steps. */
function checkMarks(p: Record<'setup' | 'steps' | 'cleanup' | 'teardown', Step[]>): void {
  const marks = (steps: Step[]): string[] => steps.flatMap((s) => (s.do === 'node-free' && s.mark !== undefined ? [s.mark] : []));
  const before = { setup: [], steps: marks(p.setup), cleanup: [...marks(p.setup), ...marks(p.steps)], teardown: [...marks(p.setup), ...marks(p.steps)] };
  for (const field of ['setup', 'steps', 'cleanup', 'teardown'] as const) {
    const seen = new Set<string>(before[field]);
    p[field].forEach((s, i) => {
      if (s.do !== 'node-free') return;
      if (s.mark !== undefined) seen.add(s.mark);
      else if (!seen.has(s.since ?? '')) throw new FieldError(`${field}[${i}].since names mark "${String(s.since)}", which no node-free step before it makes`);
    });
  }
}

const COMMON = ['do', 'expect', '$comment'];

function parseStep(v: unknown, f: string): Step {
  const s = obj(v, f);
  const kind: StepKind = oneOf(s.do, `${f}.do`, STEP_KINDS);
  // Built field by field as the kind allows; what it returns has exactly its kind's fields.
  const step: { do: StepKind; expect?: string; [field: string]: unknown } = { do: kind };
  if (s.expect !== undefined) {
    const e = str(s.expect, `${f}.expect`);
    const bad = e.split('|').find((x) => !['ok', 'fail', 'any'].includes(x) && !/^[A-Z][A-Z0-9_]*$/.test(x));
    if (bad !== undefined) {
      throw new FieldError(`${f}.expect must be ok, fail, any, an error code such as EBUSY or NOT_KMEM, or several joined by | such as ok|EBUSY (got "${e}")`);
    }
    step.expect = e;
  }
  const allow = (...fields: string[]): void => known(s, f, [...COMMON, ...fields]);
  switch (kind) {
    case 'create-region':
      allow('method', 'isolate', 'spm', 'memdev');
      if (s.method !== undefined) step.method = oneOf(s.method, `${f}.method`, ['ndctl', 'sysfs'] as const);
      if (s.isolate !== undefined) {
        if (typeof s.isolate !== 'boolean') throw new FieldError(`${f}.isolate must be true or false`);
        step.isolate = s.isolate;
        if (step.isolate && step.method !== 'sysfs') throw new FieldError(`${f}.isolate needs "method": "sysfs" (cxl create-region can set no node apart: it commits and binds in one step)`);
      }
      if (s.spm !== undefined) {
        step.spm = int(s.spm, `${f}.spm`, 0, 1);
        if (step.method !== 'sysfs') throw new FieldError(`${f}.spm needs "method": "sysfs" (cxl create-region cannot set spm_node between commit and bind)`);
        if (step.isolate) throw new FieldError(`${f} takes isolate or spm, not both (spm writes v2's spm_node; isolate does what the kernel's generation does)`);
      }
      if (s.memdev !== undefined) {
        step.memdev = str(s.memdev, `${f}.memdev`);
        if (!/^mem\d+$/.test(step.memdev as string)) throw new FieldError(`${f}.memdev must be a guest memdev name like mem0 (got "${String(step.memdev)}")`);
      }
      break;
    case 'pmem-online':
      allow('memdev');
      if (s.memdev !== undefined) {
        step.memdev = str(s.memdev, `${f}.memdev`);
        if (!/^mem\d+$/.test(step.memdev as string)) throw new FieldError(`${f}.memdev must be a guest memdev name like mem1 (got "${String(step.memdev)}")`);
      }
      break;
    case 'pmem-offline':
      allow();
      break;
    case 'offline-memory':
    case 'online-memory':
      allow('order', ...(kind === 'online-memory' ? ['zone'] : ['timeoutS']));
      if (s.order !== undefined) step.order = oneOf(s.order, `${f}.order`, ['forward', 'reverse', 'random'] as const);
      if (kind === 'online-memory' && s.zone !== undefined) step.zone = oneOf(s.zone, `${f}.zone`, ['online_movable', 'online_kernel', 'online'] as const);
      if (kind === 'offline-memory' && s.timeoutS !== undefined) step.timeoutS = int(s.timeoutS, `${f}.timeoutS`, 1, 600);
      break;
    case 'hugetlb-pool':
      allow('pages', 'timeoutS');
      if (s.pages !== undefined) step.pages = int(s.pages, `${f}.pages`, 1, 4096);
      if (s.timeoutS !== undefined) step.timeoutS = int(s.timeoutS, `${f}.timeoutS`, 1, 600);
      break;
    case 'node-free':
      // Either a mark (remember the CXL node's free memory) or a check against one.
      allow('mark', 'since', 'maxLossKiB');
      if ((s.mark === undefined) === (s.since === undefined)) throw new FieldError(`${f}: give either "mark": NAME (remember the node's free memory) or "since": NAME (compare with that mark)`);
      if (s.mark !== undefined) step.mark = str(s.mark, `${f}.mark`);
      if (s.since !== undefined) step.since = str(s.since, `${f}.since`);
      if (s.maxLossKiB !== undefined) {
        if (s.since === undefined) throw new FieldError(`${f}.maxLossKiB goes with "since"`);
        step.maxLossKiB = int(s.maxLossKiB, `${f}.maxLossKiB`, 0, 1 << 30);
      }
      break;
    case 'hold':
    case 'zswap-start':
      allow('pages', ...(kind === 'zswap-start' ? ['swapMiB'] : []));
      if (s.pages !== undefined) step.pages = pagesField(s.pages, `${f}.pages`);
      if (kind === 'zswap-start' && s.swapMiB !== undefined) step.swapMiB = int(s.swapMiB, `${f}.swapMiB`, 16, 4096);
      break;
    case 'zswap-stop':
      allow('swapIn');
      if (s.swapIn !== undefined) step.swapIn = bool(s.swapIn, `${f}.swapIn`);
      break;
    case 'release':
      allow('expectMoved');
      if (s.expectMoved !== undefined) step.expectMoved = bool(s.expectMoved, `${f}.expectMoved`);
      break;
    case 'churn-start':
      allow('kind', 'pages');
      if (s.kind !== undefined) step.kind = oneOf(s.kind, `${f}.kind`, ['move_pages', 'migrate_pages'] as const);
      if (s.pages !== undefined) step.pages = int(s.pages, `${f}.pages`, 1, 4096);
      break;
    case 'pressure-start':
      allow('percent', 'mib');
      if (s.percent !== undefined && s.mib !== undefined) throw new FieldError(`${f}: give percent or mib, not both`);
      if (s.percent !== undefined) step.percent = int(s.percent, `${f}.percent`, 1, 95);
      if (s.mib !== undefined) step.mib = int(s.mib, `${f}.mib`, 1, 1024 * 1024);
      break;
    case 'expect-log': {
      allow('pattern', 'present');
      const pattern = str(s.pattern, `${f}.pattern`);
      try {
        new RegExp(pattern);
      } catch (e) {
        throw new FieldError(`${f}.pattern is not a valid regular expression: ${(e as Error).message}`);
      }
      step.pattern = pattern;
      if (s.present !== undefined) step.present = bool(s.present, `${f}.present`);
      break;
    }
    case 'fault':
      Object.assign(step, parseFault(s, f));
      break;
    default:
      allow();
  }
  return step as Step;
}

function parseFault(s: Record<string, unknown>, f: string): Partial<FaultStep> {
  const fault = oneOf(s.fault, `${f}.fault`, FAULT_KINDS);
  const out: Partial<FaultStep> = { fault };
  if (s.device !== undefined) out.device = str(s.device, `${f}.device`);
  switch (fault) {
    case 'poison':
      known(s, f, [...COMMON, 'fault', 'device', 'offset', 'length', 'stride']);
      out.offset = int(s.offset ?? 0, `${f}.offset`, 0, Number.MAX_SAFE_INTEGER, 64);
      // QEMU refuses poison overlapping a poisoned range: move on by `stride` bytes each iteration.
      if (s.stride !== undefined) out.stride = int(s.stride, `${f}.stride`, 0, 1 << 30, 64);
      out.length = int(s.length ?? 64, `${f}.length`, 64, 1 << 30, 64);
      break;
    case 'correctable-error':
      known(s, f, [...COMMON, 'fault', 'device', 'type']);
      out.type = oneOf(s.type ?? 'mem-data-ecc', `${f}.type`, CORRECTABLE_TYPES);
      break;
    case 'uncorrectable-error':
      known(s, f, [...COMMON, 'fault', 'device', 'type']);
      out.type = oneOf(s.type ?? 'mem-data-ecc', `${f}.type`, UNCORRECTABLE_TYPES);
      break;
    case 'dc-add':
    case 'dc-release':
      known(s, f, [...COMMON, 'fault', 'device', 'region', 'offset', 'length']);
      out.region = int(s.region ?? 0, `${f}.region`, 0, 7);
      out.offset = int(s.offset ?? 0, `${f}.offset`, 0, Number.MAX_SAFE_INTEGER, 2 * 1024 * 1024);
      out.length = int(s.length ?? 128 * 1024 * 1024, `${f}.length`, 2 * 1024 * 1024, Number.MAX_SAFE_INTEGER, 2 * 1024 * 1024);
      break;
  }
  return out;
}

/** Every step of a scenario, with where it sits. */
export function allSteps(s: Scenario): { phase: 'setup' | 'iteration' | 'cleanup' | 'teardown'; index: number; step: Step }[] {
  return [
    ...s.setup.map((step, index) => ({ phase: 'setup' as const, index, step })),
    ...s.steps.map((step, index) => ({ phase: 'iteration' as const, index, step })),
    ...s.cleanup.map((step, index) => ({ phase: 'cleanup' as const, index, step })),
    ...s.teardown.map((step, index) => ({ phase: 'teardown' as const, index, step })),
  ];
}

export function faultSteps(s: Scenario): FaultStep[] {
  return allSteps(s).map((x) => x.step).filter((x): x is FaultStep => x.do === 'fault');
}

/**
 * Check a scenario's fault steps against the topology it runs on: the device must exist, and
 * dynamic capacity needs a dcd device. Returns the fault steps with their device filled in.
 */
export function bindScenarioToTopology(s: Scenario, t: Topology): Scenario {
  const devices = topologyDevices(t);
  if (s.requires.includes('pmem') && !devices.some((d) => d.kind === 'persistent')) {
    throw new HarnessError('SCENARIO_TOPOLOGY', `scenario ${s.name} (${s.file}) needs a persistent-memory device, and topology ${t.name} has none`, {
      hint: 'run it with --topology pmem (or a topology with a device of "kind": "persistent")',
      context: { scenario: s.file, topology: t.file },
    });
  }
  const fix = (step: Step, where: string): Step => {
    if (step.do !== 'fault') return step;
    const fs = step as FaultStep;
    const id = fs.device ?? devices[0]?.id;
    const device = devices.find((d) => d.id === id);
    if (!device) {
      throw new HarnessError('SCENARIO_TOPOLOGY', `scenario ${s.name} (${s.file}): ${where}.device "${id}" is not a device of topology ${t.name}`, {
        hint: `use one of: ${devices.map((d) => d.id).join(', ')}`,
        context: { scenario: s.file, topology: t.file },
      });
    }
    if ((fs.fault === 'dc-add' || fs.fault === 'dc-release') && device.kind !== 'dcd') {
      throw new HarnessError('SCENARIO_TOPOLOGY', `scenario ${s.name}: ${where} (${fs.fault}) needs a dynamic-capacity device, but ${device.id} in topology ${t.name} is ${device.kind}`, {
        hint: 'run it with --topology dcd (or a topology whose device has "kind": "dcd")',
        context: { scenario: s.file, topology: t.file },
      });
    }
    return { ...fs, device: device.id };
  };
  return {
    ...s,
    setup: s.setup.map((x, i) => fix(x, `setup[${i}]`)),
    steps: s.steps.map((x, i) => fix(x, `steps[${i}]`)),
    cleanup: s.cleanup.map((x, i) => fix(x, `cleanup[${i}]`)),
    teardown: s.teardown.map((x, i) => fix(x, `teardown[${i}]`)),
  };
}

function pagesField(v: unknown, field: string): number | [number, number] {
  if (Array.isArray(v)) {
    if (v.length !== 2) throw new FieldError(`${field} must be a number of pages or [min, max] (got ${JSON.stringify(v)})`);
    const a = int(v[0], `${field}[0]`, 1, PAGES_MAX);
    const b = int(v[1], `${field}[1]`, 1, PAGES_MAX);
    if (a > b) throw new FieldError(`${field}: min ${a} is above max ${b}`);
    return [a, b];
  }
  return int(v, field, 1, PAGES_MAX);
}

function known(o: Record<string, unknown>, field: string, allowed: string[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new FieldError(`${field} has unknown field "${k}" (allowed: ${allowed.filter((a) => a !== '$comment').join(', ')})`);
  }
}
function obj(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new FieldError(`${field} must be an object`);
  return v as Record<string, unknown>;
}

/**
 * The loop group of options `repro` and `bisect` take (with the machine and results groups of
 * options.ts), their help, and the scenario argument.
 */
import { randomInt } from 'node:crypto';
import { HarnessError } from '../errors.js';
import type { ReproOptions } from '../repro/loop.js';
import { builtinScenarios, loadScenario } from '../repro/scenario.js';
import { seconds, usageError } from './args.js';
import { MACHINE_OPTIONS, RESULTS_HELP, RESULTS_OPTIONS, machineFrom, machineHelp, nameOrPath, resultsFrom } from './options.js';

export const LOOP_OPTIONS = {
  iterations: { type: 'string' },
  'until-fail': { type: 'boolean' },
  'max-iterations': { type: 'string' },
  seed: { type: 'string' },
  'reboot-every': { type: 'string' },
  'stop-on-fail': { type: 'boolean' },
  'inject-crash-at': { type: 'string' },
  'iteration-timeout': { type: 'string' },
  ...MACHINE_OPTIONS,
  ...RESULTS_OPTIONS,
  format: { type: 'string', default: 'tap' },
} as const;

export const LOOP_HELP = `Loop:
  --iterations N             run N iterations (default 10)
  --until-fail               run until the first failing iteration (at most --max-iterations, default 1000)
  --seed S                   seed of the scenario's random choices (default: random, printed; reuse it to repeat a run)
  --reboot-every K           boot a fresh guest every K iterations (default: the scenario's rebootEvery, 0 = only after a crash)
  --stop-on-fail             stop at the first failing iteration (default: a failure or crash is recorded and the loop goes on)
  --iteration-timeout S      an iteration making no progress this long is a hang (default: the scenario's, 300)
  --inject-crash-at N        TEST AID: crash the guest kernel (sysrq c) after the first step of iteration N

Machine and results:
${machineHelp('the scenario\'s')}
${RESULTS_HELP}
  --format tap|json|none     what to print on stdout at the end (default tap: repro.tap)`;

export type LoopValues = { [K in keyof typeof LOOP_OPTIONS]?: (typeof LOOP_OPTIONS)[K] extends { type: 'boolean' } ? boolean : string };

function count(value: string | undefined, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new HarnessError('USAGE', `${name} takes an integer >= ${min} (got "${value}")`);
  return n;
}

export function scenarioArg(positionals: string[], help: string) {
  if (positionals.length !== 1) throw usageError(help, `name one scenario (got ${positionals.length ? positionals.join(' ') : 'none'})`, `built-in scenarios: ${builtinScenarios().join(', ')}`);
  return loadScenario(nameOrPath(positionals[0]!));
}

export function loopOptions(v: LoopValues, defaultIterations: number): Omit<ReproOptions, 'scenario' | 'kernel' | 'log'> {
  if (v.iterations !== undefined && v['until-fail']) throw new HarnessError('USAGE', 'choose --iterations N or --until-fail, not both');
  const seed = count(v.seed, '--seed', 0) ?? randomInt(1, 2 ** 31 - 1);
  const iterations = count(v.iterations, '--iterations', 1) ?? defaultIterations;
  const maxIterations = count(v['max-iterations'], '--max-iterations', 1);
  const rebootEvery = count(v['reboot-every'], '--reboot-every', 0);
  const crashAt = count(v['inject-crash-at'], '--inject-crash-at', 1);
  return {
    ...machineFrom(v),
    ...resultsFrom(v),
    ...(v['until-fail'] ? { untilFail: true } : { iterations }),
    ...(maxIterations !== undefined ? { maxIterations } : {}),
    seed,
    ...(rebootEvery !== undefined ? { rebootEvery } : {}),
    stopOnFail: Boolean(v['stop-on-fail']),
    ...(crashAt !== undefined ? { injectCrashAt: crashAt } : {}),
    ...(v['iteration-timeout'] ? { iterationTimeoutMs: seconds(v['iteration-timeout'], '--iteration-timeout', 300) } : {}),
  };
}

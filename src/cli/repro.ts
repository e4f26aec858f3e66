/** Commands for reproducing failures: `repro` (a scenario in a loop) and `bisect` (git bisect run driver); registered in main.ts. */
import { randomInt } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { HarnessError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { parseSourceRequirement, runBisect, runBisectStep, type BisectStepSpec } from '../repro/bisect.js';
import { runRepro, type ReproOptions } from '../repro/loop.js';
import { describeRepro } from '../repro/report.js';
import { builtinScenarios, loadScenario } from '../repro/scenario.js';
import { normalizeArgv } from '../machine/reproducer.js';
import { parse, seconds, usageError } from './args.js';
import type { CommandTable } from './command.js';
import { KERNEL_HELP, kernelOptions, kernelSpecFrom, patchesArgument } from './run.js';

const LOOP_OPTIONS = {
  iterations: { type: 'string' },
  'until-fail': { type: 'boolean' },
  'max-iterations': { type: 'string' },
  seed: { type: 'string' },
  'reboot-every': { type: 'string' },
  'stop-on-fail': { type: 'boolean' },
  'inject-crash-at': { type: 'string' },
  'iteration-timeout': { type: 'string' },
  topology: { type: 'string' },
  kvm: { type: 'boolean' },
  cmdline: { type: 'string' },
  'boot-timeout': { type: 'string' },
  results: { type: 'string' },
  'results-base': { type: 'string' },
  format: { type: 'string', default: 'tap' },
} as const;

const LOOP_HELP = `Loop:
  --iterations N             run N iterations (default 10)
  --until-fail               run until the first failing iteration (at most --max-iterations, default 1000)
  --seed S                   seed of the scenario's random choices (default: random, printed; reuse it to repeat a run)
  --reboot-every K           boot a fresh guest every K iterations (default: the scenario's rebootEvery, 0 = only after a crash)
  --stop-on-fail             stop at the first failing iteration (default: a failure or crash is recorded and the loop goes on)
  --iteration-timeout S      an iteration making no progress this long is a hang (default: the scenario's, 300)
  --inject-crash-at N        TEST AID: crash the guest kernel (sysrq c) after the first step of iteration N

Machine and results:
  --topology NAME|FILE       CXL topology (default: the scenario's)
  --kvm                      KVM instead of TCG
  --cmdline "ARGS"           extra kernel command-line arguments
  --boot-timeout S           seconds to wait for the guest's SSH (default 180)
  --results DIR              write the results here (default results/<timestamp>-<id>)
  --results-base DIR         make the timestamped results dir under DIR
  --format tap|json|none     what to print on stdout at the end (default tap: repro.tap)`;

export const REPRO_HELP = `cxl-harness repro SCENARIO [options]

Run a hotplug scenario in a loop in one booted guest and report how often it fails.
SCENARIO is a built-in name (${builtinScenarios().join(', ')})
or a path to your own scenario JSON file (./my.json; see scenarios/README.md).

A kernel crash or hang ends the running iteration as a failure (its console trace is kept),
the guest is booted again and the loop goes on unless --stop-on-fail or --until-fail.
The results dir holds repro.json (counts, first failing iteration, min/median/max timings,
every iteration), repro.tap (one test point per iteration), iterations/NNN/ for each failing
iteration (console.txt, dmesg.txt, commands.txt, iteration.json), console logs per boot, and
summary.json, results.tap, junit.xml and kcidb.json in the run's format (one check per iteration).

${LOOP_HELP}

${KERNEL_HELP}

Exit codes: 0 every iteration passed, 1 an iteration failed, 2 infrastructure error, 3 a kernel
crash, 4 the scenario does not apply to this kernel (skip, with the reason), 130/143 interrupted.`;

export const BISECT_HELP = `cxl-harness bisect --good REV --bad REV --src TREE [--patches SERIES] [options] SCENARIO

Find the commit that made SCENARIO fail with \`git bisect run\`. The bisect happens in a
worktree of TREE made for it (no checkout, so your checkout and your own bisect are left
alone); each step builds the commit through the kernel builder (cached, incremental) with
--patches/--config-fragment applied, and runs the repro loop on it:
exit 0 good (no failing iteration), 1 bad (an iteration failed or the kernel crashed),
125 skip (the kernel did not build, the guest did not boot, or the scenario does not apply).

  --good REV / --bad REV     the known good and bad commits (good must be an ancestor of bad)
  --src TREE                 the kernel git repository
  --patches SERIES           applied on every step (e.g. a debug patch); a series that does not apply is a skip
  --config-fragment FILE     extra Kconfig fragment (repeatable)
  --debug-config             add kernel-config/debug.config
  --base-config FILE         start from this .config instead of defconfig
  --require-source FILE:TEXT a commit whose FILE lacks the literal TEXT is a skip (125) without
                             building it: it cannot have what the scenario needs (repeatable)
  --iterations N             iterations per step (default 5); or --until-fail --max-iterations N

The results dir gets bisect.json (first bad commit), bisect.log (git bisect log),
steps.jsonl (one line per tested commit: verdict, reason, build and repro seconds),
step-spec.json (what every step runs) and steps/<commit>/ (each step's repro results, with a
reproducer.sh that repeats that step's repro on its kernel). When git named the first bad
commit without testing it (it was --bad), the step runs on it once more, so its dir and
reproducer.sh exist too (bisect.json: confirmed).

Exit codes: 0 the first bad commit was found (printed), 4 skipped commits hide it (the set it
is in is printed and in bisect.json), 2 no answer or infrastructure error, 130 interrupted.

Example (which patch of a series brings the zswap leak; the scenario writes the CXL region's
spm_node, so a commit without that attribute cannot online S as SPM):
  cxl-harness bisect --src ~/linux --good v7.2.13 --bad spm-v2 \\
      --require-source drivers/cxl/core/region.c:spm_node --iterations 1 spm-zswap-leak

${LOOP_HELP}`;

export function reproCommands(log: (line: string) => void): CommandTable {
  return {
    repro: { summary: 'run a hotplug scenario in a loop (crash = failure, loop goes on); repro.json + TAP', help: REPRO_HELP, run: (a) => reproCommand(a, log) },
    bisect: { summary: 'git bisect run driver: build each commit, run a repro scenario, 0 good / 1 bad / 125 skip', help: BISECT_HELP, run: (a) => bisectCommand(a, log) },
  };
}

type LoopValues = { [K in keyof typeof LOOP_OPTIONS]?: (typeof LOOP_OPTIONS)[K] extends { type: 'boolean' } ? boolean : string };

function count(value: string | undefined, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new HarnessError('USAGE', `${name} takes an integer >= ${min} (got "${value}")`);
  return n;
}

function scenarioArg(positionals: string[], help: string) {
  if (positionals.length !== 1) throw usageError(help, `name one scenario (got ${positionals.length ? positionals.join(' ') : 'none'})`, `built-in scenarios: ${builtinScenarios().join(', ')}`);
  const p = positionals[0]!;
  return loadScenario(p.includes('/') || p.endsWith('.json') ? resolve(p) : p);
}

function loopOptions(v: LoopValues, defaultIterations: number): Omit<ReproOptions, 'scenario' | 'kernel' | 'log'> {
  if (v.iterations !== undefined && v['until-fail']) throw new HarnessError('USAGE', 'choose --iterations N or --until-fail, not both');
  const seed = count(v.seed, '--seed', 0) ?? randomInt(1, 2 ** 31 - 1);
  const topology = v.topology && (v.topology.includes('/') || v.topology.endsWith('.json')) ? resolve(v.topology) : v.topology;
  const iterations = count(v.iterations, '--iterations', 1) ?? defaultIterations;
  const maxIterations = count(v['max-iterations'], '--max-iterations', 1);
  const rebootEvery = count(v['reboot-every'], '--reboot-every', 0);
  const crashAt = count(v['inject-crash-at'], '--inject-crash-at', 1);
  return {
    ...(topology ? { topology } : {}),
    ...(v.results ? { resultsDir: v.results } : {}),
    ...(v['results-base'] ? { resultsBase: v['results-base'] } : {}),
    accel: v.kvm ? 'kvm' : 'tcg',
    bootTimeoutMs: seconds(v['boot-timeout'], '--boot-timeout', 180),
    ...(v['until-fail'] ? { untilFail: true } : { iterations }),
    ...(maxIterations !== undefined ? { maxIterations } : {}),
    seed,
    ...(rebootEvery !== undefined ? { rebootEvery } : {}),
    stopOnFail: Boolean(v['stop-on-fail']),
    ...(crashAt !== undefined ? { injectCrashAt: crashAt } : {}),
    ...(v['iteration-timeout'] ? { iterationTimeoutMs: seconds(v['iteration-timeout'], '--iteration-timeout', 300) } : {}),
    extraCmdline: v.cmdline ? v.cmdline.split(/\s+/).filter(Boolean) : [],
  };
}

async function printResult(format: string, dir: string): Promise<void> {
  const { readFile } = await import('node:fs/promises');
  if (format === 'tap') process.stdout.write(await readFile(join(dir, 'repro.tap'), 'utf8'));
  if (format === 'json') process.stdout.write(await readFile(join(dir, 'repro.json'), 'utf8'));
}

async function reproCommand(argv: string[], log: (line: string) => void): Promise<number> {
  const { values, positionals } = parse(argv, { ...kernelOptions, ...LOOP_OPTIONS }, REPRO_HELP, { positionals: true });
  const format = values.format!;
  if (!['tap', 'json', 'none'].includes(format)) throw new HarnessError('USAGE', `--format takes tap, json or none (got "${format}")`);
  const scenario = scenarioArg(positionals, REPRO_HELP);
  const loop = loopOptions(values, 10);
  log(`scenario ${scenario.name} (${scenario.file}), seed ${loop.seed}`);
  // A shipped scenario by its name, a file by its absolute path; then the options, then the seed.
  const named = positionals[0]!;
  const scenarioAgain = named.includes('/') || named.endsWith('.json') ? scenario.file : named;
  const argvAgain = ['repro', scenarioAgain, ...normalizeArgv(argv.filter((a) => a !== named), { drop: ['--seed'] }), '--seed', String(loop.seed)];
  const { results, repro } = await runRepro({ ...loop, scenario, kernel: kernelSpecFrom(values, REPRO_HELP), log, argv: argvAgain });
  await printResult(format, results.dir);
  process.stderr.write(describeRepro(repro, results.dir) + '\n');
  return repro.exitCode;
}


async function bisectCommand(argv: string[], log: (line: string) => void): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...LOOP_OPTIONS,
    good: { type: 'string' },
    bad: { type: 'string' },
    src: { type: 'string' },
    patches: { type: 'string' },
    'config-fragment': { type: 'string', multiple: true },
    'base-config': { type: 'string' },
    'debug-config': { type: 'boolean' },
    'require-source': { type: 'string', multiple: true },
    step: { type: 'string' },
  }, BISECT_HELP, { positionals: true });
  // Called by `git bisect run` once per commit, with the spec the driver wrote: the exit code is the answer.
  if (values.step) return runBisectStep(values.step, log);
  const scenario = scenarioArg(positionals, BISECT_HELP);
  if (!values.src) throw usageError(BISECT_HELP, '--src TREE is required');
  if (!values.good || !values.bad) throw usageError(BISECT_HELP, '--good REV and --bad REV are required');
  const requireSource = (values['require-source'] ?? []).map(parseSourceRequirement);
  const loop = loopOptions(values, 5);
  const { resultsDir, resultsBase, ...stepLoop } = loop;
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  const dir = resolve(resultsDir ?? join(resultsBase ?? 'results', `${stamp}-bisect-${scenario.name}`));
  const spec: BisectStepSpec = {
    tree: resolve(values.src),
    build: {
      ...(values.patches ? { patches: patchesArgument(values.patches) } : {}),
      ...(values['config-fragment'] ? { fragments: values['config-fragment'].map((f) => resolve(f)) } : {}),
      ...(values['base-config'] ? { baseConfig: resolve(values['base-config']) } : {}),
      ...(values['debug-config'] ? { debug: true } : {}),
    },
    scenario: scenario.file,
    loop: stepLoop,
    loopArgv: normalizeArgv(argv.filter((a) => a !== positionals[0]), { drop: [...BISECT_ONLY, '--seed'], dropFlags: ['--debug-config'] }),
    requireSource,
    dir,
  };
  const specFile = join(dir, 'step-spec.json');
  await mkdir(dir, { recursive: true });
  await writeFile(specFile, JSON.stringify(spec, null, 2) + '\n');
  log(`scenario ${scenario.name}, seed ${loop.seed}; each step: ${specFile}`);
  const stepArgv = [process.execPath, join(packageRoot, 'dist', 'cli', 'main.js'), 'bisect', '--step', specFile];
  const r = await runBisect({ tree: spec.tree, good: values.good, bad: values.bad, stepArgv, dir, log });
  if (r.firstBad) {
    process.stdout.write(`first bad commit: ${r.firstBad} ${r.firstBadSubject ?? ''}\n`);
    if (r.confirmed) log(`on its own: exit ${r.confirmed.exitCode} (${r.confirmed.exitCode === 1 ? 'bad, confirmed' : 'NOT bad when tested alone: read the step'}); reproducer: ${join(r.confirmed.dir, 'reproducer.sh')}`);
    log(`bisect results: ${dir}`);
    return 0;
  }
  if (r.candidates) {
    process.stdout.write(`first bad commit: one of these ${r.candidates.length} (skipped commits sit between them, so git cannot tell which):\n${r.candidates.map((c) => `  ${c.commit} ${c.subject}`).join('\n')}\n`);
    log(`bisect results: ${dir}`);
    return r.exitCode;
  }
  process.stderr.write(`cxl-harness bisect: no first bad commit found; see ${join(dir, 'bisect-run.log')}\n`);
  return 2;
}

/** Options of bisect itself, not of the repro loop a step runs. */
const BISECT_ONLY = ['--good', '--bad', '--src', '--patches', '--config-fragment', '--base-config', '--require-source', '--step'];

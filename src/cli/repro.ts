/** `cxl-harness repro`: a scenario in a loop in one booted guest (src/repro/loop.ts); registered in main.ts. */
import { join } from 'node:path';
import { HarnessError } from '../errors.js';
import { namesAFile } from '../fields.js';
import { runRepro } from '../repro/loop.js';
import { describeRepro } from '../repro/report.js';
import { builtinScenarios } from '../repro/scenario.js';
import { normalizeArgv } from '../machine/reproducer.js';
import { parse } from './args.js';
import type { CommandTable } from './command.js';
import { LOOP_HELP, LOOP_OPTIONS, loopOptions, scenarioArg } from './loop-options.js';
import { KERNEL_HELP, KERNEL_OPTIONS, kernelSpecFrom } from './options.js';

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

export function reproCommands(log: (line: string) => void): CommandTable {
  return {
    repro: { summary: 'run a hotplug scenario in a loop (crash = failure, loop goes on); repro.json + TAP', help: REPRO_HELP,
      examples: ['cxl-harness repro online-offline --iterations 50', 'cxl-harness repro spm-zswap-leak --kernel arch/x86/boot/bzImage --until-fail', 'cxl-harness repro ./my-scenario.json --seed 1234 --format json'],
      run: (a) => reproCommand(a, log) },
  };
}

async function printResult(format: string, dir: string): Promise<void> {
  const { readFile } = await import('node:fs/promises');
  if (format === 'tap') process.stdout.write(await readFile(join(dir, 'repro.tap'), 'utf8'));
  if (format === 'json') process.stdout.write(await readFile(join(dir, 'repro.json'), 'utf8'));
}

async function reproCommand(argv: string[], log: (line: string) => void): Promise<number> {
  const { values, positionals } = parse(argv, { ...KERNEL_OPTIONS, ...LOOP_OPTIONS }, REPRO_HELP, { positionals: true });
  const format = values.format!;
  if (!['tap', 'json', 'none'].includes(format)) throw new HarnessError('USAGE', `--format takes tap, json or none (got "${format}")`);
  const scenario = scenarioArg(positionals, REPRO_HELP);
  const loop = loopOptions(values, 10);
  log(`scenario ${scenario.name} (${scenario.file}), seed ${loop.seed}`);
  // A shipped scenario by its name, a file by its absolute path; then the options, then the seed.
  const named = positionals[0]!;
  const scenarioAgain = namesAFile(named) ? scenario.file : named;
  const argvAgain = ['repro', scenarioAgain, ...normalizeArgv(argv.filter((a) => a !== named), { drop: ['--seed'] }), '--seed', String(loop.seed)];
  const { results, repro } = await runRepro({ ...loop, scenario, kernel: kernelSpecFrom(values, REPRO_HELP), log, argv: argvAgain });
  await printResult(format, results.dir);
  process.stderr.write(describeRepro(repro, results.dir) + '\n');
  return repro.exitCode;
}

/** `cxl-harness bisect`: git bisect run over a repro scenario, each step built and booted through the kernel builder and the repro loop. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { packageRoot } from '../paths.js';
import { parseSourceRequirement, runBisect, runBisectStep, type BisectStepSpec } from '../repro/bisect.js';
import { normalizeArgv } from '../machine/reproducer.js';
import { parse, usageError } from './args.js';
import type { CommandTable } from './command.js';
import { LOOP_HELP, LOOP_OPTIONS, loopOptions, scenarioArg } from './loop-options.js';
import { BUILD_OPTIONS, buildFrom } from './options.js';

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

${LOOP_HELP}`;

export function bisectCommands(log: (line: string) => void): CommandTable {
  return {
    bisect: { summary: 'git bisect run driver: build each commit, run a repro scenario, 0 good / 1 bad / 125 skip', help: BISECT_HELP,
      examples: [
        '# which patch of a series brings the zswap leak (the scenario writes the region\'s spm_node,',
        '# so a commit without that attribute cannot online S as SPM: --require-source skips it)',
        'cxl-harness bisect --src ~/linux --good v7.2.13 --bad spm-v2 --require-source drivers/cxl/core/region.c:spm_node --iterations 1 spm-zswap-leak',
      ],
      run: (a) => bisectCommand(a, log) },
  };
}

async function bisectCommand(argv: string[], log: (line: string) => void): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...LOOP_OPTIONS,
    ...BUILD_OPTIONS,
    good: { type: 'string' },
    bad: { type: 'string' },
    src: { type: 'string' },
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
    build: buildFrom(values),
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

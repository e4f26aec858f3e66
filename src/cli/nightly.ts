/**
 * `cxl-harness nightly --baseline DIR [run options]`: run's options and nightly's own parsed
 * together, the run handed to src/ci/nightly.ts with typed options, the comparison printed.
 */
import { runInProcess, type RunExecutor } from '../ci/executor.js';
import { runNightly } from '../ci/nightly.js';
import { renderComparison, shouldColor } from '../report/render.js';
import { reproducerArgv } from '../machine/reproducer.js';
import { parse, usageError } from './args.js';
import { compareOptions, compareOptionsFrom } from './compare.js';
import { processIo, type Io } from './io.js';
import { formatOf, printingRuns, runOptions, runOptionsFrom } from './run.js';

export const NIGHTLY_HELP = `cxl-harness nightly --baseline DIR [--update-baseline] [--timing-threshold R]
                    [--min-timing-delta MS] [--json] [run options...]

Run the harness exactly like \`cxl-harness run [run options...]\` (same options, same results dir,
same reproducer.sh), then compare the new results dir with the baseline results dir DIR like
\`cxl-harness compare DIR NEW\`. The comparison is printed (as JSON with --json) and written to
NEW/compare.json; NEW/trend.html shows the baseline run and the new one on one page (as
\`cxl-harness report --html\` does). By default nothing is printed from the run itself but its
summary table on stderr; pass --format tap|json|junit to also get the run's report on stdout.

  --baseline DIR         results dir of the reference run (or a symlink to one); read before
                         the run starts, so a wrong path fails at once (exit 2)
  --update-baseline      when the new run is no regression and its verdicts are complete
                         (outcome pass or fail, not a skip with nothing judged, a crash, hang,
                         infrastructure error or interruption), make it the baseline:
                           - DIR is a symlink (or does not exist yet): DIR is (re)pointed at
                             the new results dir, atomically (relative link);
                           - DIR is a real directory: it is replaced by a copy of the new
                             results dir (copied next to it, then swapped by rename).
                         A missing DIR is accepted only with this flag: the first nightly seeds
                         the baseline and compares with nothing.
  --timing-threshold R   timing changes beyond this ratio are listed (default 0.5 = 50%)
  --min-timing-delta MS  and only when they moved by at least MS milliseconds (default 0)
  --json                 print compare.json's content instead of the text comparison

Exit codes: 1 regression (new failure, new failing console finding, or worse outcome);
otherwise the run's own exit code (0 pass, 1 a check failed that already failed in the
baseline, 2 infrastructure error or hang, 3 kernel crash, 4 nothing judged, 130/143 interrupted);
2 also for a bad --baseline or bad options.`;

/** nightly's own options; every other option is run's. */
const nightlyOptions = {
  baseline: { type: 'string' },
  'update-baseline': { type: 'boolean' },
  ...compareOptions,
} as const;

/** nightly's own options as reproducer.sh leaves them out: it repeats the run alone. */
const OWN = Object.entries(nightlyOptions);
const NOT_RUN = { drop: OWN.filter(([, o]) => o.type === 'string').map(([n]) => `--${n}`), dropFlags: OWN.filter(([, o]) => o.type === 'boolean').map(([n]) => `--${n}`) };

export async function nightlyCommand(
  argv: string[],
  deps: { io?: Io; log?: (line: string) => void; execute?: RunExecutor } = {},
): Promise<number> {
  const io = deps.io ?? processIo;
  const log = deps.log ?? ((line: string) => io.err(`${line}\n`));
  const { values } = parse(argv, { ...runOptions, ...nightlyOptions }, NIGHTLY_HELP);
  if (!values.baseline) throw usageError(NIGHTLY_HELP, 'needs --baseline DIR');
  if (values.results && values['results-base']) throw usageError(NIGHTLY_HELP, 'choose one of --results and --results-base');
  const baseline = values.baseline;
  const updateBaseline = Boolean(values['update-baseline']);
  const compare = compareOptionsFrom(values);
  const run = runOptionsFrom(values, { usage: NIGHTLY_HELP, log, argv: reproducerArgv(argv, NOT_RUN) });
  const execute = printingRuns(deps.execute ?? runInProcess, formatOf(values.format, 'none', NIGHTLY_HELP), io);

  const done = await runNightly({ baseline, updateBaseline, compare, run, execute, log });
  if (values.json) io.out(done.json);
  else if (done.comparison) io.out(renderComparison(done.comparison, { color: shouldColor(io.env, io.isTTY) }));
  else io.out(`no baseline to compare with: ${baseline}\n`);
  log(`nightly: ${done.decision.reason}; ${done.file} and ${done.trend} written`);
  if (done.baselineAction) log(`nightly: baseline ${baseline} ${done.baselineAction} -> ${done.newDir}`);
  else if (updateBaseline) log(`nightly: baseline ${baseline} left as it was`);
  return done.decision.exitCode;
}

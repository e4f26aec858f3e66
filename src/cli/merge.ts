/**
 * `cxl-harness merge DIR... --out OUT`: join the results dirs of shards into one report
 * (src/ci/merge.ts) and print it.
 */
import { relative, resolve } from 'node:path';
import { mergeResults } from '../ci/merge.js';
import { renderSummary, shouldColor } from '../report/render.js';
import { kcidbOptionsFrom, parse, usageError } from './args.js';
import { processIo, type Io } from './io.js';

export const MERGE_HELP = `cxl-harness merge DIR... --out OUT [--run-id ID] [--origin NAME] [--artifacts-url URL [--artifacts-root ROOT]] [--json]

Join shard results into one report. Each DIR is a results dir (it holds summary.json) or a
directory holding results dirs up to 3 levels down (a shard's --results-base, or a CI
download of every shard's artifacts); dirs holding a merge.json (earlier merge outputs) and
OUT itself are skipped when searching.

Results dirs of the same kernel and topology (by the matrix entry in matrix-job.json when
present, else by the kernel identity in summary.json) are merged into one run: checks,
findings and steps of all shards, the worst outcome, timings of the slowest shard; evidence
and log paths are rewritten relative to the merged dir so they still resolve.
  - one kernel/topology: OUT gets summary.json, results.tap, junit.xml, kcidb.json, merge.json
    (so \`cxl-harness report OUT\` and \`cxl-harness compare\` work on it);
  - several: OUT/<kernel>__<topology>/ gets those files for each, OUT/merge.json lists them and
    OUT/kcidb.json holds all of them (one KCIDB submission).

  --run-id ID            the merged run's id (default: the shard run ids joined with +);
                         with several groups, ID-<group>
  --origin NAME          KCIDB origin (default cxl_harness)
  --artifacts-url URL    where ROOT is published: KCIDB output_files become URLs under it
  --artifacts-root ROOT  the directory published at URL (default: the deepest directory holding
                         OUT and every results dir, e.g. the CI download dir); evidence paths of
                         each merged report are resolved against it, so upload all of ROOT
  --json                 print merge.json on stdout instead of the summary table(s)

A check id found in two shards of one group is an error (a shard ran twice or the split is wrong).
A matrix job dir with matrix-job.json but no summary.json (the job could not start) is listed
in merge.json's notRun and makes the exit code at least 2.
Exit codes: the merged run's exit code, the worst over groups (0 pass, 1 a check failed or a
console finding, 2 infrastructure error or hang, 3 kernel crash, 4 nothing judged, 130/143 interrupted);
2 also when a DIR has no results dir, shards do not fit together, or on bad options.`;

export async function mergeCommand(argv: string[], io: Io = processIo): Promise<number> {
  const { values, positionals } = parse(argv, {
    out: { type: 'string' },
    'run-id': { type: 'string' },
    origin: { type: 'string' },
    'artifacts-url': { type: 'string' },
    'artifacts-root': { type: 'string' },
    json: { type: 'boolean' },
  }, MERGE_HELP, { positionals: true });
  if (values['artifacts-root'] && !values['artifacts-url']) throw usageError(MERGE_HELP, '--artifacts-root only goes with --artifacts-url');
  if (!values.out) throw usageError(MERGE_HELP, 'needs --out DIR');
  if (positionals.length === 0) throw usageError(MERGE_HELP, 'needs at least one results dir');
  const out = resolve(values.out);
  const r = await mergeResults({
    inputs: positionals,
    out,
    ...(values['run-id'] ? { runId: values['run-id'] } : {}),
    kcidb: kcidbOptionsFrom(values),
    ...(values['artifacts-root'] ? { artifactsRoot: values['artifacts-root'] } : {}),
  });
  for (const d of r.notRun) io.err(`merge: matrix job ${d} has no summary.json (it did not start; see its matrix-job.json)\n`);
  if (values.json) io.out(JSON.stringify(r.index, null, 2) + '\n');
  else {
    const color = shouldColor(io.env, io.isTTY);
    const several = r.groups.length > 1;
    for (const g of r.groups) io.out(renderSummary(g.summary, { color, resultsDir: relative(process.cwd(), g.dir) || '.' }) + (several ? '\n' : ''));
    if (several) {
      io.out(`merged ${r.shards} results dirs into ${r.groups.length} reports under ${out}:\n`);
      for (const g of r.index.groups) io.out(`  ${String(g.exitCode).padStart(3)}  ${g.outcome.padEnd(20)}  ${g.dir}\n`);
    }
  }
  io.err(`merged ${r.shards} results dir(s) into ${out} (exit ${r.index.exitCode})\n`);
  return r.index.exitCode;
}

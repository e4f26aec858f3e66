import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { matrixCommand } from '../../src/cli/matrix.js';
import { ROOT } from '../lib/cli.js';
import { capture } from '../fixtures/report/dirs.js';

// `yaml` is in node_modules through tap (not a direct dependency): load it if it is there.
let YAML: { parse(text: string): unknown } | undefined;
try {
  YAML = (await import('yaml')) as { parse(text: string): unknown };
} catch {
  YAML = undefined;
}
const noYaml = YAML ? false : 'the yaml package is not installed (it normally comes with tap)';

type Obj = Record<string, unknown>;
const load = (name: string): Obj => YAML!.parse(readFileSync(join(ROOT, 'docs', 'ci', name), 'utf8')) as Obj;

/** The `cxl-harness matrix` invocations in a script, with "$VAR" replaced from `env`, as argv. */
function matrixCalls(script: string, env: Record<string, string>): string[][] {
  const calls: string[][] = [];
  for (const m of script.matchAll(/dist\/cli\/main\.js matrix ([^|)\n]*)/g)) {
    const argv: string[] = [];
    for (const tok of m[1]!.matchAll(/"([^"]*)"|(\S+)/g)) {
      const word = tok[1] ?? tok[2]!;
      argv.push(word.replace(/\$\{?([A-Z_]+)\}?/g, (_, v: string) => env[v] ?? `$${v}`));
    }
    calls.push(argv);
  }
  return calls;
}

async function runMatrix(argv: string[]): Promise<unknown> {
  const c = capture();
  const code = await matrixCommand(argv, { io: c.io, log: () => {} });
  if (code !== 0) throw new Error(`matrix ${argv.join(' ')} exited ${code}`);
  return JSON.parse(c.stdout);
}

t.test('10 the GitHub Actions example parses and plans shards the shard job consumes', { skip: noYaml }, async (t) => {
  const wf = load('github-actions.yml');
  const jobs = wf.jobs as Record<string, Obj>;
  t.same(Object.keys(jobs), ['plan', 'shard', 'merge']);
  t.same(jobs.shard?.needs, 'plan');
  t.same(jobs.merge?.needs, ['plan', 'shard']);
  const strategy = jobs.shard?.strategy as Obj;
  t.equal(strategy.matrix, '${{ fromJSON(needs.plan.outputs.shards) }}');
  t.equal((jobs.plan?.outputs as Obj).shards, '${{ steps.plan.outputs.shards }}');

  const env = wf.env as Record<string, string>;
  const steps = (name: string): Obj[] => jobs[name]!.steps as Obj[];
  const plan = steps('plan').find((s) => s.id === 'plan')!;
  const calls = matrixCalls(String(plan.run), env);
  t.equal(calls.length, 2, 'the job list and the shard list');
  const shards = (await runMatrix(calls[1]!)) as { include: { shard: string; jobs: string }[] };
  t.ok(shards.include.length > 0 && shards.include.length <= Number(env.SHARDS));

  // Each shard job's command, with matrix.shard filled in, selects exactly its listed jobs.
  const shardRun = String(steps('shard').find((s) => String(s.run ?? '').includes('--run'))!.run);
  t.match(shardRun, /--shard "\$\{\{ matrix\.shard \}\}" --run --results-base results/);
  for (const entry of shards.include) {
    const argv = matrixCalls(shardRun.replace('${{ matrix.shard }}', entry.shard), env)[0]!.filter((a) => a !== '--run' && a !== '--results-base' && a !== 'results');
    const jobsOfShard = (await runMatrix(argv)) as { id: string }[];
    t.equal(jobsOfShard.map((j) => j.id).join(' '), entry.jobs, `shard ${entry.shard} runs the jobs the plan listed`);
  }
  const upload = steps('shard').find((s) => s.uses === 'actions/upload-artifact@v4')!;
  t.same([upload.if, (upload.with as Obj).path], ['always()', 'results/'], 'shard results are kept even when checks fail');
  const merge = String(steps('merge').find((s) => String(s.run ?? '').includes(' merge '))!.run);
  t.match(merge, /merge artifacts --out artifacts\/merged/);
  t.ok(steps('merge').some((s) => s.uses === 'actions/download-artifact@v4' && (s.with as Obj).pattern === 'results-shard-*'));
});

t.test('20 the GitLab CI example parses: plan, parallel shards, merge with a JUnit report', { skip: noYaml }, async (t) => {
  const wf = load('gitlab-ci.yml');
  t.same(wf.stages, ['plan', 'test', 'report']);
  const vars = wf.variables as Record<string, string>;
  const plan = wf.plan as Obj;
  const calls = matrixCalls((plan.script as string[]).join('\n'), vars);
  t.equal(calls.length, 2);
  const jobs = (await runMatrix(calls[0]!)) as { id: string }[];
  t.ok(jobs.length > 0);
  const shards = (await runMatrix(calls[1]!)) as { parallel: { matrix: { SHARD: string[] }[] } };
  const test = wf.test as Obj;
  t.equal(test.parallel, Number(vars.SHARDS), 'parallel: equals SHARDS');
  t.equal(shards.parallel.matrix[0]?.SHARD.length, Math.min(Number(vars.SHARDS), jobs.length));
  const script = (test.script as string[]).join('\n');
  t.match(script, /--shard "\$CI_NODE_INDEX\/\$CI_NODE_TOTAL" --run --results-base "results\/shard-\$CI_NODE_INDEX"/);
  const covered: string[] = [];
  for (let i = 1; i <= Number(vars.SHARDS); i++) {
    const argv = matrixCalls(script, { ...vars, CI_NODE_INDEX: String(i), CI_NODE_TOTAL: vars.SHARDS! })[0]!.filter((a) => a !== '--run' && a !== '--results-base' && !a.startsWith('results/'));
    covered.push(...((await runMatrix(argv)) as { id: string }[]).map((j) => j.id));
  }
  t.same(covered, jobs.map((j) => j.id), 'the parallel jobs together run every matrix job once');
  t.same((test.artifacts as Obj).when, 'always');
  const merge = wf.merge as Obj;
  t.same([merge.stage, merge.needs, merge.when], ['report', ['test'], 'always']);
  t.match((merge.script as string[]).join('\n'), /merge results --out results\/merged/);
  t.same(((merge.artifacts as Obj).reports as Obj).junit, 'results/merged/**/junit.xml');
});

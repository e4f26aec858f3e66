import t from 'tap';
import { readFileSync } from 'node:fs';
import { register } from 'node:module';
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

/*
 * GitHub's own workflow parser (@actions/workflow-parser, what the Actions editor runs). It
 * imports its JSON schema without `with { type: 'json' }`, which Node refuses
 * (actions/languageservices#387): a load hook gives that package's JSON files the attribute.
 */
const JSON_ATTRIBUTE_HOOK = `export async function load(url, context, nextLoad) {
  if (url.endsWith('.json') && url.includes('/@actions/workflow-parser/') && context.importAttributes?.type === undefined) {
    return nextLoad(url, { ...context, importAttributes: { ...context.importAttributes, type: 'json' } });
  }
  return nextLoad(url, context);
}`;
register(`data:text/javascript,${encodeURIComponent(JSON_ATTRIBUTE_HOOK)}`);
const workflowParser = await import('@actions/workflow-parser');

/** What GitHub would say about a workflow file: its parse errors, then what its conversion to a run refuses. */
async function githubErrors(name: string, content: string): Promise<string[]> {
  const parsed = workflowParser.parseWorkflow({ name, content }, new workflowParser.NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors().map((e) => e.message);
  if (errors.length > 0 || !parsed.value) return errors.length ? errors : [`${name}: nothing parsed`];
  const template = await workflowParser.convertWorkflowTemplate(parsed.context, parsed.value);
  return (template.errors ?? []).map((e) => e.Message);
}

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

t.test('05 GitHub\'s workflow parser accepts the GitHub Actions example, and would refuse a broken one', async (t) => {
  const text = readFileSync(join(ROOT, 'docs', 'ci', 'github-actions.yml'), 'utf8');
  t.same(await githubErrors('github-actions.yml', text), [], 'no error from GitHub\'s parser');
  // The parser is really judging: a misspelt job key and a broken expression are each refused.
  t.match(await githubErrors('github-actions.yml', text.replace('timeout-minutes: 360', 'timeout-minute: 360')), [/Unexpected value 'timeout-minute'/]);
  t.match(await githubErrors('github-actions.yml', text.replace('${{ matrix.shard }}', '${{ matrix.shard( }}')), [/Unexpected symbol: '\('/]);
});

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

  // The pages people open are an artifact of their own, kept whatever the verdicts; the whole tree beside them.
  const uploads = steps('merge').filter((s) => s.uses === 'actions/upload-artifact@v4');
  const pages = uploads.find((s) => (s.with as Obj).name === 'cxl-harness-pages');
  t.equal(pages?.if, 'always()');
  const paths = String((pages?.with as Obj).path).trim().split('\n');
  t.same(paths, ['artifacts/merged/**/report.html', 'artifacts/results-shard-*/**/report.html', 'artifacts/results-shard-*/side-by-side-*.html']);
  const tree = uploads.find((s) => (s.with as Obj).name === 'cxl-harness-report');
  t.same([tree?.if, (tree?.with as Obj).path], ['always()', 'artifacts/'], 'the results dirs the pages link to');
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

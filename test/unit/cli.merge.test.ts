import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { XMLValidator } from 'fast-xml-parser';
import { matrixCommand } from '../../src/cli/matrix.js';
import { mergeCommand } from '../../src/cli/merge.js';
import type { RunExecutor } from '../../src/ci/executor.js';
import { reportCommand } from '../../src/cli/report.js';
import type { KcidbData } from '../../src/report/kcidb.js';
import type { RunSummary } from '../../src/report/model.js';
import { HarnessError } from '../../src/errors.js';
import { check, finding, summary } from '../fixtures/report/summaries.js';
import { capture, fakeSuite, scratch, writeResultsDir } from '../fixtures/report/dirs.js';

const schema = JSON.parse(readFileSync(new URL('../fixtures/report/kcidb-v5.0.schema.json', import.meta.url), 'utf8')) as object;
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv2020) => Ajv2020;
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const validateKcidb = ajv.compile(schema);

const read = <T>(p: string): T => JSON.parse(readFileSync(p, 'utf8')) as T;

async function merge(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const c = capture();
  const code = await mergeCommand(args, c.io);
  return { code, stdout: c.stdout, stderr: c.stderr };
}

t.test('10 two shards of one kernel and topology merge into one results dir', async (t) => {
  const root = scratch(t);
  const a = writeResultsDir(join(root, 'shard-1'), summary({ runId: 'r1', suite: 'hotplug', checks: [check('hotplug.a', 'pass'), check('hotplug.b', 'skip')], timings: { boot: 9000 } }));
  const b = writeResultsDir(
    join(root, 'shard-2'),
    summary({
      runId: 'r2',
      suite: 'zswap',
      outcome: 'fail',
      exitCode: 1,
      checks: [check('zswap.a', 'fail')],
      findings: [finding('warning', 'WARNING: CPU: 0 PID: 1 at mm/zswap.c:9 f', { line: 12 })],
      timings: { boot: 12000 },
    }),
  );
  const out = join(root, 'merged');
  const r = await merge([a, b, '--out', out, '--origin', 'my_ci']);
  t.equal(r.code, 1, 'the merged run fails like its failing shard');
  const m = read<RunSummary>(join(out, 'summary.json'));
  t.same([m.runId, m.suite, m.outcome, m.exitCode], ['r1+r2', 'hotplug,zswap', 'fail', 1]);
  t.same(m.checks.map((c) => c.id), ['hotplug.a', 'hotplug.b', 'zswap.a']);
  t.equal(m.timings.boot, 12000);
  for (const c of m.checks) for (const e of c.evidence) t.ok(existsSync(join(out, e)), `evidence ${e} resolves from the merged dir`);
  for (const f of m.findings) t.ok(existsSync(join(out, f.log ?? 'console.log')), `finding log ${f.log} resolves`);
  for (const s of m.steps) if (s.log) t.ok(existsSync(join(out, s.log)), `step log ${s.log} resolves`);
  t.equal(XMLValidator.validate(readFileSync(join(out, 'junit.xml'), 'utf8')), true, 'junit.xml is well-formed');
  t.match(readFileSync(join(out, 'results.tap'), 'utf8'), /^TAP version 14\n[\s\S]*# outcome fail exit 1\n$/);
  const kcidb = read<KcidbData>(join(out, 'kcidb.json'));
  t.equal(validateKcidb(kcidb), true, JSON.stringify(validateKcidb.errors));
  t.equal(kcidb.checkouts[0]?.id, 'my_ci:r1+r2');
  const index = read<{ groups: { name: string; dir: string; inputs: string[] }[] }>(join(out, 'merge.json'));
  t.same(index.groups.map((g) => [g.name, g.dir, g.inputs]), [['.', '.', ['../shard-1', '../shard-2']]]);
  t.match(r.stdout, /FAIL\s+zswap\.a/);
  const page = readFileSync(join(out, 'report.html'), 'utf8');
  for (const c of m.checks) t.ok(page.includes(`id="check-${c.id}"`), `report.html shows ${c.id}`);
  const links = [...page.matchAll(/<a href="(\.\.\/shard-[^"#]+)"/g)].map((x) => x[1]!);
  t.ok(links.length > 0 && links.every((l) => existsSync(join(out, decodeURI(l)))), `its links into the shards resolve: ${links.join(' ')}`);

  const again = capture();
  t.equal(await reportCommand([out, '--json'], again.io), 0, 'report reads the merged dir');
});

t.test('20 a matrix over two kernels merges into one report per kernel/topology, found under the shard bases', async (t) => {
  const root = scratch(t);
  const execute: RunExecutor = async (options) => {
    const suite = options.suite.name;
    const kernel = (options.kernel.kind === 'distro' && options.kernel.suite) || 'sid';
    const s = summary({ runId: `${kernel}-${suite}`, suite, kernel: { origin: 'distro', package: `linux-image-amd64 (${kernel})` }, checks: [check(`${suite}.x`, 'pass')] });
    writeResultsDir(options.resultsDir, s);
    return s;
  };
  const axes = ['--kernels', 'distro,distro:trixie', '--topologies', 'default', '--suites', 'hotplug,zswap'];
  for (const s of ['1/2', '2/2']) {
    const c = capture();
    t.equal(await matrixCommand([...axes, '--shard', s, '--run', '--results-base', join(root, 'artifacts', `shard-${s[0]}`)], { io: c.io, log: () => {}, execute, findSuite: fakeSuite }), 0);
  }
  const out = join(root, 'artifacts', 'merged');
  const r = await merge([join(root, 'artifacts'), '--out', out, '--json', '--artifacts-url', 'https://ci.example/a']);
  t.equal(r.code, 0);
  const index = JSON.parse(r.stdout) as { exitCode: number; groups: { name: string; dir: string; runId: string; checks: number; inputs: string[] }[] };
  t.same(index.groups.map((g) => [g.name, g.dir, g.runId, g.checks]), [
    ['distro__default', 'distro__default', 'sid-hotplug+sid-zswap', 2],
    ['distro-trixie__default', 'distro-trixie__default', 'trixie-hotplug+trixie-zswap', 2],
  ]);
  t.same(index.groups[0]?.inputs, ['../shard-1/distro__default__hotplug', '../shard-1/distro__default__zswap']);
  for (const g of index.groups) {
    for (const f of ['summary.json', 'results.tap', 'junit.xml', 'kcidb.json', 'report.html']) t.ok(existsSync(join(out, g.dir, f)), `${g.dir}/${f}`);
    const m = read<RunSummary>(join(out, g.dir, 'summary.json'));
    for (const c of m.checks) for (const e of c.evidence) t.ok(existsSync(join(out, g.dir, e)), `${g.dir}: ${e} resolves`);
  }
  const all = read<KcidbData>(join(out, 'kcidb.json'));
  t.equal(validateKcidb(all), true, JSON.stringify(validateKcidb.errors));
  t.same([all.checkouts.length, all.builds.length, all.tests.length], [2, 2, 2 * (1 + 2 + 1)], 'both groups in one submission (root + checks + console test each)');
  const urls = all.tests.flatMap((x) => x.output_files ?? []).map((f) => f.url);
  t.ok(urls.includes('https://ci.example/a/shard-2/distro-trixie__default__zswap/checks/zswap.x.txt'), urls.join('\n'));
  t.ok(urls.every((u) => u.startsWith('https://ci.example/a/') && !u.includes('/../')), 'every URL stays under the published root');
  const groupFile = read<KcidbData>(join(out, 'distro__default', 'kcidb.json'));
  t.same(groupFile.tests.flatMap((x) => x.output_files ?? []).map((f) => f.url).sort(), urls.filter((u) => u.includes('distro__default')).sort(), 'the per-group kcidb.json has the same URLs');

  const rerun = await merge([join(root, 'artifacts'), '--out', out]);
  t.equal(rerun.code, 0, 'merging again skips the earlier merged output (it holds merge.json)');
  t.match(rerun.stdout, /merged 4 results dirs into 2 reports/);
});

t.test('30 shards that do not fit together, and inputs without results, exit 2 with the reason', async (t) => {
  const root = scratch(t);
  const a = writeResultsDir(join(root, 'a'), summary({ runId: 'a' }));
  const b = writeResultsDir(join(root, 'b'), summary({ runId: 'b' }));
  await t.rejects(merge([a, b, '--out', join(root, 'o1')]), { code: 'REPORT_MERGE_DUPLICATE_CHECK', exitCode: 2, message: /spm\.cpuset\.mems_sysram_file appears in shard 0 and shard 1/ });
  await t.rejects(merge([a, join(root, 'missing'), '--out', join(root, 'o2')]), { code: 'RESULTS_MISSING', message: new RegExp(`${join(root, 'missing')} is not a directory`) });
  const empty = join(root, 'empty');
  writeResultsDir(join(empty, 'x', 'y', 'z', 'too-deep'), summary());
  await t.rejects(merge([empty, '--out', join(root, 'o3')]), { code: 'RESULTS_MISSING', message: /holds no results dir/ });
  await t.rejects(merge([a]), { code: 'USAGE', message: /--out/ });
  await t.rejects(merge(['--out', join(root, 'o4')]), { code: 'USAGE' });
  t.equal((await merge([a, a, '--out', join(root, 'o5')])).code, 0, 'the same dir twice counts once');
});

t.test('35 a results dir whose run never booted is refused, named, with nothing written', async (t) => {
  const root = scratch(t);
  const a = writeResultsDir(join(root, 'a'), summary({ runId: 'a' }));
  const never = writeResultsDir(join(root, 'never'), summary({
    runId: 'n', outcome: 'infrastructure-error', exitCode: 2, checks: [],
    steps: [{ name: 'kernel', startedAt: '2024-05-01T12:00:01.000Z', status: 'failed', error: 'apt-get download failed' }],
    error: { code: 'APT_DOWNLOAD_FAILED', message: 'apt-get download failed\n(the whole command)' },
  }));
  await t.rejects(merge([a, never, '--out', join(root, 'o')]), {
    code: 'RESULTS_NOT_RUN', exitCode: 2, message: new RegExp(`^${never} holds a run that never booted \\(APT_DOWNLOAD_FAILED: apt-get download failed\\): it has no verdicts$`),
  });
  t.notOk(existsSync(join(root, 'o')), 'no merged report');
});

t.test('40 a matrix job that could not start is not lost: merge lists it and exits 2', async (t) => {
  const root = scratch(t);
  const execute: RunExecutor = async (options) => {
    const suite = options.suite.name;
    if (suite === 'zswap') throw new HarnessError('TOPOLOGY_UNKNOWN', 'unknown topology');
    const s = summary({ runId: suite, suite, checks: [check(`${suite}.x`, 'pass')] });
    writeResultsDir(options.resultsDir, s);
    return s;
  };
  const c = capture();
  t.equal(await matrixCommand(['--kernels', 'distro', '--topologies', 'default', '--suites', 'hotplug,zswap', '--run', '--results-base', join(root, 's1')], { io: c.io, log: () => {}, execute, findSuite: fakeSuite }), 2);
  const r = await merge([join(root, 's1'), '--out', join(root, 'merged'), '--json']);
  t.equal(r.code, 2, 'the passing job alone would have been 0');
  const index = JSON.parse(r.stdout) as { exitCode: number; groups: { checks: number }[]; notRun: string[] };
  t.same([index.exitCode, index.groups.map((g) => g.checks), index.notRun], [2, [1], ['../s1/distro__default__zswap']]);
  t.match(r.stderr, /distro__default__zswap has no summary\.json/);
});

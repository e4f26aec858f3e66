import t from 'tap';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { Parser, type FinalResults } from 'tap-parser';
import { reportCommand, reportCommands } from '../../src/cli/report.js';
import { kcidbJson, readSummary } from '../../src/results/report-files.js';
import type { KcidbData } from '../../src/report/kcidb.js';
import { check, finding, summary } from '../fixtures/report/summaries.js';
import { capture, scratch, writeResultsDir } from '../fixtures/report/dirs.js';

const schema = JSON.parse(readFileSync(new URL('../fixtures/report/kcidb-v5.0.schema.json', import.meta.url), 'utf8')) as object;
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv2020) => Ajv2020;
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const validateKcidb = ajv.compile(schema);

function parseTap(tap: string): Promise<{ final: FinalResults; extra: string[] }> {
  return new Promise((resolve) => {
    const extra: string[] = [];
    const p = new Parser({ strict: true }, (final) => resolve({ final, extra }));
    p.on('extra', (l: string) => extra.push(l));
    p.end(tap);
  });
}

function parseJUnit(xml: string): Record<string, unknown> {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`not well-formed XML: ${JSON.stringify(valid.err)}`);
  return new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@' }).parse(xml) as Record<string, unknown>;
}

const failing = () =>
  summary({
    outcome: 'fail',
    exitCode: 1,
    checks: [check('spm.node.private', 'pass'), check('spm.cpuset.mems', 'fail'), check('cxl.region.online', 'skip')],
    findings: [finding('warning', 'WARNING: CPU: 1 PID: 7 at mm/page_alloc.c:42 f+0x1/0x2', { step: 'suite:spm' })],
  });

t.test('10 every format is printed and parses back', async (t) => {
  const dir = writeResultsDir(join(scratch(t), 'run'), failing());
  const print = async (flag: string): Promise<string> => {
    const c = capture();
    t.equal(await reportCommand([dir, flag], c.io), 0, `report ${flag} exits 0`);
    return c.stdout;
  };
  const tap = await parseTap(await print('--tap'));
  t.same(tap.extra, [], 'every line is TAP');
  t.equal(tap.final.ok, false, 'the failing check fails the TAP stream');

  const junit = parseJUnit(await print('--junit')) as { testsuites: { '@failures': string } };
  t.equal(junit.testsuites['@failures'], '2', 'the failed check and the WARNING are failures');

  const kcidb = JSON.parse(await print('--kcidb')) as KcidbData;
  t.equal(validateKcidb(kcidb), true, JSON.stringify(validateKcidb.errors));
  t.ok(kcidb.tests.every((x) => x.origin === 'cxl_harness'), 'default origin');

  const json = JSON.parse(await print('--json')) as { runId: string; checks: unknown[] };
  t.same([json.runId, json.checks.length], [failing().runId, 3]);

  const table = await print('--table');
  t.match(table, /FAIL\s+spm\.cpuset\.mems/);
  t.match(table, /FAIL \(exit 1\)/);
  t.equal(await print('--table'), table, 'same input, same table');
  const c = capture();
  await reportCommand([dir], c.io);
  t.equal(c.stdout, table, 'the table is the default');
});

t.test('20 --kcidb --origin names the CI system; a bad origin is a usage error', async (t) => {
  const dir = writeResultsDir(join(scratch(t), 'run'), failing());
  const c = capture();
  await reportCommand([dir, '--kcidb', '--origin', 'my_ci', '--artifacts-url', 'https://ci.example/run/7'], c.io);
  const data = JSON.parse(c.stdout) as KcidbData;
  t.equal(validateKcidb(data), true, JSON.stringify(validateKcidb.errors));
  t.equal(data.checkouts[0]?.id, `my_ci:${failing().runId}`);
  const withFiles = data.tests.find((x) => x.path === 'spm.cpuset.mems');
  t.same(withFiles?.output_files, [{ name: 'spm.cpuset.mems.txt', url: 'https://ci.example/run/7/checks/spm.cpuset.mems.txt' }]);
  await t.rejects(reportCommand([dir, '--kcidb', '--origin', 'My-CI'], capture().io), { code: 'USAGE', exitCode: 2 });
});

t.test('30 --write (re)writes results.tap, junit.xml, kcidb.json and report.html from summary.json', async (t) => {
  const dir = writeResultsDir(join(scratch(t), 'run'), failing());
  writeFileSync(join(dir, 'results.tap'), 'stale\n');
  const c = capture();
  t.equal(await reportCommand([dir, '--write', '--origin', 'lab_ci'], c.io), 0);
  t.equal(c.stdout, '', '--write alone prints nothing on stdout');
  for (const f of ['results.tap', 'junit.xml', 'kcidb.json', 'report.html']) {
    t.ok(existsSync(join(dir, f)), `${f} written`);
    t.match(c.stderr, `wrote ${join(dir, f)}`);
  }
  t.equal((await parseTap(readFileSync(join(dir, 'results.tap'), 'utf8'))).final.ok, false, 'the stale TAP was replaced');
  parseJUnit(readFileSync(join(dir, 'junit.xml'), 'utf8'));
  const kcidb = JSON.parse(readFileSync(join(dir, 'kcidb.json'), 'utf8')) as KcidbData;
  t.equal(validateKcidb(kcidb), true);
  t.equal(kcidb.builds[0]?.origin, 'lab_ci');
  t.equal(readFileSync(join(dir, 'kcidb.json'), 'utf8'), kcidbJson(await readSummary(dir), { origin: 'lab_ci' }), 'the same bytes the run writes');

  t.match(readFileSync(join(dir, 'report.html'), 'utf8'), /<tr class="check" id="check-spm\.cpuset\.mems"><td><span class="badge v-fail">fail<\/span>/, 'report.html shows the run');

  const both = capture();
  await reportCommand([dir, '--write', '--tap'], both.io);
  t.match(both.stdout, /^TAP version 14/, 'with a format, --write also prints it');
});

t.test('35 --html OUT: one page over several results dirs, each run linked to its report.html', async (t) => {
  const root = scratch(t);
  const before = writeResultsDir(join(root, 'runs', 'before'), summary({ runId: 'before', startedAt: '2024-05-01T12:00:00.000Z' }));
  const after = writeResultsDir(join(root, 'runs', 'after'), { ...failing(), runId: 'after', startedAt: '2024-05-02T12:00:00.000Z' });
  await reportCommand([after, '--write'], capture().io);
  const out = join(root, 'pages', 'trend.html');
  const c = capture();
  t.equal(await reportCommand(['--html', out, after, before], c.io), 0);
  t.equal(c.stderr, `wrote ${out}\n`);
  t.equal(c.stdout, '');
  const html = readFileSync(out, 'utf8');
  t.match(html, /<h1>2 runs of spm on 1 kernel<\/h1>/);
  t.ok(html.indexOf('<code class="nowrap">before</code>') < html.indexOf('<code class="nowrap">after</code>'), 'oldest first');
  t.ok(html.includes('<a href="../runs/after/report.html"><code class="nowrap">after</code></a>'), 'a run with a report.html is linked, relative to the page');
  t.notOk(html.includes('../runs/before/report.html'), 'one without is not');
  for (const id of ['spm.cpuset.mems_sysram_file', 'spm.cpuset.mems']) t.ok(html.includes(`<code>${id}</code>`), `${id} in the grid`);

  await t.rejects(reportCommand(['--html', out, before], capture().io), { code: 'USAGE', message: /--html makes a page over two results dirs or more \(got 1\)/, hint: /RESULTS_DIR\/report\.html/ });
  await t.rejects(reportCommand(['--html', out, before, after, '--tap'], capture().io), { code: 'USAGE', message: /--html writes a page and takes no --tap/ });
  await t.rejects(reportCommand(['--html', '', before, after], capture().io), { code: 'USAGE', message: /--html needs the file to write/ });
  await t.rejects(reportCommand(['--html', out, before, join(root, 'nope')], capture().io), { code: 'RESULTS_MISSING' });
});

t.test('40 --table honours NO_COLOR over FORCE_COLOR and a terminal', async (t) => {
  const dir = writeResultsDir(join(scratch(t), 'run'), failing());
  const run = async (env: Record<string, string>, tty: boolean): Promise<string> => {
    const c = capture(env, tty);
    await reportCommand([dir, '--table'], c.io);
    return c.stdout;
  };
  t.match(await run({}, true), /\u001b\[31m/, 'colour on a terminal');
  t.match(await run({ FORCE_COLOR: '1' }, false), /\u001b\[/, 'FORCE_COLOR colours a pipe');
  t.notMatch(await run({}, false), /\u001b\[/, 'no colour into a pipe');
  t.notMatch(await run({ NO_COLOR: '1' }, true), /\u001b\[/, 'NO_COLOR wins over a terminal');
  t.notMatch(await run({ NO_COLOR: '1', FORCE_COLOR: '1' }, true), /\u001b\[/, 'NO_COLOR wins over FORCE_COLOR');
});

t.test('50 bad input: a dir without summary.json, a non-summary, two formats', async (t) => {
  const root = scratch(t);
  await t.rejects(reportCommand([join(root, 'nope')], capture().io), { code: 'RESULTS_MISSING', exitCode: 2, message: new RegExp(`${join(root, 'nope')} is not a results dir`) });
  await t.rejects(reportCommand([root], capture().io), { code: 'RESULTS_MISSING', message: new RegExp(`${join(root, 'summary.json')} cannot be read`) });
  writeFileSync(join(root, 'summary.json'), '{"hello": 1}');
  await t.rejects(reportCommand([root], capture().io), { code: 'RESULTS_CORRUPT' });
  writeFileSync(join(root, 'summary.json'), '{"hello": ');
  await t.rejects(reportCommand([root], capture().io), { code: 'RESULTS_CORRUPT', message: /not valid JSON/ });
  const dir = writeResultsDir(join(root, 'run'), summary());
  await t.rejects(reportCommand([dir, '--tap', '--junit'], capture().io), { code: 'USAGE', message: /choose one output format/ });
  await t.rejects(reportCommand([dir, dir], capture().io), { code: 'USAGE' });
});

t.test('60 the command table registers report, compare, nightly, matrix and merge with help', async (t) => {
  const table = reportCommands(() => {});
  t.same(Object.keys(table).sort(), ['compare', 'matrix', 'merge', 'nightly', 'report']);
  for (const [name, c] of Object.entries(table)) t.match(c.help, new RegExp(`^cxl-harness ${name} `), `${name} help starts with its usage`);
});

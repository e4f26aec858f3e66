import t, { type Test } from 'tap';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { junitTimestamp, toJUnit, xmlEscape, xmlSafe } from '../../src/report/junit.js';
import { check, finding, summary } from '../fixtures/report/summaries.js';

type Node = Record<string, unknown>;
const asArray = (v: unknown): Node[] => (v === undefined ? [] : Array.isArray(v) ? (v as Node[]) : [v as Node]);

function parse(xml: string): Node {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`not well-formed XML: ${JSON.stringify(valid.err)}`);
  return new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    parseAttributeValue: false,
    parseTagValue: false,
    trimValues: false,
    processEntities: true,
    htmlEntities: true, // decodes numeric references such as &#10;
    alwaysCreateTextNode: false,
    isArray: (name) => ['testsuite', 'testcase', 'property', 'failure', 'error', 'skipped', 'system-out'].includes(name),
  }).parse(xml) as Node;
}

/**
 * The rules of the JUnit structure Jenkins' junit plugin (and GitLab, GitHub reporters) accept,
 * after the Ant/Jenkins XSD: required attributes, counts that add up, child order, at most one outcome element.
 */
function assertJenkinsStructure(t: Test, doc: Node): void {
  const root = doc.testsuites as Node;
  t.ok(root, 'root element is <testsuites>');
  const suites = asArray(root.testsuite);
  let total = 0;
  let failures = 0;
  let errors = 0;
  let skipped = 0;
  for (const s of suites) {
    for (const a of ['@name', '@tests', '@failures', '@errors', '@skipped', '@time', '@timestamp', '@hostname', '@id', '@package']) {
      t.ok(s[a] !== undefined, `testsuite ${String(s['@name'])} has ${a}`);
    }
    t.match(s['@timestamp'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/, 'timestamp without fraction or zone');
    const cases = asArray(s.testcase);
    t.equal(Number(s['@tests']), cases.length, 'tests counts the testcases');
    let f = 0;
    let e = 0;
    let sk = 0;
    for (const c of cases) {
      t.ok(c['@name'] && c['@classname'] && c['@time'] !== undefined, 'testcase has name, classname, time');
      t.match(c['@time'], /^\d+\.\d{3}$/);
      const outcomes = asArray(c.failure).length + asArray(c.error).length + asArray(c.skipped).length;
      t.ok(outcomes <= 1, 'at most one of failure/error/skipped');
      for (const x of [...asArray(c.failure), ...asArray(c.error)]) {
        t.ok(x['@message'] !== undefined && x['@type'] !== undefined, 'failure/error has message and type');
      }
      f += asArray(c.failure).length;
      e += asArray(c.error).length;
      sk += asArray(c.skipped).length;
    }
    t.same([Number(s['@failures']), Number(s['@errors']), Number(s['@skipped'])], [f, e, sk], 'suite counts add up');
    total += cases.length;
    failures += f;
    errors += e;
    skipped += sk;
  }
  t.same(
    [Number(root['@tests']), Number(root['@failures']), Number(root['@errors']), Number(root['@skipped'])],
    [total, failures, errors, skipped],
    'testsuites counts add up',
  );
}

/** Child element order inside each testcase: skipped/error/failure before system-out (XSD sequence). */
function assertChildOrder(t: Test, xml: string): void {
  for (const m of xml.matchAll(/<testcase[^>]*[^/]>([\s\S]*?)<\/testcase>/g)) {
    const tags = [...(m[1] ?? '').matchAll(/<(skipped|error|failure|system-out|system-err)\b/g)].map((x) => x[1]);
    const outIdx = tags.indexOf('system-out');
    if (outIdx !== -1) t.ok(tags.slice(outIdx).every((x) => x === 'system-out' || x === 'system-err'), `order ${tags.join(',')}`);
  }
  t.match(xml, /<testsuite [^>]*>\n {4}<properties>/, 'properties come first in a testsuite');
}

t.test('10 a mixed run: suites, cases, counts, failure/error/skipped and evidence in system-out', async (t) => {
  const s = summary({
    outcome: 'fail',
    exitCode: 1,
    checks: [
      check('spm.a', 'pass', { durationMs: 1234 }),
      check('spm.b', 'fail', { expected: { node: 2 }, observed: 'N_MEMORY' }),
      check('cxl.c', 'skip'),
      check('cxl.d', 'error'),
    ],
  });
  const xml = toJUnit(s);
  t.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites /);
  const doc = parse(xml);
  assertJenkinsStructure(t, doc);
  assertChildOrder(t, xml);
  const suites = asArray((doc.testsuites as Node).testsuite);
  t.same(suites.map((x) => [x['@name'], x['@tests'], x['@failures'], x['@errors'], x['@skipped']]), [
    ['spm', '2', '1', '0', '0'],
    ['cxl', '2', '0', '1', '1'],
    ['console', '1', '0', '0', '0'],
  ]);
  const spm = asArray(suites[0]?.testcase);
  t.same([spm[0]?.['@name'], spm[0]?.['@classname'], spm[0]?.['@time']], ['spm.a', 'cxl-harness.spm', '1.234']);
  const failure = asArray(spm[1]?.failure)[0];
  t.equal(failure?.['@message'], 'value differs');
  t.equal(failure?.['@type'], 'check-failed');
  t.equal(failure?.['#text'], 'reason: value differs\nexpected: {"node":2}\nobserved: "N_MEMORY"');
  t.same(spm[1]?.['system-out'], ['evidence: checks/spm.b.txt']);
  const cxl = asArray(suites[1]?.testcase);
  t.equal(asArray(cxl[0]?.skipped)[0]?.['@message'], 'not applicable on this kernel');
  t.equal(asArray(cxl[1]?.error)[0]?.['@type'], 'check-error');
  const props = asArray((suites[0]?.properties as Node).property).map((p) => [p['@name'], p['@value']]);
  t.same(props.slice(0, 4), [
    ['run.id', '20240501T120000Z-abc123'],
    ['run.outcome', 'fail'],
    ['run.exit_code', '1'],
    ['kernel.origin', 'source'],
  ]);
});

t.test('20 hostile text is escaped and characters XML forbids are replaced', async (t) => {
  t.equal(xmlEscape(`<a href="x">&'</a>`), '&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;');
  t.equal(xmlSafe('ok\u0000\u001b[31mred\uFFFE\uD800end\t\n'), 'ok\uFFFD\uFFFD[31mred\uFFFD\uFFFDend\t\n');
  t.equal(xmlSafe('emoji \u{1F600} stays'), 'emoji \u{1F600} stays');
  const nasty = 'a]]><b>&amp; "q" \u0007bell\nsecond line';
  const s = summary({
    checks: [check('spm.x<y>', 'fail', { title: nasty, reason: nasty, observed: nasty })],
    findings: [finding('kasan', 'BUG: KASAN: use-after-free in f<x>+0x1/0x2', { lines: ['\u001b[0mBUG: KASAN: <x> & y'] })],
  });
  const xml = toJUnit(s);
  const doc = parse(xml);
  assertJenkinsStructure(t, doc);
  const c = asArray(asArray((doc.testsuites as Node).testsuite)[0]?.testcase)[0];
  t.equal(c?.['@name'], 'spm.x<y>');
  t.equal(asArray(c?.failure)[0]?.['@message'], 'a]]><b>&amp; "q" \uFFFDbell\nsecond line', 'newline kept in attribute');
  const k = asArray(asArray((doc.testsuites as Node).testsuite)[1]?.testcase)[0];
  t.equal(asArray(k?.failure)[0]?.['@type'], 'console.kasan');
  t.match(asArray(k?.failure)[0]?.['#text'], /\uFFFD\[0mBUG: KASAN: <x> & y$/);
});

t.test('30 an aborted run gets a run suite with an error case; timestamps follow the schema', async (t) => {
  const s = summary({
    outcome: 'infrastructure-error',
    exitCode: 2,
    error: { code: 'QEMU_EXITED', message: 'qemu-system-x86_64 exited with status 1' },
    steps: [{ name: 'boot', startedAt: '2024-05-01T12:00:01.000Z', status: 'failed', log: 'steps/boot.log' }],
    checks: [],
  });
  const xml = toJUnit(s);
  const doc = parse(xml);
  assertJenkinsStructure(t, doc);
  const suites = asArray((doc.testsuites as Node).testsuite);
  t.same(suites.map((x) => x['@name']), ['console', 'run']);
  const run = asArray(suites[1]?.testcase)[0];
  t.same([run?.['@name'], asArray(run?.error)[0]?.['@type'], asArray(run?.error)[0]?.['@message']], [
    'run.outcome',
    'run-aborted',
    'QEMU_EXITED: qemu-system-x86_64 exited with status 1',
  ]);
  t.same(run?.['system-out'], ['evidence: steps/boot.log']);
  t.equal(junitTimestamp('2024-05-01T14:00:00.123+02:00'), '2024-05-01T12:00:00');
  t.equal(junitTimestamp('not a date'), '1970-01-01T00:00:00');
});

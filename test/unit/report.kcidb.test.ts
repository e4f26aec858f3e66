import t, { type Test } from 'tap';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { kcidbTestPath, patchsetHash, toKcidb, type KcidbData } from '../../src/report/kcidb.js';
import type { RunSummary } from '../../src/report/model.js';
import { check, finding, summary } from '../fixtures/report/summaries.js';

const here = (p: string): URL => new URL(`../fixtures/report/${p}`, import.meta.url);
const schema = JSON.parse(readFileSync(here('kcidb-v5.0.schema.json'), 'utf8')) as object;
// ajv-formats is CommonJS; under ESM its function may sit on .default.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv2020) => Ajv2020;
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const validate = ajv.compile(schema);

function assertValid(t: Test, data: KcidbData): void {
  const ok = validate(data);
  t.equal(ok, true, ok ? 'valid against KCIDB v5.0' : JSON.stringify(validate.errors, null, 1));
}

t.test('10 patchset_hash follows KCIDB: sha256 over newline-terminated patch sha256s, empty without patches', async (t) => {
  // Reference value from the schema's own recipe, run over the fixture patches:
  //   sha256sum *.patch | cut -c-64 | sha256sum | cut -c-64
  const files = ['0001-mm-add-spm-node-state.patch', '0002-cxl-online-spm-regions.patch'];
  const sums = files.map((f) => createHash('sha256').update(readFileSync(here(`patches/${f}`))).digest('hex'));
  t.same(sums, [
    'c7c53a91406be90a5864d7255424bb3875ad7f3c7bb4f70a4cb4a244d0f1c007',
    '6a6198dd83f48288f02f79ceec26c97ac36fc02261adc87a0912bf60f7ac70d6',
  ]);
  t.equal(patchsetHash(sums), 'af39c3b3a0ba1a5473811718612e567971edb5c0f1bb8eb3ab63cb00da50a92e');
  t.equal(patchsetHash([]), '');
  t.not(patchsetHash([...sums].reverse()), patchsetHash(sums), 'order of application matters');
  t.equal(patchsetHash(sums.map((s) => s.toUpperCase())), patchsetHash(sums), 'hex case is normalized');
  t.throws(() => patchsetHash(['not-a-digest']), TypeError);
});

t.test('20 test paths: dotted ids with forbidden characters replaced', async (t) => {
  t.equal(kcidbTestPath('spm.cpuset.mems_sysram_file'), 'spm.cpuset.mems_sysram_file');
  t.equal(kcidbTestPath('spm.node 2.is/private'), 'spm.node_2.is_private');
  t.equal(kcidbTestPath('a..b'), 'a._.b');
  t.equal(kcidbTestPath(''), '');
});

t.test('30 a source-built, patched kernel: checkout, build and tests with ids, paths and statuses', async (t) => {
  const s = summary({
    outcome: 'fail',
    exitCode: 1,
    checks: [
      check('spm.a', 'pass'),
      check('spm.b', 'fail'),
      check('spm.c', 'skip'),
      check('cxl.d', 'error'),
    ],
    findings: [
      finding('warning', 'WARNING: CPU: 0 PID: 1 at mm/a.c:1 f+0x1/0x2', { step: 'spm' }),
      finding('warning', 'WARNING: CPU: 1 PID: 2 at mm/b.c:2 g+0x1/0x2', { expected: true }),
      finding('oom', 'x invoked oom-killer: gfp_mask=0x0'),
    ],
  });
  const data = toKcidb(s, { artifactsBaseUrl: 'https://ci.example.org/runs/42/', architecture: 'x86_64' });
  assertValid(t, data);
  t.same(data.version, { major: 5, minor: 0 });
  const [checkout] = data.checkouts;
  t.equal(checkout?.id, 'cxl_harness:20240501T120000Z-abc123');
  t.equal(checkout?.origin, 'cxl_harness');
  t.equal(checkout?.git_commit_hash, 'e8f897f4afef0031fe618a8e94127a0934896aba');
  t.equal(checkout?.patchset_hash, patchsetHash(['a'.repeat(64), 'b'.repeat(64)]));
  t.equal(data.builds[0]?.checkout_id, checkout?.id);
  t.equal(data.builds[0]?.architecture, 'x86_64');
  t.same(
    data.tests.map((x) => [x.id, x.path, x.status]),
    [
      ['cxl_harness:20240501T120000Z-abc123:', '', 'FAIL'],
      ['cxl_harness:20240501T120000Z-abc123:spm.a', 'spm.a', 'PASS'],
      ['cxl_harness:20240501T120000Z-abc123:spm.b', 'spm.b', 'FAIL'],
      ['cxl_harness:20240501T120000Z-abc123:spm.c', 'spm.c', 'SKIP'],
      ['cxl_harness:20240501T120000Z-abc123:cxl.d', 'cxl.d', 'ERROR'],
      ['cxl_harness:20240501T120000Z-abc123:console.warning.1', 'console.warning.1', 'FAIL'],
      ['cxl_harness:20240501T120000Z-abc123:console.warning.2', 'console.warning.2', 'PASS'],
      ['cxl_harness:20240501T120000Z-abc123:console.oom.1', 'console.oom.1', 'DONE'],
    ],
  );
  t.ok(data.tests.every((x) => x.build_id === data.builds[0]?.id));
  t.equal(data.tests[0]?.duration, 330.5, 'root test lasts the run');
  const a = data.tests[1];
  t.same(a?.output_files, [{ name: 'spm.a.txt', url: 'https://ci.example.org/runs/42/checks/spm.a.txt' }]);
  t.equal(a?.duration, 0.1);
  const w = data.tests[5];
  t.equal(w?.log_excerpt, 'WARNING: CPU: 0 PID: 1 at mm/a.c:1 f+0x1/0x2\n </TASK>');
  t.same(w?.output_files, [{ name: 'console.log', url: 'https://ci.example.org/runs/42/console.log' }]);
  t.same((w?.misc as Record<string, unknown>).step, 'spm');
});

t.test('40 run outcomes map to the root test status; harness failures are MISS', async (t) => {
  const status = (extra: Partial<RunSummary>) => toKcidb(summary(extra)).tests[0]?.status;
  t.equal(status({ outcome: 'pass' }), 'PASS');
  t.equal(status({ outcome: 'kernel-crash' }), 'FAIL');
  t.equal(status({ outcome: 'hang' }), 'ERROR');
  t.equal(status({ outcome: 'infrastructure-error' }), 'MISS');
  t.equal(status({ outcome: 'interrupted' }), 'MISS');
  const crashed = toKcidb(summary({ outcome: 'kernel-crash', error: { code: 'KERNEL_PANIC', message: 'panic in boot' } }));
  assertValid(t, crashed);
  t.notOk(crashed.tests.some((x) => x.path.startsWith('run')), 'the run outcome lives in the root test only');
  t.equal(crashed.tests[0]?.comment, 'kernel-crash: panic in boot');
});

t.test('50 distro kernels have no commit and no claimed patchset; nothing null or undefined is emitted', async (t) => {
  const s = summary({ kernel: { origin: 'distro', release: '6.8.0-31-generic', package: 'linux-image-6.8.0-31-generic' } });
  const data = toKcidb(s);
  assertValid(t, data);
  const c = data.checkouts[0];
  t.equal(c?.git_commit_hash, undefined);
  t.notOk(c && 'patchset_hash' in c, 'unknown patchset is omitted, not claimed empty');
  t.equal(c?.comment, 'linux-image-6.8.0-31-generic');
  const json = JSON.stringify(data);
  t.notMatch(json, /null/);
  t.equal(JSON.stringify(JSON.parse(json)), json, 'round-trips');
  const unpatched = toKcidb(summary({ kernel: { origin: 'source', gitCommit: 'x'.repeat(40) } }));
  assertValid(t, unpatched);
  t.equal(unpatched.checkouts[0]?.patchset_hash, '', 'a source kernel without patches has the empty patchset hash');
  t.equal(unpatched.checkouts[0]?.git_commit_hash, undefined, 'a malformed commit is dropped, not sent');
});

t.test('60 long console reports are cut to the schema limit and bad origins are refused', async (t) => {
  const long = Array.from({ length: 2000 }, (_, i) => ` frame_${i}+0x10/0x20`);
  const data = toKcidb(summary({ findings: [finding('kasan', 'BUG: KASAN: x', { lines: long })] }));
  assertValid(t, data);
  const k = data.tests.find((x) => x.path === 'console.kasan.1');
  t.equal(k?.log_excerpt?.length, 16384);
  t.match(k?.log_excerpt, /\[\.\.\. truncated\]$/);
  t.throws(() => toKcidb(summary(), { origin: 'CXL-Harness' }), /origin must match/);
});

t.test('70 the schema fixture itself rejects what KCIDB rejects', async (t) => {
  const good = toKcidb(summary());
  t.equal(validate({ ...good, tests: [{ ...good.tests[0], path: 'a b' }] }), false, 'space in a path');
  t.equal(validate({ ...good, tests: [{ ...good.tests[0], status: 'OK' }] }), false, 'unknown status');
  t.equal(validate({ ...good, checkouts: [{ ...good.checkouts[0], id: 'no-origin' }] }), false, 'id without origin:');
  t.equal(validate({ ...good, checkouts: [{ ...good.checkouts[0], patchset_hash: 'abc' }] }), false, 'short hash');
  t.equal(validate({ ...good, builds: [{ ...good.builds[0], comment: null }] }), false, 'null property');
  t.equal(validate({ ...good, version: { major: 4 } }), false, 'wrong major');
});

import t from 'tap';
import { Parser, type FinalResults, type Result } from 'tap-parser';
import { tapDescription, toTap } from '../../src/report/tap.js';
import { check, finding, summary } from '../fixtures/report/summaries.js';

interface Parsed {
  final: FinalResults;
  /** Every test point, subtests included, as [depth, ok, name, skip reason or false, diag]. */
  points: { depth: number; ok: boolean; name: string; skip: string | boolean; diag: Record<string, unknown> | null }[];
  extra: string[];
}

/** Parse with a real TAP parser in strict mode, collecting nested test points and any line it could not read. */
function parse(tap: string): Promise<Parsed> {
  return new Promise((resolve) => {
    const points: Parsed['points'] = [];
    const extra: string[] = [];
    const watch = (p: Parser, depth: number): void => {
      p.on('assert', (r: Result) =>
        points.push({ depth, ok: r.ok, name: r.name, skip: r.skip, diag: (r.diag as Record<string, unknown>) ?? null }),
      );
      p.on('extra', (line: string) => extra.push(line));
      p.on('child', (c: Parser) => watch(c, depth + 1));
    };
    const parser = new Parser({ strict: true }, (final) => resolve({ final, points, extra }));
    watch(parser, 0);
    parser.end(tap);
  });
}

t.test('10 a passing run is valid TAP 14 with one subtest per suite and the console subtest', async (t) => {
  const tap = toTap(summary());
  t.match(tap, /^TAP version 14\n/);
  const { final, points, extra } = await parse(tap);
  t.same(extra, [], 'every line is TAP');
  t.equal(final.ok, true);
  t.same(final.plan.end, 3);
  t.same(
    points.filter((p) => p.depth === 0).map((p) => [p.name, p.ok]),
    [
      ['spm', true],
      ['cxl', true],
      ['console', true],
    ],
  );
  t.same(
    points.filter((p) => p.depth === 1).map((p) => p.name),
    [
      'spm.cpuset.mems_sysram_file - spm.cpuset.mems_sysram_file holds',
      'spm.node.private - spm.node.private holds',
      'cxl.region.online - cxl.region.online holds',
      'console.clean - the kernel console shows no panic, oops, BUG, WARNING, sanitizer report, lockup or stall',
    ],
  );
});

t.test('20 failures and errors carry YAML diagnostics; skips carry their reason', async (t) => {
  const s = summary({
    outcome: 'fail',
    exitCode: 1,
    checks: [
      check('spm.a', 'pass'),
      check('spm.b', 'fail', { expected: { node: 2, flags: ['N_SPM'] }, observed: 'N_MEMORY: "yes"' }),
      check('spm.c', 'skip', { reason: 'needs CONFIG_SPM # not set' }),
      check('spm.d', 'error'),
    ],
  });
  const tap = toTap(s);
  const { final, points, extra } = await parse(tap);
  t.same(extra, []);
  t.equal(final.ok, false);
  const b = points.find((p) => p.name.startsWith('spm.b'));
  t.equal(b?.ok, false);
  t.same(b?.diag, {
    message: 'value differs',
    severity: 'fail',
    expected: { node: 2, flags: ['N_SPM'] },
    observed: 'N_MEMORY: "yes"',
    evidence: ['checks/spm.b.txt'],
  });
  const c = points.find((p) => p.name.startsWith('spm.c'));
  t.same([c?.ok, c?.skip], [true, 'needs CONFIG_SPM # not set']);
  const d = points.find((p) => p.name.startsWith('spm.d'));
  t.same(d?.diag, { message: 'precondition not met: region0 online', severity: 'error', evidence: [] });
  t.match(tap, /^ {4}not ok 2 - spm\.b - spm\.b holds$/m, 'a script can grep the id');
  t.match(tap, /^ {4}ok 3 - spm\.c - spm\.c holds # SKIP needs CONFIG_SPM # not set$/m);
  t.match(tap, /^not ok 1 - spm$/m);
});

t.test('30 console findings are test points with the report lines; an abnormal run adds run.outcome', async (t) => {
  const s = summary({
    outcome: 'kernel-crash',
    exitCode: 3,
    error: { code: 'KERNEL_PANIC', message: 'the guest kernel panicked during step spm' },
    findings: [
      finding('warning', 'WARNING: CPU: 0 PID: 1 at mm/a.c:1 f+0x1/0x2', { step: 'spm', expected: true }),
      finding('panic', 'Kernel panic - not syncing: Fatal exception', { step: 'spm', line: 99 }),
    ],
  });
  const { points, extra, final } = await parse(toTap(s));
  t.same(extra, []);
  t.equal(final.ok, false);
  const console = points.filter((p) => p.depth === 1 && p.name.startsWith('console.'));
  t.same(console.map((p) => [p.name.split(' - ')[0], p.ok]), [
    ['console.warning.1', true],
    ['console.panic.1', false],
  ]);
  t.same(console[1]?.diag, {
    message: 'panic at console.log:99 during step spm',
    severity: 'fail',
    evidence: ['console.log:99'],
    kind: 'panic',
    line: 99,
    step: 'spm',
    report: ['Kernel panic - not syncing: Fatal exception', ' </TASK>'],
  });
  const run = points.find((p) => p.name.startsWith('run.outcome'));
  t.equal(run?.ok, false);
  t.same(run?.diag?.observed, 'kernel-crash');
  t.same(run?.diag?.message, 'KERNEL_PANIC: the guest kernel panicked during step spm');
});

t.test('40 descriptions stay on one line and cannot smuggle a directive', async (t) => {
  t.equal(tapDescription('a # SKIP b\nc \\ d'), 'a \\# SKIP b c \\\\ d');
  const s = summary({ checks: [check('spm.x', 'fail', { title: 'looks # TODO fine\nreally' })] });
  const { points, extra } = await parse(toTap(s));
  t.same(extra, []);
  const x = points.find((p) => p.name.startsWith('spm.x'));
  t.same([x?.ok, x?.skip], [false, false]);
  t.equal(x?.name, 'spm.x - looks # TODO fine really');
});

t.test('50 a suite whose checks all skipped is itself skipped', async (t) => {
  const s = summary({ checks: [check('zswap.a', 'skip'), check('zswap.b', 'skip')] });
  const tap = toTap(s);
  t.match(tap, /^ok 1 - zswap # SKIP every check skipped$/m);
  const { final, extra } = await parse(tap);
  t.same(extra, []);
  t.equal(final.ok, true);
});

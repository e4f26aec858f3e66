/**
 * Green means judged: the run of the v3 kernel before the suite knew v3 (recorded at 63982a5:
 * misdetected as v4, 27 rows skipped "without expectations", spm.generation and
 * spm.sysfs.private_node_files passed) came out PASS, exit 0. The rows that only identify the
 * kernel now count as bookkeeping, so the same verdicts settle as skip, exit 4.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import type { CheckResult } from '../../src/report/model.js';
import { outcomeOf } from '../../src/report/verdict.js';
import { ROWS } from '../../src/suites/spm/rows.js';

const before = JSON.parse(readFileSync(new URL('../fixtures/spm/v3-before-generations-summary.json', import.meta.url), 'utf8')) as { outcome: string; exitCode: number; checks: CheckResult[] };

t.test('the recorded run was green with nothing judged', async (t) => {
  t.same([before.outcome, before.exitCode], ['pass', 0]);
  t.same(before.checks.filter((c) => c.verdict === 'pass').map((c) => c.id), ['spm.generation', 'spm.sysfs.private_node_files']);
  t.equal(before.checks.filter((c) => c.verdict === 'skip').length, 27);
});

t.test('with the rows that identify the kernel informational, the same verdicts are skip', async (t) => {
  const identifying = new Set(Object.values(ROWS).filter((r) => r.identifies).map((r) => r.id));
  t.ok(identifying.has('spm.sysfs.private_node_files') && identifying.has('spm.proc.status_lines'), 'the private-node files and the status lines identify the kernel');
  const checks = before.checks.map((c) => (identifying.has(c.id) ? { ...c, informational: true } : c));
  t.equal(outcomeOf({ outcome: 'pass', checks, findings: [] }), 'skip', 'skip: nothing judged (exit 4)');
  const judgedOne = checks.map((c) => (c.id === 'spm.cpuset.mems_sysram_file' ? { ...c, verdict: 'pass' as const, evidence: ['commands/0004-cat.txt'] } : c));
  t.equal(outcomeOf({ outcome: 'pass', checks: judgedOne, findings: [] }), 'pass', 'one row that judges behaviour makes it green again');
});

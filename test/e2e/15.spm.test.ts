/**
 * The main job, for real: `cxl-harness run` with no options is the SPM suite on spm-pair with
 * Debian's kernel. On this stock kernel every row must come out with the stock column's
 * verdict: pass, or skip with the reason (rows that only exist on SPM kernels).
 */
import t from 'tap';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunSummary } from '../../src/report/model.js';
import { ROWS } from '../../src/suites/spm/expectations.js';
import { qemuProcesses, readJson, runCli } from '../lib/cli.js';

const dir = join(mkdtempSync(join(tmpdir(), 'cxlh-e2e-')), 'spm');

t.test('cxl-harness run (default: SPM suite) on the stock Debian kernel', async (t) => {
  const r = await runCli(['run', '--results', dir]);
  t.comment(r.stderr.split('\n').filter((l) => /PASS|FAIL|ERROR|SKIP|NOTE|generation|guest up/.test(l)).join('\n'));
  t.equal(r.exitCode, 0, 'exit 0: every check passed or was skipped');

  const summary = readJson<RunSummary>(join(dir, 'summary.json'));
  t.equal(summary.suite, 'spm');
  t.equal(summary.topology?.name, 'spm-pair', 'the suite brings its own topology');
  t.equal(summary.generation?.name, 'stock', 'Debian 7.2 has none of the SPM interfaces');
  t.match(summary.generation?.evidence.join('\n') ?? '', /cpuset\.mems\.sysram absent/);

  const byId = new Map(summary.checks.map((c) => [c.id, c]));
  for (const row of Object.values(ROWS)) {
    const check = byId.get(row.id);
    t.ok(check, `${row.id} ran`);
    if (!check) continue;
    if ('notApplicable' in row && row.notApplicable?.stock) {
      t.equal(check.verdict, 'skip', `${row.id} skips on stock`);
      t.equal(check.reason, row.notApplicable.stock, `${row.id} says why`);
    } else {
      t.equal(check.verdict, 'pass', `${row.id} passes: ${check.reason ?? ''}`);
      t.ok(check.evidence.length > 0, `${row.id} has evidence`);
    }
  }
  t.equal(byId.get('spm.generation')?.verdict, 'pass');

  const tap = readFileSync(join(dir, 'results.tap'), 'utf8');
  for (const row of Object.values(ROWS)) t.match(tap, new RegExp(`- ${row.id.replace(/\./g, '\\.')} - `), `TAP names ${row.id}`);
  t.match(tap, /# SKIP spm_node does not exist on unpatched kernels/, 'skips carry their reason in TAP');
  t.same(qemuProcesses(dir), [], 'no QEMU process outlives the run');
});

import t from 'tap';
import {
  checkFromAttempt,
  checkFromPrecondition,
  countVerdicts,
  enforceEvidence,
  exitCodeFor,
  outcomeOf,
  settleSummary,
} from '../../src/report/verdict.js';
import { check, finding, summary } from '../fixtures/report/summaries.js';

t.test('10 a check passes only with an assertion that held and evidence', async (t) => {
  const base = { id: 'spm.a', title: 'a', durationMs: 5, evidence: ['checks/a.txt'] };
  t.equal(checkFromAttempt({ ...base, passed: true }).verdict, 'pass');
  const noEvidence = checkFromAttempt({ ...base, evidence: [], passed: true });
  t.equal(noEvidence.verdict, 'error');
  t.equal(noEvidence.reason, 'no evidence recorded for a pass');
  const noAssertion = checkFromAttempt({ ...base });
  t.equal(noAssertion.verdict, 'error');
  t.equal(noAssertion.reason, 'the check made no assertion');
  const failed = checkFromAttempt({ ...base, passed: false, expected: 'N_SPM', observed: 'N_MEMORY' });
  t.same(
    [failed.verdict, failed.reason, failed.expected, failed.observed],
    ['fail', 'assertion failed', 'N_SPM', 'N_MEMORY'],
  );
});

t.test('20 an unmet precondition is error, never pass and never fail', async (t) => {
  const base = { id: 'spm.a', title: 'a', durationMs: 5, evidence: ['checks/a.txt'] };
  const r = checkFromAttempt({
    ...base,
    passed: true,
    preconditions: [
      { name: 'region0 online', met: true },
      { name: 'node 2 exists', met: false, detail: '/sys/devices/system/node/node2 missing' },
    ],
  });
  t.equal(r.verdict, 'error');
  t.equal(r.reason, 'precondition not met: node 2 exists (/sys/devices/system/node/node2 missing)');
  t.equal(checkFromAttempt({ ...base, passed: false, preconditions: [{ name: 'x', met: false }] }).verdict, 'error');

  const p = checkFromPrecondition({ id: 'cxl.b', title: 'b' }, { name: 'cxl CLI present' });
  t.same([p.verdict, p.reason, p.durationMs, p.evidence], ['error', 'precondition not met: cxl CLI present', 0, []]);
});

t.test('30 a skip wins over everything and always carries a reason', async (t) => {
  const r = checkFromAttempt({ id: 'a.b', title: 'b', durationMs: 0, evidence: [], skip: 'needs kernel >= 6.9', passed: false });
  t.same([r.verdict, r.reason], ['skip', 'needs kernel >= 6.9']);
  t.equal(checkFromAttempt({ id: 'a.b', title: 'b', durationMs: 0, evidence: [], skip: ' ' }).reason, 'skipped without a reason');
  t.equal(enforceEvidence(check('a.c', 'skip', { reason: '' })).reason, 'skipped without a reason');
  t.equal(enforceEvidence(check('a.d', 'pass', { evidence: [] })).verdict, 'error');
  const fail = check('a.e', 'fail');
  t.equal(enforceEvidence(fail), fail, 'other checks are returned untouched');
});

t.test('40 the run outcome from checks and findings', async (t) => {
  t.equal(outcomeOf(summary()), 'pass');
  t.equal(outcomeOf(summary({ checks: [check('a.a', 'pass'), check('a.b', 'skip')] })), 'pass');
  t.equal(outcomeOf(summary({ checks: [check('a.a', 'pass'), check('a.b', 'fail')] })), 'fail');
  t.equal(outcomeOf(summary({ checks: [check('a.b', 'error')] })), 'fail');
  t.equal(outcomeOf(summary({ checks: [check('a.a', 'pass', { evidence: [] })] })), 'fail', 'a pass without evidence fails the run');
  t.equal(outcomeOf(summary({ findings: [finding('warning', 'WARNING: CPU: 0 PID: 1 at a.c:1 f')] })), 'fail');
  t.equal(outcomeOf(summary({ findings: [finding('warning', 'W', { expected: true })] })), 'pass');
  t.equal(outcomeOf(summary({ findings: [finding('panic', 'Kernel panic - not syncing: x')] })), 'kernel-crash');
  t.equal(outcomeOf(summary({ findings: [finding('oom', 'x invoked oom-killer:')] })), 'pass', 'OOM is informational');
  t.equal(outcomeOf(summary({ findings: [finding('oom', 'x invoked oom-killer:')] }), { oomFails: true }), 'fail');
});

t.test('45 nothing judged is skip, not pass: only informational checks passed, the rest skipped', async (t) => {
  const generation = check('spm.generation', 'pass', { informational: true });
  const skipped = check('spm.mempolicy.bind_spm', 'skip', { reason: 'no expectation encoded for generation private-v4' });
  t.equal(outcomeOf(summary({ checks: [generation, skipped] })), 'skip', 'a generation without expectations is not green');
  t.equal(outcomeOf(summary({ checks: [check('hotplug.online', 'skip', { reason: 'kernel has no CXL volatile (ram) regions' })] })), 'skip');
  t.equal(outcomeOf(summary({ checks: [generation, skipped, check('spm.proc.status_lines', 'pass')] })), 'pass', 'one judged pass is enough');
  t.equal(outcomeOf(summary({ checks: [generation, skipped, check('spm.x', 'fail')] })), 'fail', 'a failure stays a failure');
  t.equal(outcomeOf(summary({ checks: [generation], findings: [finding('warning', 'WARNING: CPU: 0 PID: 1 at a.c:1 f')] })), 'fail', 'a console finding still fails it');
  t.equal(exitCodeFor('skip'), 4, 'kselftest\'s KSFT_SKIP');
  const s = settleSummary(summary({ checks: [generation, skipped], exitCode: 0 }));
  t.same([s.outcome, s.exitCode], ['skip', 4]);
});

t.test('50 an abnormal outcome set by the runner is kept', async (t) => {
  for (const outcome of ['kernel-crash', 'hang', 'infrastructure-error', 'interrupted'] as const) {
    t.equal(outcomeOf(summary({ outcome, checks: [check('a.a', 'pass')] })), outcome);
  }
  t.equal(outcomeOf(summary({ outcome: 'fail' })), 'pass', 'pass/fail are recomputed, not trusted');
});

t.test('60 exit codes: 0 pass, 1 fail, 2 infrastructure or hang, 3 crash, 130/143 interrupted', async (t) => {
  t.equal(exitCodeFor('pass'), 0);
  t.equal(exitCodeFor('fail'), 1);
  t.equal(exitCodeFor('infrastructure-error'), 2);
  t.equal(exitCodeFor('hang'), 2);
  t.equal(exitCodeFor('kernel-crash'), 3);
  t.equal(exitCodeFor('interrupted'), 130);
  t.equal(exitCodeFor('interrupted', 'SIGINT'), 130);
  t.equal(exitCodeFor('interrupted', 'SIGTERM'), 143);
});

t.test('70 settleSummary normalizes checks and recomputes outcome and exit code', async (t) => {
  const s = settleSummary(summary({ checks: [check('a.a', 'pass', { evidence: [] })], exitCode: 0 }));
  t.same([s.outcome, s.exitCode, s.checks[0]?.verdict], ['fail', 1, 'error']);
  const term = settleSummary(summary({ outcome: 'interrupted', exitCode: 143 }));
  t.same([term.outcome, term.exitCode], ['interrupted', 143]);
  const int = settleSummary(summary({ outcome: 'interrupted', exitCode: 2 }));
  t.equal(int.exitCode, 130);
  t.same(countVerdicts([check('a', 'pass'), check('b', 'skip'), check('c', 'skip'), check('d', 'error')]), {
    pass: 1,
    fail: 0,
    skip: 2,
    error: 1,
  });
});

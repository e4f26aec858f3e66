import t from 'tap';
import { renderSummary, shouldColor } from '../../src/report/render.js';
import { check, finding, summary } from '../fixtures/report/summaries.js';

const failing = () =>
  summary({
    outcome: 'fail',
    exitCode: 1,
    checks: [
      check('spm.cpuset.mems_sysram_file', 'pass', { durationMs: 1234 }),
      check('spm.b', 'fail'),
      check('spm.c', 'skip'),
      check('cxl.d', 'error'),
    ],
    findings: [
      finding('warning', 'WARNING: CPU: 0 PID: 1 at mm/a.c:1 f+0x1/0x2', { step: 'spm' }),
      finding('oom', 'stress invoked oom-killer: gfp_mask=0x0', { line: 7 }),
    ],
    observations: [{ id: 'obs.slow-online', title: 'onlining took 3s', detail: '', check: 'spm.b' }],
  });

t.test('10 one line per check with verdict, id, time, reason and evidence path', async (t) => {
  const text = renderSummary(failing(), { resultsDir: 'results/run-1/' });
  const lines = text.split('\n');
  t.equal(lines[0], 'cxl-harness 0.1.0  run 20240501T120000Z-abc123');
  t.equal(lines[1], 'kernel    source 6.8.0-cxl, e8f897f4afef, 2 patches');
  t.equal(lines[2], 'topology  single-t3');
  t.ok(lines.includes('PASS     spm.cpuset.mems_sysram_file    1.2s  -> results/run-1/checks/spm.cpuset.mems_sysram_file.txt'));
  t.ok(lines.includes('FAIL     spm.b                          0.1s  value differs (expected "1", observed "0") -> results/run-1/checks/spm.b.txt'));
  t.ok(lines.includes('SKIP     spm.c                          0.1s  not applicable on this kernel'), 'a skip shows its reason');
  t.ok(lines.includes('ERROR    cxl.d                          0.1s  precondition not met: region0 online'));
  t.ok(lines.includes('FAIL     console.warning.1                 -  WARNING: CPU: 0 PID: 1 at mm/a.c:1 f+0x1/0x2 (step spm) -> results/run-1/console.log:42'));
  t.ok(lines.includes('PASS     console.oom.1                     -  stress invoked oom-killer: gfp_mask=0x0 [informational] -> results/run-1/console.log:7'));
});

t.test('20 where every log is, then the outcome with its exit code', async (t) => {
  const text = renderSummary(failing());
  t.match(text, /\nlogs\n {2}console {10}console\.log\n {2}boot {13}steps\/boot\.log {2}ok\n {2}spm {14}steps\/spm\.log {2}ok\n/);
  t.match(text, /\n1 passed, 1 failed, 1 skipped, 1 error, 1 console finding {2}-> {2}FAIL \(exit 1\)\n/);
  t.match(text, /note: obs\.slow-online: onlining took 3s \(spm\.b\)\n$/);
  t.notMatch(text, /\u001b\[/, 'no escape codes unless asked');
});

t.test('30 an aborted run shows the error, the hint and the failed step', async (t) => {
  const text = renderSummary(
    summary({
      outcome: 'infrastructure-error',
      exitCode: 2,
      error: { code: 'QEMU_EXITED', message: 'qemu-system-x86_64 exited with status 1', hint: 'Read qemu.log; is KVM available?' },
      steps: [{ name: 'boot', startedAt: '2024-05-01T12:00:01.000Z', status: 'failed', log: 'steps/boot.log', error: 'no login prompt\nafter 300s' }],
      checks: [],
    }),
  );
  t.match(text, /\n {2}boot {13}steps\/boot\.log {2}failed: no login prompt after 300s\n/);
  t.match(text, /\nQEMU_EXITED: qemu-system-x86_64 exited with status 1\n {2}-> Read qemu\.log; is KVM available\?\n/);
  t.match(text, /ERROR {4}run\.outcome/);
  t.match(text, /0 passed, 0 failed, 0 skipped, 1 error {2}-> {2}INFRASTRUCTURE-ERROR \(exit 2\)/, 'the ERROR row is counted');
  t.match(text, /PASS {5}console\.clean/, 'it booted, so its console was scanned');
});

t.test('35 a run that ended before it booted has no console row and no console log line', async (t) => {
  const text = renderSummary(
    summary({
      outcome: 'infrastructure-error',
      exitCode: 2,
      error: { code: 'APT_DOWNLOAD_FAILED', message: 'apt-get download failed' },
      steps: [{ name: 'kernel', startedAt: '2024-05-01T12:00:01.000Z', status: 'failed', error: 'apt-get download failed' }],
      checks: [],
    }),
  );
  t.notMatch(text, /console\.clean/);
  t.notMatch(text, /^ {2}console /m);
  t.match(text, /ERROR {4}run\.outcome/);
  t.match(text, /0 passed, 0 failed, 0 skipped, 1 error {2}-> {2}INFRASTRUCTURE-ERROR/);
});

t.test('40 colour only when asked, and NO_COLOR always wins', async (t) => {
  const coloured = renderSummary(failing(), { color: true });
  t.match(coloured, /\u001b\[32mPASS {3}\u001b\[0m {2}spm\.cpuset/);
  t.match(coloured, /\u001b\[31mFAIL {3}\u001b\[0m {2}spm\.b/);
  t.match(coloured, /\u001b\[33mSKIP {3}\u001b\[0m/);
  t.equal(shouldColor({}, true), true);
  t.equal(shouldColor({}, false), false);
  t.equal(shouldColor({ NO_COLOR: '1' }, true), false);
  t.equal(shouldColor({ NO_COLOR: '' }, true), true, 'an empty NO_COLOR is unset, per no-color.org');
  t.equal(shouldColor({ FORCE_COLOR: '1' }, false), true);
  t.equal(shouldColor({ FORCE_COLOR: '0' }, true), true, 'FORCE_COLOR=0 forces nothing');
  t.equal(shouldColor({ NO_COLOR: '1', FORCE_COLOR: '1' }, true), false);
});

/**
 * Faults from outside the guest, for real: QEMU killed by a signal mid-run, QEMU frozen
 * (SIGSTOP: the guest neither answers nor dies), and SIGINT / SIGTERM to the harness. The run
 * waits in the selftest-faults `wait` check (which writes selftest-armed.txt first); the test
 * then strikes. Four boots.
 */
import t, { type Test } from 'tap';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { qemuProcesses } from '../lib/cli.js';
import { qemuPid, startCli, summaryOf, verdicts, waitForFile } from '../fixtures/spine/harness.js';

const base = mkdtempSync(join(tmpdir(), 'cxlh-faults-proc-'));
const WAIT = { CXL_HARNESS_FAULT: 'wait' };

async function startWaiting(t: Test, name: string, extra: string[] = []) {
  const dir = join(base, name);
  const run = startCli(t, ['run', '--suite', 'selftest-faults', '--results', dir, '--format', 'none', ...extra], dir, WAIT);
  let ended = false;
  void run.done.then(() => { ended = true; });
  const armed = await waitForFile(join(dir, 'selftest-armed.txt'), () => ended);
  return { dir, run, armed };
}

t.test('QEMU killed by SIGKILL mid-check: infrastructure-error naming it, partial results kept, exit 2', async (t) => {
  const { dir, run, armed } = await startWaiting(t, 'killed');
  t.ok(armed, 'the run reached the wait check');
  process.kill(qemuPid(dir), 'SIGKILL');
  const r = await run.done;
  t.equal(r.exitCode, 2);
  const s = summaryOf(dir);
  t.equal(s.outcome, 'infrastructure-error');
  t.equal(s.error?.code, 'QEMU_DIED');
  t.match(s.error?.message, /^QEMU was killed by SIGKILL during check selftest\.wait, without a kernel panic on the console/);
  t.same(verdicts(s), [['selftest.alive', 'pass'], ['selftest.wait', 'error']], 'what ran before is kept; the cut check is error');
  t.match(readFileSync(join(dir, 'console.log'), 'utf8'), /cxl-harness: guest ready/, 'the console is kept');
  for (const f of ['results.tap', 'junit.xml', 'reproducer.sh', 'qemu.argv.json']) t.ok(existsSync(join(dir, f)), `${f} written`);
  t.ok(s.finishedAt, 'the summary was closed');
  t.same(qemuProcesses(dir), []);
});

t.test('QEMU frozen by SIGSTOP mid-check: named as QEMU stopped, not a kernel hang; killed, exit 2', async (t) => {
  const { dir, run, armed } = await startWaiting(t, 'frozen', ['--check-timeout', '20']);
  t.ok(armed, 'the run reached the wait check');
  const pid = qemuPid(dir);
  t.teardown(() => { try { process.kill(pid, 'SIGKILL'); } catch { /* gone, as it should be */ } });
  process.kill(pid, 'SIGSTOP');
  const r = await run.done;
  t.equal(r.exitCode, 2, 'exit 2: infrastructure');
  const s = summaryOf(dir);
  t.equal(s.outcome, 'infrastructure-error', 'the kernel is not blamed');
  t.equal(s.error?.code, 'QEMU_STOPPED');
  // Either the check watchdog fires first, or SSH keepalive drops and a new connection gets no answer.
  t.match(s.error?.message, new RegExp(`^QEMU \\(pid ${pid}\\) is stopped by a signal \\(SIGSTOP, SIGTSTP or a debugger\\), so the guest could not answer: (check selftest\\.wait did not finish within 20 s|the guest stopped answering during check selftest\\.wait)`));
  t.match(s.error?.hint, /this says nothing about the kernel/);
  t.same(verdicts(s), [['selftest.alive', 'pass'], ['selftest.wait', 'error']], 'what ran before is kept; the cut check is error');
  t.match(readFileSync(join(dir, 'console.log'), 'utf8'), /### cxl-harness step: selftest\.wait/, 'the console up to the freeze is kept');
  t.ok(s.finishedAt, 'the summary was closed');
  t.same(qemuProcesses(dir), [], 'the stopped QEMU is gone');
});

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  t.test(`${signal} to the harness: QEMU ended, results closed as interrupted, exit ${code}`, async (t) => {
    const { dir, run, armed } = await startWaiting(t, signal);
    t.ok(armed, 'the run reached the wait check');
    t.equal(qemuProcesses(dir).length, 1, 'QEMU runs');
    run.child.kill(signal);
    const r = await run.done;
    t.equal(r.exitCode, code, `exit ${code}`);
    t.match(r.stderr, new RegExp(`${signal}: stopping the guest and closing the results dir`));
    const s = summaryOf(dir);
    t.equal(s.outcome, 'interrupted');
    t.equal(s.exitCode, code);
    t.same(s.error, { code: 'INTERRUPTED', message: `interrupted by ${signal}` });
    t.same(verdicts(s), [['selftest.alive', 'pass'], ['selftest.wait', 'error']]);
    t.match(s.checks[1]!.reason, new RegExp(`interrupted by ${signal} during check selftest\\.wait`));
    t.ok(s.finishedAt, 'the summary was closed');
    t.match(readFileSync(join(dir, 'results.tap'), 'utf8'), /^TAP version 14/);
    t.same(qemuProcesses(dir), [], 'QEMU is gone');
  });
}

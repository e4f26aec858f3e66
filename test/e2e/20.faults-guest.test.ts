/**
 * Faults inside the guest, for real (Debian kernel, TCG), through `cxl-harness run` and the
 * selftest-faults suite: a kernel panic, a command that hangs, garbage from the guest agent,
 * an SSH connection dropped under a command, and a kernel without CXL. Each asserts the
 * outcome and verdicts in summary.json, the kept logs, the exit code, and that no QEMU is left.
 * Three boots.
 */
import t from 'tap';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { qemuProcesses, runCli } from '../lib/cli.js';
import { commandLog, killQemu, summaryOf, verdicts } from '../fixtures/spine/harness.js';

const base = mkdtempSync(join(tmpdir(), 'cxlh-faults-guest-'));

t.test('a guest kernel panic ends the run at once as kernel-crash, exit 3', async (t) => {
  const dir = join(base, 'panic');
  t.teardown(() => killQemu(dir));
  const r = await runCli(['run', '--suite', 'selftest-faults', '--results', dir, '--format', 'none'], { env: { CXL_HARNESS_FAULT: 'panic' } });
  t.equal(r.exitCode, 3, 'exit 3: kernel crash');
  const s = summaryOf(dir);
  t.equal(s.outcome, 'kernel-crash');
  t.equal(s.exitCode, 3);
  t.equal(s.error?.code, 'KERNEL_PANIC');
  t.match(s.error?.message, /^the guest kernel panicked during check selftest\.panic: \[ *\d+\.\d+\] Kernel panic - not syncing: sysrq triggered crash$/);
  t.same(verdicts(s), [['selftest.alive', 'pass'], ['selftest.panic', 'error']], 'the panicking check is error, not fail or pass');
  t.match(s.checks[1]!.reason, /panicked during check selftest\.panic/);
  t.same(s.findings.map((f) => [f.kind, f.title, f.step]), [['panic', 'Kernel panic - not syncing: sysrq triggered crash', 'selftest.panic']]);
  t.ok(s.findings[0]!.lines.some((l) => /sysrq_handle_crash|Call Trace/.test(l)), 'the finding carries the trace');
  t.match(readFileSync(join(dir, 'console.log'), 'utf8'), /Kernel panic - not syncing: sysrq triggered crash/);
  t.match(s.steps.at(-1), { name: 'suite:selftest-faults', status: 'failed' });
  t.match(r.stderr, /KERNEL_PANIC: the guest kernel panicked/);
  t.same(qemuProcesses(dir), [], 'QEMU is gone');
});

t.test('garbage, a dropped connection, then a hang: error, error, reconnect, and the watchdog ends the run as hang, exit 2', async (t) => {
  const dir = join(base, 'hang');
  t.teardown(() => killQemu(dir));
  const r = await runCli(['run', '--suite', 'selftest-faults', '--check-timeout', '10', '--results', dir, '--format', 'none'], { env: { CXL_HARNESS_FAULT: 'garbage,drop-ssh,hang' } });
  t.equal(r.exitCode, 2, 'exit 2: hang');
  const s = summaryOf(dir);
  t.equal(s.outcome, 'hang');
  t.equal(s.error?.code, 'GUEST_HANG');
  t.match(s.error?.message, /^check selftest\.hang did not finish within 10 s: the guest or a command in it hangs; still running in the guest: `sleep 86400` \(\d+\.\d s\)$/);
  t.same(verdicts(s), [
    ['selftest.alive', 'pass'],
    ['selftest.garbage', 'error'],
    ['selftest.drop-ssh', 'error'],
    ['selftest.after-drop', 'pass'],
    ['selftest.hang', 'error'],
  ]);
  const [, garbage, drop] = s.checks;
  // What the dying agent printed, on stdout and stderr (in whichever order they arrived).
  const printed = /(\[stdout\] \{"probe": "nodes", "ok": tru.* garbage.*half a traceback|half a traceback.*\[stdout\] \{"probe": "nodes", "ok": tru.* garbage)/;
  t.match(garbage!.reason, /^precondition not met: the nodes probe answered \(guest probe nodes got no answer: AGENT_LOST: the agent did not start: it exited before saying hello: /);
  t.match(garbage!.reason, printed);
  const raw = commandLog(dir, 'probe-nodes');
  t.match(raw, /^\$ cxl-harness probe nodes --json\n# connection lost after \d+ ms\n--- stdout\n--- stderr\nAGENT_LOST: the agent did not start/, 'the request is logged as the command that repeats it');
  t.match(raw, printed, 'what the agent printed is kept');
  t.ok(garbage!.evidence.some((e) => e.endsWith('-probe-nodes.txt')), 'and is the check\'s evidence');
  t.match(drop!.reason, /^precondition not met: the command answered \(drop-ssh lost the connection/);
  t.match(commandLog(dir, 'drop-ssh'), /^# connection lost after \d+ ms$/m);
  t.match(commandLog(dir, 'after-drop'), /# exit 0 after \d+ ms\n--- stdout\nstill here\n/, 'the next command ran on a new connection');
  t.match(commandLog(dir, 'stuck'), /^\$ sleep 86400\n# connection lost/m, 'the stuck command is logged when the harness cut it');
  const console = readFileSync(join(dir, 'console.log'), 'utf8');
  t.match(console, /### cxl-harness step: selftest\.hang/, 'the console shows which step hung');
  t.match(console, /sysrq: Show Blocked State/, 'and the blocked-task dump asked for before stopping');
  t.match(r.stderr, /last console lines:\n[^]*selftest\.hang/, 'the last console lines are printed');
  t.same(qemuProcesses(dir), []);
});

t.test('a kernel without CXL (drivers blacklisted) stops with one message naming cause and fix, exit 2', async (t) => {
  const dir = join(base, 'nocxl');
  t.teardown(() => killQemu(dir));
  const r = await runCli(['run', '--suite', 'hotplug', '--cmdline', 'module_blacklist=cxl_acpi,cxl_pci', '--results', dir, '--format', 'none']);
  t.equal(r.exitCode, 2);
  const s = summaryOf(dir);
  t.equal(s.outcome, 'infrastructure-error');
  t.equal(s.error?.code, 'KERNEL_NO_CXL');
  t.match(s.error?.message, /has no CXL root device \(\/sys\/bus\/cxl\/devices has no root0\): it lacks CXL support or cxl_acpi did not load \(module cxl_acpi not available: neither built in nor loadable \(\/sys\/bus\/platform\/drivers\/cxl_acpi absent\); module cxl_pci not available: neither built in nor loadable \(\/sys\/bus\/pci\/drivers\/cxl_pci absent\)\); no CXL check can run/);
  t.match(s.error?.hint, /blacklists CXL modules/);
  t.same(s.checks, [], 'no check ran, so none can pass');
  t.match(s.steps.at(-1), { name: 'boot', status: 'failed' });
  t.match(commandLog(dir, 'preflight-cxl'), /cmdline: .*module_blacklist=cxl_acpi,cxl_pci/);
  t.match(r.stderr, /KERNEL_NO_CXL/);
  t.same(qemuProcesses(dir), []);
});

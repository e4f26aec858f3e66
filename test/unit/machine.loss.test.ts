/**
 * Why the guest went away, decided once (src/machine/loss.ts) for boot, run, repro and ssh:
 * against the stand-in QEMU (fixtures/spine/fake-qemu.mjs) whose console file the test writes,
 * with the real panic console recorded on Debian's 7.2.13; and the one watchdog.
 */
import t, { type Test } from 'tap';
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { classifyLoss, hostFaultIn, lossError } from '../../src/machine/loss.js';
import { Watchdog } from '../../src/machine/watchdog.js';
import { loadTopology } from '../../src/qemu/topology.js';
import { Vm } from '../../src/qemu/vm.js';

const FAKE_QEMU = join(import.meta.dirname, '..', 'fixtures', 'spine', 'fake-qemu.mjs');
const realPanic = readFileSync(new URL('../fixtures/console/real-panic-7.2.13.txt', import.meta.url), 'utf8');

async function fake(t: Test): Promise<Vm> {
  const dir = mkdtempSync(join(tmpdir(), 'cxlh-loss-'));
  const vm = await Vm.start({ dir, qemu: FAKE_QEMU, spec: { topology: loadTopology('default'), kernel: '/no/kernel', append: '', accel: 'tcg' } });
  t.teardown(() => vm.stop(1000));
  appendFileSync(vm.consoleLog, '[    1.000000] Linux version 7.2.13\ncxl-harness: guest ready\n');
  return vm;
}

t.test('10 a panic on the console is the answer, whatever QEMU did next; the error names it and exits 3', async (t) => {
  const vm = await fake(t);
  appendFileSync(vm.consoleLog, realPanic);
  process.kill(vm.pid!, 'SIGKILL'); // -no-reboot: QEMU ends after the panic
  const loss = await classifyLoss(vm);
  t.equal(loss.kind, 'kernel-crash');
  t.match(loss.evidence, /^\[ *\d+\.\d+\] Kernel panic - not syncing: sysrq triggered crash$/);
  t.match(loss.detail, /^the guest kernel panicked: \[ *\d+\.\d+\] Kernel panic - not syncing: sysrq triggered crash$/);
  const e = lossError(loss, 'during check selftest.panic');
  t.equal(e.code, 'KERNEL_PANIC');
  t.equal(e.exitCode, 3);
  t.match(e.message, /^the guest kernel panicked during check selftest\.panic: \[ *\d+\.\d+\] Kernel panic - not syncing: sysrq triggered crash$/);
});

t.test('20 QEMU killed without a panic: qemu-died, named with the signal', async (t) => {
  const vm = await fake(t);
  process.kill(vm.pid!, 'SIGKILL');
  const loss = await classifyLoss(vm);
  t.equal(loss.kind, 'qemu-died');
  const e = lossError(loss, 'during check selftest.wait');
  t.equal(e.code, 'QEMU_DIED');
  t.equal(e.exitCode, 2);
  t.match(e.message, /^QEMU was killed by SIGKILL during check selftest\.wait, without a kernel panic on the console/);
});

t.test('30 a stopped QEMU is not a kernel hang, even when a watchdog fired; the watchdog\'s words are kept', async (t) => {
  const vm = await fake(t);
  process.kill(vm.pid!, 'SIGSTOP');
  for (let i = 0; i < 50 && !vm.isStopped(); i++) await sleep(20);
  const loss = await classifyLoss(vm, { hung: true });
  t.equal(loss.kind, 'qemu-stopped');
  const e = lossError(loss, '', { what: 'check selftest.wait did not finish within 20 s' });
  t.equal(e.code, 'QEMU_STOPPED');
  t.equal(e.message, `QEMU (pid ${vm.pid}) is stopped by a signal (SIGSTOP, SIGTSTP or a debugger), so the guest could not answer: check selftest.wait did not finish within 20 s`);
  t.match(e.hint, /this says nothing about the kernel/);
});

t.test('40 QEMU running: a hang when the watchdog said so, else a lost connection; the settle wait is bounded', async (t) => {
  const vm = await fake(t);
  t.equal((await classifyLoss(vm, { hung: true })).kind, 'hang');
  const started = Date.now();
  const lost = await classifyLoss(vm, { settleMs: 300 });
  t.equal(lost.kind, 'lost');
  t.ok(Date.now() - started >= 250, 'waited for QEMU to end, as a panic may race the dropped connection');
  t.equal(lossError(lost, 'during check x').code, 'GUEST_LOST');
  t.equal(lossError({ kind: 'hang', detail: 'd' }, 'during x', { what: 'check x did not finish within 10 s' }).message, 'check x did not finish within 10 s');
});

t.test('50 QEMU ended by the harness (a watchdog stopped it): not qemu-died', async (t) => {
  const vm = await fake(t);
  await vm.stop(1000);
  t.equal((await classifyLoss(vm, { hung: true })).kind, 'hang');
  t.equal((await classifyLoss(vm)).kind, 'lost');
});

t.test('60 the watchdog fires once, after its bound without a kick; kicks put it off; dispose ends it', async (t) => {
  const fired: number[] = [];
  const w = new Watchdog(300, (idle) => fired.push(idle), 20);
  for (let i = 0; i < 10; i++) {
    await sleep(60);
    w.kick();
  }
  t.same(fired, [], '600 ms of kicks every 60 ms: no hang');
  await sleep(500);
  t.equal(fired.length, 1, 'fired once');
  t.ok(fired[0]! >= 300, `after its bound (${fired[0]} ms idle)`);
  t.ok(w.fired);
  const quiet: number[] = [];
  const d = new Watchdog(100, (idle) => quiet.push(idle), 20);
  d.dispose();
  await sleep(250);
  t.same(quiet, [], 'disposed: never fires');
});

t.test('60 QEMU that faulted by itself: the host kernel\'s line about it is the evidence, and the hint says it is QEMU', async (t) => {
  // Recorded on the development machine: QEMU 10.0.2 (bookworm-backports) died in offline.spm after the pressure row of a stock run.
  const log = readFileSync(new URL('../fixtures/host/qemu-segfault-dmesg.txt', import.meta.url), 'utf8');
  const line = hostFaultIn(log, 13018);
  t.match(line, /^\[ *4557\.265477\] qemu-system-x86\[13018\]: segfault at 8 ip [0-9a-f]+ .* in qemu-system-x86_64\[811c85,/);
  t.equal(hostFaultIn(log, 1301), undefined, 'another pid\'s fault is not ours');
  t.equal(hostFaultIn(log, 4557), undefined);
  const e = lossError({ kind: 'qemu-died', detail: 'QEMU was killed by SIGSEGV', evidence: line!, hostFault: line! }, 'during check spm.offline.spm');
  t.equal(e.code, 'QEMU_DIED');
  t.equal(e.exitCode, 2);
  t.match(e.message, /^QEMU was killed by SIGSEGV during check spm\.offline\.spm, without a kernel panic on the console:\n.*segfault at 8/);
  t.match(e.hint, /^QEMU itself crashed: this is no verdict on the kernel; run again\. .*access_ptr/);
  const plain = lossError({ kind: 'qemu-died', detail: 'QEMU was killed by SIGKILL' }, 'during boot');
  t.match(plain.hint, /^see qemu\.stderr\.log/);
});

/**
 * The QEMU launcher without a VM: reading a process's state from /proc/PID/stat (a stopped
 * QEMU is named as such instead of a guest hang), the hints for QEMU's refusals, and who ended
 * QEMU, against a stand-in that only speaks QMP (fixtures/spine/fake-qemu.mjs).
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadTopology } from '../../src/qemu/topology.js';
import { processState, qemuHint, Vm } from '../../src/qemu/vm.js';

const FAKE_QEMU = join(import.meta.dirname, '..', 'fixtures', 'spine', 'fake-qemu.mjs');

function startFake(): Promise<Vm> {
  const dir = mkdtempSync(join(tmpdir(), 'cxlh-vm-'));
  return Vm.start({ dir, qemu: FAKE_QEMU, spec: { topology: loadTopology('default'), kernel: '/no/kernel', append: '', accel: 'tcg' } });
}

t.test('10 processState reads the letter after the command, whatever the command holds', async (t) => {
  t.equal(processState('4242 (qemu-system-x86) S 1 4242 4242 0 -1 4194560 ...'), 'running');
  t.equal(processState('4242 (qemu-system-x86) R 1 4242'), 'running');
  t.equal(processState('4242 (qemu-system-x86) T 1 4242'), 'stopped');
  t.equal(processState('4242 (gdb-stopped) t 1 4242'), 'stopped', 'tracing stop');
  t.equal(processState('4242 (a) T (b) S 1 4242'), 'running', 'the last parenthesis ends the command');
  t.equal(processState('4242 (qemu) Z 1 4242'), 'zombie');
  t.equal(processState(''), 'unknown');
});

t.test('20 on a real process: running, then stopped by SIGSTOP, then running after SIGCONT', async (t) => {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  t.teardown(() => child.kill('SIGKILL'));
  const state = () => processState(readFileSync(`/proc/${child.pid}/stat`, 'utf8'));
  t.equal(state(), 'running');
  child.kill('SIGSTOP');
  for (let i = 0; i < 50 && state() !== 'stopped'; i++) await sleep(20);
  t.equal(state(), 'stopped');
  child.kill('SIGCONT');
  for (let i = 0; i < 50 && state() !== 'running'; i++) await sleep(20);
  t.equal(state(), 'running');
});

t.test('30 qemuHint names the fix for QEMU\'s own words', async (t) => {
  t.match(qemuHint('qemu-system-x86_64: Address space limit 0xffffffffff < 0x1ffffffffff phys-bits too low (40)'), /windows\[\]\.sizeMiB/);
  t.match(qemuHint("qemu-system-x86_64: -device cxl-type3,volatile-memdev=m0: Property 'cxl-type3.volatile-memdev' not found"), /QEMU >= 8/);
  t.match(qemuHint('qemu-system-x86_64: cannot set up guest memory \'pc.ram\': Cannot allocate memory'), /lower ramMiB/);
  t.equal(qemuHint('something else'), 'see qemu.stderr.log in the results dir');
});

t.test('40 QEMU exiting on its own is not the harness\'s doing; during powerOff it is, however early', async (t) => {
  const alone = await startFake();
  process.kill(alone.pid!, 'SIGUSR1'); // the guest powered itself off
  t.match(await alone.exit, { code: 0, byHarness: false });
  await alone.stop();

  // QEMU may be gone before the poweroff command even answers (seen on a cold CI run).
  const vm = await startFake();
  const exit = await vm.powerOff(async () => {
    process.kill(vm.pid!, 'SIGUSR1');
    await vm.exit;
  });
  t.match(exit, { code: 0, byHarness: true });
});

t.test('50 a stopped QEMU is seen as stopped and killed at once by stop()', async (t) => {
  const vm = await startFake();
  t.equal(vm.isStopped(), false);
  process.kill(vm.pid!, 'SIGSTOP');
  for (let i = 0; i < 50 && !vm.isStopped(); i++) await sleep(20);
  t.equal(vm.isStopped(), true);
  const started = Date.now();
  const exit = await vm.stop(5000);
  t.match(exit, { signal: 'SIGKILL', byHarness: true });
  t.ok(Date.now() - started < 5000, `killed without waiting out the 5 s grace for QMP or SIGTERM (took ${Date.now() - started} ms)`);
  t.equal(vm.isStopped(), false, 'an exited QEMU is not stopped');
});

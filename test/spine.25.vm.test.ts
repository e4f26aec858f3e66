/**
 * The pure parts of the QEMU launcher: reading a process's state from /proc/PID/stat (a
 * stopped QEMU is named as such instead of a guest hang), and the hints for QEMU's refusals.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { processState, qemuHint } from '../src/qemu/vm.js';

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

/**
 * The live line (src/progress.ts): only on a terminal, never under CI or NO_COLOR; log lines go
 * out whole with the live line cleared before and drawn again after; and the kernel build's
 * words (src/kernel/build-progress.ts).
 */
import t from 'tap';
import { buildProgress } from '../../src/kernel/build-progress.js';
import { Progress, formatElapsed, progressWanted } from '../../src/progress.js';

function terminal(columns = 80): { writes: string[]; stream: { isTTY: boolean; columns: number; write: (s: string) => boolean } } {
  const writes: string[] = [];
  return { writes, stream: { isTTY: true, columns, write: (s: string) => writes.push(s) > 0 } };
}

t.test('10 a live line only on a terminal, and not under CI or NO_COLOR', async (t) => {
  const tty = { isTTY: true, write: () => true };
  t.equal(progressWanted(tty, {}), true);
  t.equal(progressWanted({ isTTY: false, write: () => true }, {}), false, 'a pipe or a file');
  t.equal(progressWanted({ write: () => true }, {}), false, 'a stream that does not say');
  t.equal(progressWanted(tty, { CI: 'true' }), false);
  t.equal(progressWanted(tty, { CI: '1' }), false);
  t.equal(progressWanted(tty, { CI: 'false' }), true, 'CI=false is no CI');
  t.equal(progressWanted(tty, { NO_COLOR: '1' }), false);
  t.equal(progressWanted(tty, { NO_COLOR: '' }), true, 'an empty NO_COLOR is unset');
});

t.test('20 off: the log lines are the only output', async (t) => {
  const { writes, stream } = terminal();
  const p = new Progress(stream, false);
  p.begin('kernel');
  p.update('12.0 of 110.0 MiB');
  p.log('[cxl-harness 10:00:00] kernel: 7.2.13');
  p.end();
  t.same(writes, ['[cxl-harness 10:00:00] kernel: 7.2.13\n']);
});

t.test('30 on: label, detail and elapsed; a log line clears it and it comes back; end clears it', async (t) => {
  const { writes, stream } = terminal();
  let now = 1_000_000;
  const p = new Progress(stream, true, () => now);
  p.begin('boot');
  t.same(writes, ['\r\x1b[2Kboot (0s)']);
  now += 1500;
  p.update('Freeing unused kernel image memory');
  t.equal(writes.at(-1), '\r\x1b[2Kboot: Freeing unused kernel image memory (1s)');
  now += 50;
  p.update('Run /init as init process');
  t.equal(writes.length, 2, 'an update within 100 ms of the last draw waits for the next');
  p.log('[cxl-harness 10:00:09] guest up in 8.1 s');
  t.same(writes.slice(2), ['\r\x1b[2K', '[cxl-harness 10:00:09] guest up in 8.1 s\n', '\r\x1b[2Kboot: Run /init as init process (1s)'], 'cleared, the line, drawn again with the latest detail');
  p.end();
  t.equal(writes.at(-1), '\r\x1b[2K');
  p.log('after');
  t.equal(writes.at(-1), 'after\n', 'no live line after the step ended');
  p.update('ignored');
  t.equal(writes.at(-1), 'after\n', 'an update with no step running draws nothing');
});

t.test('40 a line wider than the terminal is cut to fit', async (t) => {
  const { writes, stream } = terminal(40);
  const p = new Progress(stream, true, () => 0);
  p.begin('suite:spm', `check 4 of 33: ${'x'.repeat(80)}`);
  const drawn = writes[0]!.replace('\r\x1b[2K', '');
  t.equal(drawn.length, 39);
  t.ok(drawn.endsWith('…'));
  p.end();
});

t.test('50 elapsed times and the kernel build\'s words', async (t) => {
  t.equal(formatElapsed(0), '0s');
  t.equal(formatElapsed(59_999), '59s');
  t.equal(formatElapsed(61_000), '1m01s');
  t.equal(formatElapsed(13 * 60_000), '13m00s');
  t.equal(buildProgress(120), '120 files compiled', 'no earlier build of the tree: no estimate');
  // The v1 build of this project: 3086 files in 13 min.
  t.equal(buildProgress(1543, { compiled: 3086, ms: 13 * 60_000 }), '1543 of ~3086 files compiled (the last build of this tree), ~6m30s left');
  t.equal(buildProgress(4000, { compiled: 3086, ms: 13 * 60_000 }), '4000 of ~3086 files compiled (the last build of this tree), ~0s left', 'more than last time: nothing left to estimate');
});

t.test('60 steps nest: a download inside the kernel step shows, then the kernel step again', async (t) => {
  const { writes, stream } = terminal();
  const p = new Progress(stream, true, () => 0);
  p.begin('kernel');
  p.begin('downloading linux-image-amd64 from Debian sid');
  p.update('12.0 of 110.0 MiB');
  p.end();
  t.equal(writes.at(-1), '\r\x1b[2Kkernel (0s)', 'the outer step is back');
  p.end();
  t.equal(writes.at(-1), '\r\x1b[2K', 'and then the line goes away');
});

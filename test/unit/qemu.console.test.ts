/**
 * The console watcher follows console.log as QEMU writes it: every byte once, in order, even
 * when polls overlap (the timer's and a caller's); and its live scanner finds the panic in a
 * real console recorded from a sysrq-c run on the Debian 7.2.13 kernel, as the scan of the
 * whole log after the run does.
 */
import t from 'tap';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConsoleWatcher } from '../../src/qemu/console.js';
import { scanConsole } from '../../src/report/console-scan.js';

const realPanic = readFileSync(new URL('../fixtures/console/real-panic-7.2.13.txt', import.meta.url), 'utf8');

t.test('10 overlapping polls read every byte once, in order', async (t) => {
  const file = join(mkdtempSync(join(tmpdir(), 'cxlh-console-')), 'console.log');
  const w = new ConsoleWatcher(file);
  await w.poll(); // before QEMU created the file: nothing, no error
  t.equal(w.contents(), '');
  writeFileSync(file, '');
  const seen: string[] = [];
  w.onLine((l) => seen.push(l));
  const expected: string[] = [];
  for (let i = 0; i < 200; i++) {
    const line = `[ ${i}.000000] line ${i}`;
    expected.push(line);
    appendFileSync(file, `${line}\r\n`);
    // Three polls at once, as the timer, a hang report and a crash check can do.
    await Promise.all([w.poll(), w.poll(), w.poll()]);
  }
  await w.stop();
  t.equal(w.contents(), expected.map((l) => `${l}\n`).join(''), 'the text, once, without carriage returns');
  t.same(seen, expected, 'each line reported once');
  t.same(w.findings(), [], 'no kernel report in plain lines');
  t.equal(w.lastLines(2), '[ 198.000000] line 198\n[ 199.000000] line 199');
});

t.test('20 a partial last line is reported once it is complete', async (t) => {
  const file = join(mkdtempSync(join(tmpdir(), 'cxlh-console-')), 'console.log');
  writeFileSync(file, 'Kernel panic - not syn');
  const w = new ConsoleWatcher(file);
  const seen: string[] = [];
  w.onLine((l) => seen.push(l));
  await w.poll();
  t.same(seen, []);
  appendFileSync(file, 'cing: sysrq triggered crash\n');
  await w.poll();
  t.same(seen, ['Kernel panic - not syncing: sysrq triggered crash']);
  await w.stop();
});

t.test('30 the real panic console: the panic known live, as line by line it arrives, and the same finding after the run', async (t) => {
  const file = join(mkdtempSync(join(tmpdir(), 'cxlh-console-')), 'console.log');
  writeFileSync(file, '');
  const w = new ConsoleWatcher(file);
  const at = realPanic.indexOf('Kernel panic - not syncing');
  appendFileSync(file, realPanic.slice(0, at));
  await w.poll();
  t.equal(w.panic(), undefined, 'no panic before its line');
  appendFileSync(file, realPanic.slice(at));
  await w.poll();
  t.match(w.panic()?.lines[0], /^\[ *\d+\.\d+\] Kernel panic - not syncing: sysrq triggered crash$/, 'known as soon as its line is read, before its end marker matters');
  await w.stop();
  const findings = scanConsole(realPanic);
  t.same(w.findings(), findings, 'the live scan and the scan of the whole log agree');
  t.same(findings.map((f) => [f.kind, f.title, f.step]), [['panic', 'Kernel panic - not syncing: sysrq triggered crash', 'selftest.panic']]);
  t.ok(findings[0]!.lines.some((l) => l.includes('sysrq_handle_crash')), 'with its call trace');
  t.match(realPanic, /cxl-harness: guest ready/, 'recorded from a harness boot');
});

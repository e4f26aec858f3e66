import t from 'tap';
import { readFileSync } from 'node:fs';
import { formatStepMarker } from '../../src/contract/markers.js';
import {
  parseStepMarker,
  scanConsole,
  stripConsolePrefix,
} from '../../src/report/console-scan.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../fixtures/console/${name}`, import.meta.url), 'utf8');

t.test('10 console prefixes: timestamps and caller ids are stripped, other brackets are not', async (t) => {
  t.same(stripConsolePrefix('[   12.345678] Oops: 0000 [#1]'), { body: 'Oops: 0000 [#1]', stamped: true });
  t.same(stripConsolePrefix('[    5.500010][    T1] UBSAN: x'), { body: 'UBSAN: x', stamped: true });
  t.same(stripConsolePrefix('[  OK  ] Started Journal Service.'), {
    body: '[  OK  ] Started Journal Service.',
    stamped: false,
  });
  t.same(stripConsolePrefix(' </TASK>'), { body: ' </TASK>', stamped: false });
});

t.test('20 step markers: formatted on one line and parsed back', async (t) => {
  t.equal(formatStepMarker('spm.online'), '### cxl-harness step: spm.online');
  t.equal(formatStepMarker('two\nlines'), '### cxl-harness step: two lines');
  t.equal(parseStepMarker(formatStepMarker('boot')), 'boot');
  t.equal(parseStepMarker('[    1.0] ### cxl-harness step: boot'), 'boot');
  t.equal(parseStepMarker('### cxl-harness step: '), undefined);
  t.equal(parseStepMarker('cxl_mem mem0: probed'), undefined);
});

t.test('30 a clean boot with look-alike lines yields no finding', async (t) => {
  t.same(scanConsole(fixture('clean-boot.txt')), []);
  t.same(scanConsole(''), []);
});

t.test('40 a NULL-pointer oops then its panic: two findings, each up to its end marker', async (t) => {
  const findings = scanConsole(fixture('oops-panic.txt'));
  t.equal(findings.length, 2);
  const [oops, panic] = findings;
  t.equal(oops?.kind, 'oops');
  t.equal(oops?.title, 'BUG: kernel NULL pointer dereference, address: 0000000000000008');
  t.equal(oops?.line, 8);
  t.equal(oops?.step, 'region.create');
  t.ok(oops?.lines.some((l) => l.includes('Oops: 0000 [#1] PREEMPT SMP NOPTI')), 'the Oops line belongs to the same report');
  t.ok(oops?.lines.some((l) => l.includes('store_targetN+0xa1/0xf0')), 'call trace included');
  t.match(oops?.lines.at(-1), /---\[ end trace 0000000000000000 \]---$/);
  t.equal(oops?.lines.length, 37, 'lines 8..44 of the file');

  t.equal(panic?.kind, 'panic');
  t.equal(panic?.title, 'Kernel panic - not syncing: Fatal exception');
  t.equal(panic?.line, 47);
  t.equal(panic?.lines.length, 3);
  t.match(panic?.lines.at(-1), /---\[ end Kernel panic - not syncing: Fatal exception \]---$/);
  t.equal(panic?.step, 'region.create');
});

t.test('50 a WARNING keeps its cut-here line, lockdep irq stamps and end trace, without interleaved output', async (t) => {
  const [w, ...rest] = scanConsole(fixture('warning.txt'));
  t.equal(rest.length, 0);
  t.equal(w?.kind, 'warning');
  t.equal(w?.title, 'WARNING: CPU: 0 PID: 233 at mm/memory_hotplug.c:1179 online_pages+0x2b1/0x2f0');
  t.equal(w?.line, 4, 'line points at the WARNING line, not the cut-here line');
  t.equal(w?.step, 'spm.online');
  t.match(w?.lines[0], /\[ cut here \]/);
  t.ok(w?.lines.some((l) => l.includes('irq event stamp: 5342')));
  t.notOk(w?.lines.some((l) => l.includes('Starting dax-online helper')), 'untimestamped userspace line left out');
  t.match(w?.lines.at(-1), /end trace/);
  t.notOk(w?.lines.some((l) => l.includes('onlined memory block')));
});

t.test('60 kernel BUG at ... absorbs its Oops line and runs to the end trace (no timestamps)', async (t) => {
  const findings = scanConsole(fixture('kernel-bug.txt'));
  t.equal(findings.length, 1);
  t.equal(findings[0]?.kind, 'bug');
  t.equal(findings[0]?.title, 'kernel BUG at mm/memory-tiers.c:214!');
  t.equal(findings[0]?.line, 2);
  t.equal(findings[0]?.lines.length, 22, 'the whole file: cut here through end trace');
  t.equal(findings[0]?.step, undefined, 'no marker, no step');
});

t.test('70 a BUG without end marker ends after its </TASK>', async (t) => {
  const [b, ...rest] = scanConsole(fixture('bug-sleeping.txt'));
  t.equal(rest.length, 0);
  t.equal(b?.kind, 'bug');
  t.equal(b?.title, 'BUG: sleeping function called from invalid context at include/linux/sched/mm.h:315');
  t.equal(b?.lines.length, 19);
  t.equal(b?.lines.at(-1), ' </TASK>');
});

t.test('80 sanitizer reports run from their title to the closing rule', async (t) => {
  const [kasan] = scanConsole(fixture('kasan.txt'));
  t.equal(kasan?.kind, 'kasan');
  t.equal(kasan?.title, 'BUG: KASAN: slab-use-after-free in cxl_dpa_release+0x9c/0xb0 [cxl_core]');
  t.equal(kasan?.step, 'spm.migrate');
  t.match(kasan?.lines[0], /={60,}$/);
  t.match(kasan?.lines.at(-1), /={60,}$/);
  t.equal(kasan?.lines.length, 43);

  const ubsan = scanConsole(fixture('ubsan.txt'));
  t.equal(ubsan.length, 1);
  t.equal(ubsan[0]?.kind, 'ubsan');
  t.equal(ubsan[0]?.title, 'UBSAN: array-index-out-of-bounds in drivers/cxl/core/region.c:1712:25');
  t.equal(ubsan[0]?.lines.length, 13, 'cut-here through end trace, caller-id prefixes handled');

  const kfence = scanConsole(fixture('kfence.txt'));
  t.equal(kfence.length, 1);
  t.equal(kfence[0]?.kind, 'kfence');
  t.equal(kfence[0]?.title, 'BUG: KFENCE: out-of-bounds read in cxl_mbox_send_cmd+0x1b3/0x240 [cxl_core]');
  t.equal(kfence[0]?.lines.length, 17);
});

t.test('90 lockdep splats are lockdep, not warnings', async (t) => {
  const findings = scanConsole(fixture('lockdep.txt'));
  t.same(
    findings.map((f) => [f.kind, f.title, f.lines.length]),
    [
      ['lockdep', 'WARNING: possible circular locking dependency detected', 36],
      ['lockdep', 'WARNING: possible recursive locking detected', 21],
    ],
  );
});

t.test('100 hung tasks, RCU stalls and lockups', async (t) => {
  const hung = scanConsole(fixture('hung-task.txt'));
  t.same(hung.map((f) => [f.kind, f.title, f.lines.length]), [
    ['hung-task', 'INFO: task kworker/u8:1:54 blocked for more than 122 seconds.', 19],
  ]);

  const rcu = scanConsole(fixture('rcu-stall.txt'));
  t.same(rcu.map((f) => [f.kind, f.title, f.lines.length]), [
    ['rcu-stall', 'rcu: INFO: rcu_preempt self-detected stall on CPU', 15],
    ['rcu-stall', 'rcu: INFO: rcu_sched detected stalls on CPUs/tasks:', 15],
  ]);

  const lockups = scanConsole(fixture('lockups.txt'));
  t.same(lockups.map((f) => [f.kind, f.title, f.lines.length]), [
    ['soft-lockup', 'watchdog: BUG: soft lockup - CPU#1 stuck for 26s! [migrate:702]', 17],
    ['hard-lockup', 'NMI watchdog: Watchdog detected hard LOCKUP on cpu 3', 11],
    ['panic', 'Kernel panic - not syncing: Hard LOCKUP', 4],
  ]);
});

t.test('110 an OOM kill runs from the oom-killer line to the kill line', async (t) => {
  const [oom, ...rest] = scanConsole(fixture('oom.txt'));
  t.equal(rest.length, 0);
  t.equal(oom?.kind, 'oom');
  t.match(oom?.title, /^stress-ng invoked oom-killer: gfp_mask=0x140dca/);
  t.match(oom?.lines.at(-1), /Out of memory: Killed process 901 \(stress-ng\)/);
  t.equal(oom?.lines.length, 19);
  t.equal(oom?.step, 'spm.pressure');
  const lone = scanConsole('Out of memory: Killed process 5 (a) total-vm:1kB\nnext line');
  t.same(lone.map((f) => [f.kind, f.lines.length]), [['oom', 1]]);
});

t.test('120 step attribution: the last marker before the finding, from the text or from stepMarks', async (t) => {
  const text = [
    'boot line',
    formatStepMarker('first'),
    'BUG: scheduling while atomic: cxl/1/0x00000002',
    ' </TASK>',
    formatStepMarker('second'),
    'quiet',
    'BUG: Bad rss-counter state mm:000000001a2b3c4d type:MM_ANONPAGES val:1',
  ].join('\n');
  const f = scanConsole(text);
  t.same(f.map((x) => [x.line, x.step]), [
    [3, 'first'],
    [7, 'second'],
  ]);
  t.notOk(f.some((x) => x.lines.some((l) => l.includes('cxl-harness step'))), 'marker lines are never part of a report');

  const plain = 'a\nb\nBUG: Bad page state in process x  pfn:1a2b3\n </TASK>\nc\nWARNING: CPU: 0 PID: 1 at a.c:1 f+0x1/0x2\n---[ end trace 0 ]---';
  const withMarks = scanConsole(plain, [
    { line: 1, step: 'boot' },
    { line: 5, step: 'check' },
  ]);
  t.same(withMarks.map((x) => [x.kind, x.step]), [
    ['bug', 'boot'],
    ['warning', 'check'],
  ]);
});

t.test('130 a new report closes the one before it; CRLF line ends are tolerated', async (t) => {
  const text = 'BUG: Bad rss-counter state mm:1 type:MM_ANONPAGES val:1\r\nsome line\r\nKernel panic - not syncing: VFS: Unable to mount root fs\r\n';
  const f = scanConsole(text);
  t.same(f.map((x) => [x.kind, x.lines]), [
    ['bug', ['BUG: Bad rss-counter state mm:1 type:MM_ANONPAGES val:1', 'some line']],
    ['panic', ['Kernel panic - not syncing: VFS: Unable to mount root fs']],
  ]);
});

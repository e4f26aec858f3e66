/**
 * The results dir: written as the run goes, atomically, summary.json after every step; a full
 * disk is one error naming the path and never leaves a corrupt summary.
 */
import t from 'tap';
import { execa } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Results } from '../../src/results/results.js';
import type { RunSummary } from '../../src/report/model.js';

const base = mkdtempSync(join(tmpdir(), 'cxlh-results-'));
const onDisk = (r: Results): RunSummary => JSON.parse(readFileSync(r.path('summary.json'), 'utf8')) as RunSummary;
const leftovers = (dir: string): string[] => readdirSync(dir, { recursive: true }).map(String).filter((f) => f.includes('.tmp-'));

t.test('10 create: a timestamped dir with commands/ and a summary from the start', async (t) => {
  const r = await Results.create({ base });
  t.match(r.dir, new RegExp(`^${base}/\\d{8}T\\d{6}-[0-9a-f]{6}$`));
  t.ok(statSync(r.path('commands')).isDirectory());
  t.match(onDisk(r), { schema: 1, tool: { name: 'cxl-harness' }, runId: r.summary.runId, outcome: 'pass', exitCode: 0, steps: [], checks: [] });
});

t.test('20 a dir that already holds a run is refused: two runs never mix their files', async (t) => {
  const dir = join(base, 'reused');
  await Results.create({ dir });
  await t.rejects(Results.create({ dir }), {
    code: 'RESULTS_DIR_IN_USE',
    message: `results dir ${dir} already holds a run (summary.json exists)`,
    hint: /--results DIR/,
  });
  const empty = join(base, 'empty-but-there');
  mkdirSync(empty);
  t.equal((await Results.create({ dir: empty })).dir, empty, 'an existing empty dir is fine');
});

t.test('30 a step is on disk as running while it runs, then ok or failed with its duration', async (t) => {
  const r = await Results.create({ dir: join(base, 'steps') });
  const value = await r.step('kernel', async () => {
    t.match(onDisk(r).steps, [{ name: 'kernel', status: 'running' }], 'running, on disk, before it ends');
    return 42;
  });
  t.equal(value, 42);
  await t.rejects(r.step('boot', async () => { throw new Error('QEMU exited at start\nsecond line'); }), { message: /QEMU exited/ });
  const steps = onDisk(r).steps;
  t.match(steps, [{ name: 'kernel', status: 'ok' }, { name: 'boot', status: 'failed', error: 'QEMU exited at start' }]);
  t.ok(steps.every((s) => typeof s.durationMs === 'number'));
  t.same(Object.keys(onDisk(r).timings), ['kernel', 'boot']);
});

t.test('40 saveCommand: numbered, label made safe, status line, both streams', async (t) => {
  const r = await Results.create({ dir: join(base, 'commands') });
  const a = await r.saveCommand('probe place', { command: "cxl-harness probe place --pages=256 --json", stdout: '{"ok":true}', stderr: '', exitCode: 0, durationMs: 12 });
  const b = await r.saveCommand('../../etc/passwd', { command: 'sleep 99', stdout: '', stderr: 'x\n', exitCode: null, timedOut: true, durationMs: 5000 });
  const c = await r.saveCommand('drop', { command: 'true', stdout: 'partial\n', stderr: '', exitCode: null, disconnected: true, durationMs: 7 });
  const d = await r.saveCommand('killed', { command: 'x', stdout: '', stderr: '', exitCode: null, signal: 'KILL', durationMs: 1 });
  t.same([a, b, c, d], ['commands/0001-probe_place.txt', 'commands/0002-.._.._etc_passwd.txt', 'commands/0003-drop.txt', 'commands/0004-killed.txt']);
  t.equal(readFileSync(r.path(a), 'utf8'), '$ cxl-harness probe place --pages=256 --json\n# exit 0 after 12 ms\n--- stdout\n{"ok":true}\n--- stderr\n');
  t.equal(readFileSync(r.path(b), 'utf8'), '$ sleep 99\n# timed out after 5000 ms\n--- stdout\n--- stderr\nx\n');
  t.equal(readFileSync(r.path(c), 'utf8'), '$ true\n# connection lost after 7 ms\n--- stdout\npartial\n--- stderr\n');
  t.match(readFileSync(r.path(d), 'utf8'), /^# signal KILL after 1 ms$/m);
  t.notOk(existsSync(join(base, 'etc')), 'a label never escapes the results dir');
});

t.test('50 writes are atomic and serialized: the last state wins, no temp files stay', async (t) => {
  const r = await Results.create({ dir: join(base, 'atomic') });
  const flushes: Promise<void>[] = [];
  for (let i = 0; i < 20; i++) {
    r.summary.timings[`t${i}`] = i;
    flushes.push(r.flush());
  }
  await Promise.all(flushes);
  t.equal(Object.keys(onDisk(r).timings).length, 20);
  await r.writeText('evidence/spm.x/nodes.json', '{"a":1}\n');
  t.equal(readFileSync(r.path('evidence/spm.x/nodes.json'), 'utf8'), '{"a":1}\n');
  t.same(leftovers(r.dir), []);
});

t.test('60 an abandoned check (hang, crash) replaces a non-pass verdict; late answers and post-seal changes are dropped', async (t) => {
  const r = await Results.create({ dir: join(base, 'abandon') });
  await r.addCheck({ id: 'a', title: 'a', verdict: 'pass', evidence: ['x'], durationMs: 1 });
  await r.addCheck({ id: 'b', title: 'b', verdict: 'fail', reason: 'empty output', evidence: ['commands/0002.txt'], observed: { n: 0 }, durationMs: 1 });
  const abandoned = { title: 't', verdict: 'error' as const, reason: 'the guest kernel panicked', evidence: ['console.log'], durationMs: 9 };
  await r.abandonCheck({ id: 'a', ...abandoned });
  await r.abandonCheck({ id: 'b', ...abandoned });
  await r.abandonCheck({ id: 'c', ...abandoned });
  await r.addCheck({ id: 'c', title: 'c', verdict: 'pass', evidence: ['late'], durationMs: 1 });
  t.same(onDisk(r).checks.map((c) => [c.id, c.verdict, c.reason ?? null]), [
    ['a', 'pass', null],
    ['b', 'error', 'the guest kernel panicked'],
    ['c', 'error', 'the guest kernel panicked'],
  ]);
  t.same(onDisk(r).checks[1]!.evidence, ['commands/0002.txt', 'console.log'], 'the check\'s own evidence is kept');
  r.summary.outcome = 'kernel-crash';
  await r.seal();
  r.summary.outcome = 'pass';
  await r.flush();
  await r.addCheck({ id: 'd', title: 'd', verdict: 'pass', evidence: ['x'], durationMs: 1 });
  t.equal(onDisk(r).outcome, 'kernel-crash', 'nothing changes the summary after seal');
  t.equal(onDisk(r).checks.length, 3);
});

t.test('70 an unwritable results dir is one error naming the path', async (t) => {
  const file = join(base, 'a-file');
  writeFileSync(file, '');
  await t.rejects(Results.create({ dir: join(file, 'results') }), {
    code: 'RESULTS_UNWRITABLE',
    message: `results dir ${join(file, 'results')} cannot be created: ${file} is not a directory`,
    hint: /--results DIR/,
  });
});

t.test('75 paths that cannot hold a results dir are refused before anything is made, within a second', async (t) => {
  for (const [dir, why] of [['/proc/x', /\/proc is on procfs, a kernel pseudo-filesystem/], ['/sys/x/y', /\/sys is on sysfs, a kernel pseudo-filesystem/]] as const) {
    const started = Date.now();
    await t.rejects(Results.create({ dir }), { code: 'RESULTS_UNWRITABLE', message: why }, dir);
    t.ok(Date.now() - started < 1000, `${dir} refused at once (mkdir -p loops on /proc in Node 20)`);
  }
  // A directory holding other files is never written into; an empty one is fine.
  const busy = join(base, 'holds-notes');
  mkdirSync(busy);
  writeFileSync(join(busy, 'notes.txt'), 'mine');
  await t.rejects(Results.create({ dir: busy }), { code: 'RESULTS_DIR_IN_USE', message: /is not empty \(notes\.txt\)/ });
  t.same(readdirSync(busy), ['notes.txt'], 'nothing was written into it');
  const empty = mkdtempSync(join(base, 'empty-'));
  const made = await Results.create({ dir: empty });
  t.ok(existsSync(join(made.dir, 'summary.json')), 'an empty dir is used');
});

t.test('80 disk full: the error names the file, the last good summary.json stays whole', { skip: process.getuid?.() !== 0 ? 'needs root to mount a 64 KiB tmpfs' : false }, async (t) => {
  const mnt = mkdtempSync(join(tmpdir(), 'cxlh-full-'));
  await execa('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
  t.teardown(async () => { await execa('umount', [mnt], { reject: false }); });
  const r = await Results.create({ dir: join(mnt, 'run') });
  await r.step('kernel', async () => undefined);
  const good = readFileSync(r.path('summary.json'), 'utf8');
  // Fill the file system up to the last few hundred bytes.
  writeFileSync(join(mnt, 'ballast'), Buffer.alloc(40 * 1024));
  const { stdout } = await execa('df', ['--output=avail', '-B1', mnt]);
  const avail = Number(stdout.trim().split('\n').pop());
  if (avail > 0) {
    try {
      writeFileSync(join(mnt, 'ballast2'), Buffer.alloc(avail));
    } catch {
      // full now, which is the point
    }
  }
  r.summary.observations.push({ id: 'big', title: 'big', detail: 'x'.repeat(16 * 1024) });
  await t.rejects(r.flush(), {
    code: 'RESULTS_UNWRITABLE',
    message: `cannot write ${r.path('summary.json')}: the disk is full (ENOSPC)`,
    hint: /free space, or choose a results dir on another file system with --results DIR/,
  });
  t.equal(readFileSync(r.path('summary.json'), 'utf8'), good, 'summary.json is the last good one, whole');
  t.same(leftovers(r.dir), [], 'the half-written temp file was removed');
  await t.rejects(r.saveCommand('dmesg', { command: 'dmesg', stdout: 'y'.repeat(32 * 1024), stderr: '', exitCode: 0, durationMs: 1 }), {
    code: 'RESULTS_UNWRITABLE',
    message: `cannot write ${r.path('commands/0001-dmesg.txt')}: the disk is full (ENOSPC)`,
  });
  t.notOk(existsSync(r.path('commands/0001-dmesg.txt')), 'no half command log');
  // Once there is room again, the next flush works: one failure does not wedge the queue.
  await execa('rm', ['-f', join(mnt, 'ballast'), join(mnt, 'ballast2')]);
  await r.flush();
  t.equal(JSON.parse(readFileSync(r.path('summary.json'), 'utf8')).observations[0].id, 'big');
});

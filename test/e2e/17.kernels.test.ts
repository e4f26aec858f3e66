/**
 * Kernels users bring, for real: Debian stable's (trixie, 6.12: ext4 needs crc32c, named only
 * as a soft dependency) runs the SPM suite, every verdict written out. Debian oldstable's
 * (bookworm, 6.1) runs the hotplug suite in the matrix test (40.matrix), next to trixie and sid.
 * Debian experimental's (the newest kernel Debian has, 7.3-rc7 when written) runs the SPM suite:
 * what a nightly against new kernels sees first.
 * And trixie's kernel brought by hand, --kernel vmlinuz --modules DIR with its .ko.xz modules.
 */
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunSummary } from '../../src/report/model.js';
import { qemuProcesses, readJson, runCli } from '../lib/cli.js';
import { UNPATCHED_SKIP_REASONS, UNPATCHED_SPM_VERDICTS } from '../lib/spm-verdicts.js';

const base = mkdtempSync(join(tmpdir(), 'cxlh-kernels-'));

t.test('Debian stable (trixie, 6.12): the SPM suite boots and judges it as the unpatched kernel it is', async (t) => {
  const dir = join(base, 'trixie');
  const r = await runCli(['run', '--kernel-suite', 'trixie', '--results', dir]);
  t.comment(r.stderr.split('\n').filter((l) => /PASS|FAIL|ERROR|SKIP|NOTE|guest up|capabilities|kernel:/.test(l)).join('\n'));
  t.equal(r.exitCode, 0);
  const s = readJson<RunSummary>(join(dir, 'summary.json'));
  t.match(s.kernel?.release, /^6\.12\./);
  t.equal(s.generation?.name, 'stock');
  t.same(s.checks.map((c) => [c.id, c.verdict]), UNPATCHED_SPM_VERDICTS, 'every row, in order, with the stock column\'s verdict');

  for (const c of s.checks.filter((x) => x.verdict === 'skip')) t.equal(c.reason, UNPATCHED_SKIP_REASONS[c.id], `${c.id} says why`);
  // 6.12's zswap rejects random pages where 7.x stores them raw: recorded, not judged.
  t.ok(s.observations.some((o) => o.id === 'spm.observation.zswap_pool'), 'the zswap pool is an observation on unpatched kernels');
  t.same(qemuProcesses(dir), [], 'no QEMU left');
});

t.test('Debian experimental (the newest kernel Debian has): the SPM suite judges it as unpatched', async (t) => {
  const dir = join(base, 'experimental');
  const r = await runCli(['run', '--kernel-suite', 'experimental', '--results', dir]);
  t.comment(r.stderr.split('\n').filter((l) => /PASS|FAIL|ERROR|SKIP|NOTE|guest up|capabilities|kernel:/.test(l)).join('\n'));
  t.equal(r.exitCode, 0);
  const s = readJson<RunSummary>(join(dir, 'summary.json'));
  t.equal(s.kernel?.origin, 'distro');
  t.match(s.kernel?.package, /~exp\d+$/, 'the package is an experimental upload');
  t.equal(s.generation?.name, 'stock');
  t.same(s.checks.map((c) => [c.id, c.verdict]), UNPATCHED_SPM_VERDICTS, 'every row, in order, with the stock column\'s verdict');
  t.same(qemuProcesses(dir), [], 'no QEMU left');
});

t.test('--kernel PATH --modules DIR with a compressed (.ko.xz) modules tree: trixie\'s kernel brought by hand', async (t) => {
  const fetched = await runCli(['kernel', 'fetch', '--kernel-suite', 'trixie']);
  t.equal(fetched.exitCode, 0);
  const artifact = JSON.parse(fetched.stdout) as { image: string; modulesDir: string };
  // The root of the unpacked package, as `make modules_install INSTALL_MOD_PATH=DIR` lays it out.
  const installRoot = artifact.modulesDir.replace(/\/usr\/lib\/modules\/[^/]+$/, '');
  const dir = join(base, 'trixie-modules');
  const r = await runCli(['run', '--suite', 'hotplug', '--kernel', artifact.image, '--modules', installRoot, '--results', dir]);
  t.comment(r.stderr.split('\n').filter((l) => /PASS|FAIL|ERROR|SKIP|guest up|capabilities|kernel:/.test(l)).join('\n'));
  t.equal(r.exitCode, 0);
  const s = readJson<RunSummary>(join(dir, 'summary.json'));
  t.equal(s.kernel?.origin, 'prebuilt');
  t.same(s.checks.map((c) => [c.id, c.verdict]), [
    ['hotplug.enumerate', 'pass'],
    ['hotplug.online', 'pass'],
    ['hotplug.place', 'pass'],
    ['hotplug.move-pages', 'pass'],
    ['hotplug.offline', 'pass'],
  ]);
  t.same(qemuProcesses(dir), [], 'no QEMU left');
});

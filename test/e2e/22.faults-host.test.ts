/**
 * Faults on the host side, through the real CLI: missing and too-old QEMU, kernels that are
 * not there / not readable / not kernels, malformed topology and config fragment files, a
 * topology QEMU itself rejects, a full disk under the results dir, and a results dir already
 * used. Each is one clear message naming the cause and the fix, with exit code 2; none boots
 * a guest (QEMU starts once, for the rejected topology), and what the preflight refuses leaves
 * no results dir at all.
 */
import t, { type Test } from 'tap';
import { execa } from 'execa';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { qemuProcesses, ROOT, runCli } from '../lib/cli.js';
import { killQemu, summaryOf } from '../fixtures/spine/harness.js';
import { cacheDir } from '../../src/paths.js';

const base = mkdtempSync(join(tmpdir(), 'cxlh-faults-host-'));

/** A PATH holding node and, optionally, a fake qemu-system-x86_64: nothing else of the host. */
function fakePath(name: string, qemuScript?: string): string {
  // Beside the results dir, not in it: a run never writes into a directory holding other files.
  const bin = join(base, `${name}-bin`);
  mkdirSync(bin, { recursive: true });
  symlinkSync(process.execPath, join(bin, 'node'));
  if (qemuScript) {
    writeFileSync(join(bin, 'qemu-system-x86_64'), `#!/bin/sh\n${qemuScript}\n`);
    chmodSync(join(bin, 'qemu-system-x86_64'), 0o755);
  }
  return bin;
}

/** A refusal before anything started: exit 2, one message and its hint, no results dir. */
function refused(t: Test, r: { exitCode: number | undefined; stderr: string }, dir: string, code: string, message: RegExp | string, hint: RegExp): void {
  t.equal(r.exitCode, 2, `${code}: exit 2`);
  const [first, second, ...rest] = r.stderr.trim().split('\n');
  t.match(first, typeof message === 'string' ? `cxl-harness: error [${code}]: ${message}` : new RegExp(`^cxl-harness: error \\[${code}\\]: ${message.source}`), `${code}: the message`);
  t.match(second, hint, `${code}: the hint`);
  t.same(rest, [], `${code}: nothing else`);
  t.notOk(existsSync(dir), `${code}: no results dir`);
}

t.test('missing QEMU: named, with doctor --fix, before any download', async (t) => {
  const dir = join(base, 'no-qemu');
  const r = await runCli(['run', '--suite', 'hotplug', '--results', dir, '--format', 'none'], { env: { PATH: fakePath('no-qemu') } });
  refused(t, r, dir, 'TOOL_MISSING', 'qemu-system-x86_64 is not installed (or not on PATH)', /^ {2}-> install QEMU >= 8 with `cxl-harness doctor --fix` \(as root; on Debian 12 it comes from bookworm-backports\)$/);
});

t.test('too-old QEMU (7.2, bookworm\'s): named with its version and the fix', async (t) => {
  const dir = join(base, 'old-qemu');
  const bin = fakePath('old-qemu', 'echo "QEMU emulator version 7.2.15 (Debian 1:7.2+dfsg-7+deb12u12)"');
  const r = await runCli(['run', '--results', dir, '--format', 'none'], { env: { PATH: bin } });
  refused(t, r, dir, 'QEMU_TOO_OLD', /.*is QEMU 7\.2; emulated CXL memory \(cxl-type3 volatile-memdev\) needs QEMU >= 8\.0$/, /doctor --fix.*bookworm-backports without changing \/etc\/apt/);
});

t.test('bad --kernel: missing, a directory, not a kernel: each named with the fix', async (t) => {
  const cases: [string, string, string, RegExp][] = [
    ['missing', join(base, 'nope', 'bzImage'), 'KERNEL_MISSING', /^kernel image .*\/nope\/bzImage does not exist$/],
    ['directory', base, 'KERNEL_UNREADABLE', /^kernel image .* cannot be read: it is a directory$/],
    ['not a kernel', join(ROOT, 'package.json'), 'KERNEL_NOT_BZIMAGE', /package\.json is not an x86 bzImage \(no "HdrS" boot header\)$/],
  ];
  for (const [what, kernel, code, message] of cases) {
    const dir = join(base, `kernel-${code}`);
    const r = await runCli(['run', '--suite', 'hotplug', '--kernel', kernel, '--results', dir, '--format', 'none']);
    refused(t, r, dir, code, new RegExp(`.*${message.source.replace(/^\^/, '')}`), /^ {2}-> /);
    t.pass(`${what}: refused`);
  }
});

t.test('malformed topology and config fragment files: file, field or line, and what is allowed', async (t) => {
  const topo = join(base, 'bad-topology.json');
  writeFileSync(topo, JSON.stringify({ name: 'bad', hostBridges: [{ id: 'cxl.0', busNr: 12, rootPorts: [{ id: 'rp0', device: { id: 'm0', kind: 'pmem', sizeMiB: 512 } }] }], windows: [{ targets: ['cxl.0'], sizeMiB: 4096 }] }));
  const dir = join(base, 'bad-topology');
  const r = await runCli(['run', '--topology', topo, '--results', dir, '--format', 'none']);
  refused(t, r, dir, 'TOPOLOGY_INVALID', `topology file ${topo}: hostBridges[0].rootPorts[0].device.kind must be one of volatile, dcd, persistent (got "pmem")`, /presets in .*qemu/);

  // A kernel tree just real enough to get past the source checks, and a fragment with a typo.
  const tree = join(base, 'linux');
  mkdirSync(join(tree, 'arch', 'x86'), { recursive: true });
  mkdirSync(join(tree, 'scripts', 'kconfig'), { recursive: true });
  writeFileSync(join(tree, 'Makefile'), 'VERSION = 7\nPATCHLEVEL = 2\nSUBLEVEL = 0\nEXTRAVERSION =\n');
  writeFileSync(join(tree, 'Kconfig'), '');
  writeFileSync(join(tree, 'arch', 'x86', 'Kconfig'), '');
  const fragment = join(base, 'mine.config');
  writeFileSync(fragment, 'CONFIG_CXL_BUS=y\nCXL_REGION=y\n');
  const k = await runCli(['kernel', 'build', '--kernel-src', tree, '--config-fragment', fragment]);
  t.equal(k.exitCode, 2);
  t.match(k.stderr, `error [CONFIG_FRAGMENT_SYNTAX]: ${fragment}:2: not a config line: "CXL_REGION=y"`);
  t.match(k.stderr, /-> fragment lines look like CONFIG_FOO=y/);
});

t.test('a topology the suite cannot use: named with what it lacks, before any download or boot', async (t) => {
  const dir = join(base, 'unsuited');
  const r = await runCli(['run', '--topology', 'interleave', '--results', dir, '--format', 'none']);
  refused(t, r, dir, 'TOPOLOGY_UNSUITED', /suite spm cannot run on topology interleave \(.*qemu\/interleave\.json\): it needs two CXL regions, C \(the SysRAM control\) and S \(the isolated node\), and topology interleave can make 1$/, /--topology spm-pair/);
  const h = await runCli(['run', '--suite', 'hotplug', '--topology', 'dcd', '--results', join(base, 'unsuited-dcd'), '--format', 'none']);
  t.equal(h.exitCode, 2);
  t.match(h.stderr, /TOPOLOGY_UNSUITED.*suite hotplug cannot run on topology dcd .*a window with a volatile CXL device below each of its host bridges/);
});

t.test('a topology QEMU rejects (windows beyond the 40-bit address space): QEMU\'s words, the file and the fix', async (t) => {
  const topo = join(base, 'huge-windows.json');
  writeFileSync(topo, JSON.stringify({
    name: 'huge-windows',
    hostBridges: [{ id: 'cxl.0', busNr: 12, rootPorts: [{ id: 'rp0', device: { id: 'm0', sizeMiB: 512 } }] }],
    windows: [{ targets: ['cxl.0'], sizeMiB: 1024 * 1024 }, { targets: ['cxl.0'], sizeMiB: 1024 * 1024 }],
  }));
  const dir = join(base, 'rejected');
  t.teardown(() => killQemu(dir));
  const r = await runCli(['run', '--suite', 'hotplug', '--topology', topo, '--results', dir, '--format', 'none']);
  t.equal(r.exitCode, 2);
  const s = summaryOf(dir);
  t.equal(s.error?.code, 'QEMU_EXITED_EARLY');
  t.match(s.error?.message, new RegExp(`^QEMU refused to start topology huge-windows \\(${topo.replace(/[./]/g, '\\$&')}\\), exit code 1:\\n.*phys-bits too low`));
  t.match(s.error?.hint, /make the windows \(windows\[\]\.sizeMiB\) or ramMiB smaller/);
  t.match(s.steps.at(-1), { name: 'boot', status: 'failed' });
  t.same(qemuProcesses(dir), []);
});

t.test('disk full under the results dir: the path and the cause, no corrupt summary', { skip: process.getuid?.() !== 0 ? 'needs root to mount a tmpfs' : false }, async (t) => {
  const mnt = mkdtempSync(join(tmpdir(), 'cxlh-full-cli-'));
  await execa('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
  t.teardown(async () => { await execa('umount', [mnt], { reject: false }); });
  await execa('sh', ['-c', `dd if=/dev/zero of=${mnt}/ballast bs=4k 2>/dev/null; true`]);
  const r = await runCli(['run', '--suite', 'hotplug', '--results', join(mnt, 'run'), '--format', 'none']);
  t.equal(r.exitCode, 2);
  t.match(r.stderr, `cxl-harness: error [RESULTS_UNWRITABLE]: cannot write ${join(mnt, 'run', 'summary.json')}: the disk is full (ENOSPC)`);
  t.match(r.stderr, /-> free space, or choose a results dir on another file system with --results DIR/);
  const { stdout } = await execa('find', [mnt, '-name', '*.tmp-*']);
  t.equal(stdout, '', 'no half-written file left');
});

t.test('a results dir that already holds a run is refused, not mixed', async (t) => {
  const dir = join(base, 'earlier-run');
  mkdirSync(dir);
  writeFileSync(join(dir, 'summary.json'), '{"schema":1,"runId":"earlier"}\n');
  const r = await runCli(['run', '--results', dir, '--format', 'none']);
  t.equal(r.exitCode, 2);
  t.match(r.stderr, `error [RESULTS_DIR_IN_USE]: results dir ${dir} already holds a run (summary.json exists)`);
  t.equal(readFileSync(join(dir, 'summary.json'), 'utf8'), '{"schema":1,"runId":"earlier"}\n', 'the earlier run\'s summary is untouched');
});

t.test('a Debian suite that does not exist is named as such, and leaves nothing in the cache', async (t) => {
  const r = await runCli(['kernel', 'fetch', '--kernel-suite', 'nosuchsuite']);
  t.equal(r.exitCode, 2);
  t.match(r.stderr, /error \[KERNEL_SUITE_UNKNOWN\]: Debian's archive has no suite "nosuchsuite"\n/);
  t.notMatch(r.stderr, /apt-get -o/, 'not the whole apt-get command line');
  t.notOk(existsSync(join(cacheDir('apt'), 'nosuchsuite')), 'no apt state kept for it');
});

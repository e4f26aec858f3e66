/**
 * doctor: QEMU version parsing and comparison, and the apt-get commands --fix runs. On
 * bookworm with a too-old QEMU it uses a private sources list with bookworm-backports,
 * passed with -o: nothing under /etc/apt is ever written.
 */
import t from 'tap';
import { chmodSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkHost, fixCommands, MIN_QEMU, onPath, osRelease, parseQemuVersion, requireQemu, versionAtLeast } from '../../src/host/doctor.js';

t.test('10 parseQemuVersion reads the first line of qemu --version', async (t) => {
  t.same(parseQemuVersion('QEMU emulator version 10.0.2 (Debian 1:10.0.2+ds-2+deb13u1~bpo12+1)\nCopyright (c) 2003-2025'), [10, 0]);
  t.same(parseQemuVersion('QEMU emulator version 7.2.15 (Debian 1:7.2+dfsg-7+deb12u12)'), [7, 2]);
  t.same(parseQemuVersion('QEMU emulator version 8.1.50 (v8.1.0-2364-gdeadbeef)'), [8, 1]);
  t.equal(parseQemuVersion('qemu-system-x86_64: command not found'), undefined);
  t.equal(parseQemuVersion(''), undefined);
});

t.test('20 versionAtLeast compares major, then minor', async (t) => {
  t.same(MIN_QEMU, [8, 0]);
  t.equal(versionAtLeast([10, 0], MIN_QEMU), true);
  t.equal(versionAtLeast([8, 0], MIN_QEMU), true);
  t.equal(versionAtLeast([7, 2], MIN_QEMU), false);
  t.equal(versionAtLeast([9, 0], [9, 1]), false);
  t.equal(versionAtLeast([9, 2], [9, 1]), true);
  t.equal(versionAtLeast([10, 0], [9, 1]), true, 'a higher major wins whatever the minor');
});

t.test('30 osRelease parses /etc/os-release lines, quotes removed', async (t) => {
  t.same(osRelease('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n'), {
    PRETTY_NAME: 'Debian GNU/Linux 12 (bookworm)', VERSION_CODENAME: 'bookworm', ID: 'debian',
  });
});

t.test('40 bookworm with a too-old QEMU: backports through a private list, /etc/apt untouched', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cxlh-doctor-'));
  const system = join(dir, 'etc-apt-sources.list');
  writeFileSync(system, 'deb http://deb.debian.org/debian bookworm main\n');
  const before = statSync(system).mtimeMs;
  const aptDir = join(dir, 'cache', 'apt', 'host');
  const list = join(aptDir, 'sources.list');
  const commands = await fixCommands(['qemu-system-x86', 'mmdebstrap', 'cpio'], true, { codename: 'bookworm', aptDir, systemSourcesList: system });
  t.same(commands, [
    ['apt-get', '-o', `Dir::Etc::SourceList=${list}`, 'update', '-q'],
    ['apt-get', '-o', `Dir::Etc::SourceList=${list}`, 'install', '-y', '-q', '-t', 'bookworm-backports', 'qemu-system-x86'],
    ['apt-get', '-o', `Dir::Etc::SourceList=${list}`, 'install', '-y', '-q', '--no-install-recommends', 'mmdebstrap', 'cpio'],
  ]);
  t.equal(
    readFileSync(list, 'utf8'),
    'deb http://deb.debian.org/debian bookworm main\n\ndeb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-backports main\n',
    'the private list repeats the system list and adds backports',
  );
  t.equal(statSync(system).mtimeMs, before, 'the system list is only read');
  for (const c of commands) t.notOk(c.some((w) => w.includes('/etc/apt')), `no /etc/apt path in: ${c.join(' ')}`);

  // Without a system sources.list (deb822 only), the private list holds just backports.
  const bare = await fixCommands(['qemu-system-x86'], true, { codename: 'bookworm', aptDir: join(dir, 'bare'), systemSourcesList: join(dir, 'absent') });
  t.equal(bare.length, 2);
  t.match(readFileSync(join(dir, 'bare', 'sources.list'), 'utf8'), /^\ndeb \[signed-by=[^\]]+\] http:\/\/deb\.debian\.org\/debian bookworm-backports main\n$/);
});

t.test('50 elsewhere (trixie), or when QEMU is fine: plain apt-get, no private list', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cxlh-doctor-'));
  t.same(await fixCommands(['qemu-system-x86', 'cpio'], true, { codename: 'trixie', aptDir: join(dir, 'a') }), [
    ['apt-get', 'update', '-q'],
    ['apt-get', 'install', '-y', '-q', '--no-install-recommends', 'cpio', 'qemu-system-x86'],
  ]);
  t.same(await fixCommands(['zstd', 'zstd'], false, { codename: 'bookworm', aptDir: join(dir, 'b') }), [
    ['apt-get', 'update', '-q'],
    ['apt-get', 'install', '-y', '-q', '--no-install-recommends', 'zstd'],
  ]);
  t.notOk(existsSync(join(dir, 'a')) || existsSync(join(dir, 'b')), 'no private list written when not needed');
});

t.test('60 requireQemu: a missing, old or broken QEMU is one clear error naming the fix', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cxlh-qemu-'));
  const fake = (name: string, script: string): string => {
    const p = join(dir, name);
    writeFileSync(p, `#!/bin/sh\n${script}\n`);
    chmodSync(p, 0o755);
    return p;
  };
  t.equal(await requireQemu(fake('qemu-new', 'echo "QEMU emulator version 10.0.2 (Debian 1:10.0.2+ds-2)"')), '10.0.2 (Debian 1:10.0.2+ds-2)');
  await t.rejects(requireQemu(fake('qemu-old', 'echo "QEMU emulator version 7.2.15 (Debian 1:7.2+dfsg-7+deb12u12)"')), {
    code: 'QEMU_TOO_OLD',
    message: /is QEMU 7\.2; emulated CXL memory \(cxl-type3 volatile-memdev\) needs QEMU >= 8\.0$/,
    hint: /cxl-harness doctor --fix.*bookworm-backports/,
  });
  await t.rejects(requireQemu(fake('qemu-broken', 'echo "error while loading shared libraries" >&2; exit 127')), {
    code: 'QEMU_BROKEN',
    message: /--version did not print a QEMU version \(exit 127\): error while loading shared libraries/,
    hint: /doctor --fix/,
  });
  await t.rejects(requireQemu(join(dir, 'qemu-absent')), {
    code: 'TOOL_MISSING',
    message: `${join(dir, 'qemu-absent')} is not installed (or not on PATH)`,
    hint: /doctor --fix/,
  });
});

t.test('70 checkHost runs only version flags: a tool without one is found on PATH, never run', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cxlh-tools-'));
  const fake = (name: string, script: string): void => {
    writeFileSync(join(dir, name), `#!/bin/sh\n${script}\n`);
    chmodSync(join(dir, name), 0o755);
  };
  // ssh-keygen without arguments prompts for a file and waits: here it would hang the test.
  fake('ssh-keygen', `touch ${join(dir, 'ran')}; sleep 600`);
  fake('qemu-system-x86_64', 'echo "QEMU emulator version 10.0.2 (fake)"');
  for (const name of ['mmdebstrap', 'mkfs.ext4', 'cpio', 'xz', 'zstd', 'setpriv', 'dpkg-deb']) fake(name, `echo "${name} 1.2.3"`);
  fake('depmod', 'echo "kmod version 30"; echo "+ZSTD +XZ -ZLIB"');
  writeFileSync(join(dir, 'not-executable'), '');
  const saved = process.env.PATH;
  process.env.PATH = `${dir}:${saved ?? ''}`;
  t.teardown(() => { process.env.PATH = saved; });
  const checks = await checkHost();
  t.notOk(existsSync(join(dir, 'ran')), 'ssh-keygen was not executed');
  const byName = new Map(checks.map((c) => [c.name, c]));
  t.same(byName.get('ssh-keygen'), { name: 'ssh-keygen', package: 'openssh-client', ok: true, version: join(dir, 'ssh-keygen') });
  t.equal(byName.get('cpio')?.version, 'cpio 1.2.3');
  t.equal(byName.get('depmod')?.version, 'kmod version 30', 'a version without a dot (kmod) is still shown');
  t.equal(byName.get('qemu-system-x86_64')?.ok, true);
  t.equal(onPath('ssh-keygen'), join(dir, 'ssh-keygen'));
  t.equal(onPath('not-executable', dir), undefined, 'a file without x bit is not a tool');
  t.equal(onPath('cxlh-absent-tool'), undefined);
});

t.test('80 --with-browser: chromium is checked (and installed by --fix) only when asked for', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cxlh-tools-'));
  const fake = (name: string, script: string): void => {
    writeFileSync(join(dir, name), `#!/bin/sh\n${script}\n`);
    chmodSync(join(dir, name), 0o755);
  };
  fake('qemu-system-x86_64', 'echo "QEMU emulator version 10.0.2 (fake)"');
  fake('chromium', 'echo "Chromium 156.0.8078.129 built on Debian GNU/Linux 12 (bookworm)"');
  const saved = process.env.PATH;
  process.env.PATH = `${dir}:${saved ?? ''}`;
  t.teardown(() => { process.env.PATH = saved; });
  t.notOk((await checkHost()).some((c) => c.name === 'chromium'), 'no run needs a browser: not checked by default');
  const browser = (await checkHost({ browser: true })).find((c) => c.name === 'chromium');
  t.same(browser, { name: 'chromium', package: 'chromium', ok: true, version: 'Chromium 156.0.8078.129 built on Debian GNU/Linux 12 (bookworm)' });
  t.same(await fixCommands(['chromium'], false, { codename: 'bookworm', aptDir: join(dir, 'apt') }), [
    ['apt-get', 'update', '-q'],
    ['apt-get', 'install', '-y', '-q', '--no-install-recommends', 'chromium'],
  ], 'Debian\'s own package, from the main archive');
});

/**
 * `cxl-harness doctor [--fix] [--with-browser]`: what the host needs, what it has, and (as
 * root, with --fix) installing what is missing. QEMU >= 8 is needed for volatile-memdev; on
 * Debian 12 that means bookworm-backports, which --fix adds for its own apt-get calls only (a
 * private sources list passed with -o), never by writing /etc/apt. A browser is needed by no
 * run, only by the test that loads report.html in one: it counts when asked for.
 */
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HarnessError } from '../errors.js';
import { HOST_PACKAGES } from '../kernel/toolchain.js';
import { DEBIAN_MIRROR } from '../kernel/apt.js';
import { cacheDir } from '../paths.js';
import { hostPath, run } from '../exec.js';

export const MIN_QEMU: [number, number] = [8, 0];
/** A `--version` that takes longer than this is a broken tool, not a slow one. */
const VERSION_TIMEOUT_MS = 30_000;

export interface ToolCheck {
  name: string;
  /** Debian package that provides it. */
  package: string;
  ok: boolean;
  version?: string;
  problem?: string;
}

/** What the run path needs (the kernel build tools come from kernel/toolchain.ts). */
const RUN_TOOLS: { name: string; package: string; versionArgs?: string[] }[] = [
  { name: 'qemu-system-x86_64', package: 'qemu-system-x86', versionArgs: ['--version'] },
  { name: 'mmdebstrap', package: 'mmdebstrap', versionArgs: ['--version'] },
  { name: 'mkfs.ext4', package: 'e2fsprogs', versionArgs: ['-V'] },
  { name: 'cpio', package: 'cpio', versionArgs: ['--version'] },
  { name: 'depmod', package: 'kmod', versionArgs: ['--version'] },
  { name: 'xz', package: 'xz-utils', versionArgs: ['--version'] },
  { name: 'zstd', package: 'zstd', versionArgs: ['--version'] },
  // ssh-keygen has no version flag and prompts without arguments: found on PATH, not run.
  { name: 'ssh-keygen', package: 'openssh-client' },
  { name: 'setpriv', package: 'util-linux', versionArgs: ['--version'] },
  { name: 'dpkg-deb', package: 'dpkg', versionArgs: ['--version'] },
];

/** Debian's chromium: the browser test of report.html (test/host/report.html-browser.test.ts) loads the page in it headless. */
const BROWSER_TOOL = { name: 'chromium', package: 'chromium', versionArgs: ['--version'] };

export interface HostNeeds {
  /** A headless browser too (--with-browser). */
  browser?: boolean;
}

/** Parse "QEMU emulator version 10.0.2 (Debian ...)" -> [10, 0]. */
export function parseQemuVersion(text: string): [number, number] | undefined {
  const m = /version (\d+)\.(\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

export function versionAtLeast(v: [number, number], min: [number, number]): boolean {
  return v[0] > min[0] || (v[0] === min[0] && v[1] >= min[1]);
}

export async function checkHost(needs: HostNeeds = {}): Promise<ToolCheck[]> {
  const checks: ToolCheck[] = [];
  for (const tool of needs.browser ? [...RUN_TOOLS, BROWSER_TOOL] : RUN_TOOLS) {
    if (!tool.versionArgs) {
      const path = onPath(tool.name);
      checks.push(path ? { name: tool.name, package: tool.package, ok: true, version: path } : { name: tool.name, package: tool.package, ok: false, problem: 'not installed' });
      continue;
    }
    const r = await run(tool.name, tool.versionArgs, { reject: false, timeoutMs: VERSION_TIMEOUT_MS }).catch((e: unknown) => {
      if (e instanceof HarnessError && e.code === 'TOOL_MISSING') return undefined;
      throw e;
    });
    if (!r) {
      checks.push({ name: tool.name, package: tool.package, ok: false, problem: 'not installed' });
      continue;
    }
    if (r.timedOut) {
      checks.push({ name: tool.name, package: tool.package, ok: false, problem: `\`${tool.name} ${tool.versionArgs.join(' ')}\` did not answer within ${VERSION_TIMEOUT_MS / 1000} s` });
      continue;
    }
    const version = (r.stdout + r.stderr).split('\n').find((l) => /\d+\.\d+|version \d+/.test(l))?.trim();
    const check: ToolCheck = { name: tool.name, package: tool.package, ok: true, ...(version ? { version } : {}) };
    if (tool.name === 'qemu-system-x86_64') {
      const v = parseQemuVersion(r.stdout);
      if (!v || !versionAtLeast(v, MIN_QEMU)) {
        check.ok = false;
        check.problem = `QEMU ${v ? v.join('.') : '?'} is too old: CXL volatile-memdev needs >= ${MIN_QEMU.join('.')}`;
      }
    }
    checks.push(check);
  }
  if (!existsSync('/usr/share/keyrings/debian-archive-keyring.gpg')) {
    checks.push({ name: 'debian-archive-keyring', package: 'debian-archive-keyring', ok: false, problem: 'not installed (needed to verify Debian packages)' });
  }
  return checks;
}

/**
 * Preflight of every command that boots a guest: QEMU is there and new enough. One clear
 * error naming the cause and the fix, before any download or build. Returns the version line.
 */
export async function requireQemu(qemu = 'qemu-system-x86_64'): Promise<string> {
  const r = await run(qemu, ['--version'], {
    reject: false,
    hint: 'install QEMU >= 8 with `cxl-harness doctor --fix` (as root; on Debian 12 it comes from bookworm-backports)',
  });
  const v = parseQemuVersion(r.stdout);
  if (r.exitCode !== 0 || !v) {
    throw new HarnessError('QEMU_BROKEN', `${qemu} --version did not print a QEMU version (exit ${r.exitCode}): ${(r.stdout + r.stderr).trim().slice(0, 200)}`, {
      hint: 'reinstall QEMU with `cxl-harness doctor --fix` (as root)',
      context: { qemu },
    });
  }
  if (!versionAtLeast(v, MIN_QEMU)) {
    throw new HarnessError('QEMU_TOO_OLD', `${qemu} is QEMU ${v.join('.')}; emulated CXL memory (cxl-type3 volatile-memdev) needs QEMU >= ${MIN_QEMU.join('.')}`, {
      hint: 'run `cxl-harness doctor --fix` as root (on Debian 12 it installs QEMU 10 from bookworm-backports without changing /etc/apt)',
      context: { qemu, version: v.join('.') },
    });
  }
  return r.stdout.split('\n')[0]!.replace(/^QEMU emulator version\s*/, '').trim();
}

export function osRelease(text = existsSync('/etc/os-release') ? readFileSync('/etc/os-release', 'utf8') : ''): Record<string, string> {
  return Object.fromEntries(text.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).replace(/^"|"$/g, '')]));
}

export interface FixHost {
  /** Debian codename (default: VERSION_CODENAME of /etc/os-release). */
  codename?: string;
  /** Where the private sources list goes (default: <cache>/apt/host). */
  aptDir?: string;
  /** The system's main sources list, read, never written (default /etc/apt/sources.list). */
  systemSourcesList?: string;
}

/** The apt-get commands --fix runs (exported so the README and tests say the same). */
export async function fixCommands(missingPackages: string[], needNewQemu: boolean, host: FixHost = {}): Promise<string[][]> {
  const codename = host.codename ?? osRelease().VERSION_CODENAME ?? 'bookworm';
  const commands: string[][] = [];
  const others = missingPackages.filter((p) => p !== 'qemu-system-x86' || !needNewQemu);
  let aptOptions: string[] = [];
  if (needNewQemu && codename === 'bookworm') {
    // bookworm's QEMU 7.2 lacks volatile-memdev: take qemu-system-x86 from bookworm-backports (10.0).
    // apt-get still reads /etc/apt/sources.list.d; the private list replaces only the main file,
    // so it repeats that file's entries and adds backports.
    const dir = host.aptDir ?? join(cacheDir('apt'), 'host');
    await mkdir(dir, { recursive: true });
    const list = join(dir, 'sources.list');
    const systemList = host.systemSourcesList ?? '/etc/apt/sources.list';
    const system = existsSync(systemList) ? readFileSync(systemList, 'utf8') : '';
    await writeFile(list, `${system}\ndeb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${DEBIAN_MIRROR} bookworm-backports main\n`);
    aptOptions = ['-o', `Dir::Etc::SourceList=${list}`];
    commands.push(['apt-get', ...aptOptions, 'update', '-q']);
    commands.push(['apt-get', ...aptOptions, 'install', '-y', '-q', '-t', 'bookworm-backports', 'qemu-system-x86']);
  } else {
    commands.push(['apt-get', 'update', '-q']);
    if (needNewQemu) others.push('qemu-system-x86');
  }
  if (others.length) commands.push(['apt-get', ...aptOptions, 'install', '-y', '-q', '--no-install-recommends', ...new Set(others)]);
  return commands;
}

export async function doctor(fix: boolean, print: (line: string) => void, needs: HostNeeds = {}): Promise<number> {
  let checks = await checkHost(needs);
  const buildMissing = HOST_PACKAGES.filter((p) => !dpkgInstalled(p));
  for (const c of checks) print(`${c.ok ? 'ok     ' : 'MISSING'} ${c.name.padEnd(22)} ${c.ok ? c.version ?? '' : `${c.problem} (package ${c.package})`}`);
  print(`${buildMissing.length ? 'MISSING' : 'ok     '} kernel build tools      ${buildMissing.length ? buildMissing.join(' ') : HOST_PACKAGES.length + ' packages'} (only for --kernel-src builds)`);
  print(`kvm: ${existsSync('/dev/kvm') ? '/dev/kvm exists (TCG is still the default: CXL memory faults under KVM)' : 'absent (TCG is used)'}`);
  if (!needs.browser) {
    const browser = onPath(BROWSER_TOOL.name);
    print(`browser: ${browser ?? 'chromium absent'} (only the browser test of report.html uses it; doctor --fix --with-browser installs it)`);
  }
  const bad = checks.filter((c) => !c.ok);
  if (!bad.length && !buildMissing.length) return 0;
  const needNewQemu = bad.some((c) => c.package === 'qemu-system-x86');
  const commands = await fixCommands([...bad.map((c) => c.package), ...buildMissing], needNewQemu);
  if (!fix) {
    print(`\nto install what is missing, run as root:  cxl-harness doctor --fix${needs.browser ? ' --with-browser' : ''}`);
    print('which runs:');
    for (const c of commands) print(`  ${c.join(' ')}`);
    return bad.length ? 2 : 0;
  }
  if (process.getuid?.() !== 0) {
    throw new HarnessError('NOT_ROOT', 'doctor --fix installs packages and needs root', { hint: `run as root, or run these yourself:\n${commands.map((c) => '  ' + c.join(' ')).join('\n')}` });
  }
  for (const c of commands) {
    print(`$ ${c.join(' ')}`);
    await run(c[0]!, c.slice(1), { env: { DEBIAN_FRONTEND: 'noninteractive' }, timeoutMs: 30 * 60 * 1000, errorCode: 'HOST_INSTALL_FAILED', hint: 'check that the Debian archive is reachable' });
  }
  checks = await checkHost(needs);
  const still = checks.filter((c) => !c.ok);
  for (const c of still) print(`still missing: ${c.name}: ${c.problem}`);
  return still.length ? 2 : 0;
}

/** The first executable `name` on the PATH the harness runs with (sbin included), or undefined. */
export function onPath(name: string, path = hostPath()): string | undefined {
  for (const dir of path.split(':').filter(Boolean)) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

function dpkgInstalled(pkg: string): boolean {
  return existsSync(`/var/lib/dpkg/info/${pkg}.list`) || existsSync(`/var/lib/dpkg/info/${pkg}:amd64.list`);
}

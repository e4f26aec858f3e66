/**
 * The host tools a kernel configure or build needs, each with the Debian package that provides
 * it, checked before make starts so that a missing one is named with its package instead of a
 * make error 300 lines into the log. Also the toolchain's identity for cache keys.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { HarnessError } from '../errors.js';
import { run } from '../exec.js';

export interface HostRequirement {
  /** A program on PATH, or an absolute header path. */
  need: string;
  package: string;
  phase: 'configure' | 'build';
  /** Only needed when this .config symbol is y (e.g. pahole for BTF). */
  whenConfig?: string;
}

/** The Debian packages behind every tool the x86_64 kernel build may call. */
export const HOST_REQUIREMENTS: readonly HostRequirement[] = [
  { need: 'gcc', package: 'gcc', phase: 'configure' },
  { need: 'make', package: 'make', phase: 'configure' },
  { need: 'flex', package: 'flex', phase: 'configure' },
  { need: 'bison', package: 'bison', phase: 'configure' },
  { need: 'ld', package: 'binutils', phase: 'configure' },
  { need: 'bc', package: 'bc', phase: 'build' },
  { need: 'perl', package: 'perl', phase: 'build' },
  { need: 'cpio', package: 'cpio', phase: 'build' },
  { need: 'xz', package: 'xz-utils', phase: 'build' },
  { need: '/usr/include/gelf.h', package: 'libelf-dev', phase: 'build' },
  { need: '/usr/include/openssl/opensslv.h', package: 'libssl-dev', phase: 'build' },
  { need: 'depmod', package: 'kmod', phase: 'build', whenConfig: 'MODULES' },
  { need: 'pahole', package: 'dwarves', phase: 'build', whenConfig: 'DEBUG_INFO_BTF' },
  { need: 'rsync', package: 'rsync', phase: 'build', whenConfig: 'IKHEADERS' },
];

/** Every package the harness may ask for (for `apt-get install` in CI and the README). */
export const HOST_PACKAGES = [...new Set(HOST_REQUIREMENTS.map((r) => r.package))];

function onPath(program: string, path = process.env.PATH ?? ''): boolean {
  return path.split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, program), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The requirements of a phase that are not met on this host. */
export function missingHostTools(phase: 'configure' | 'build', config: ReadonlyMap<string, string> = new Map()): HostRequirement[] {
  const phases = phase === 'configure' ? ['configure'] : ['configure', 'build'];
  return HOST_REQUIREMENTS.filter((r) => phases.includes(r.phase))
    .filter((r) => !r.whenConfig || config.get(r.whenConfig) === 'y')
    .filter((r) => (r.need.startsWith('/') ? !existsSync(r.need) : !onPath(r.need)));
}

export function assertHostTools(phase: 'configure' | 'build', config?: ReadonlyMap<string, string>): void {
  const missing = missingHostTools(phase, config);
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((m) => m.package))];
  throw new HarnessError(
    'TOOLCHAIN_MISSING',
    `cannot ${phase} the kernel: missing ${missing.map((m) => `${m.need} (Debian package ${m.package})`).join(', ')}`,
    { hint: `install them as root: apt-get install ${packages.join(' ')}`, context: { missing, packages } },
  );
}

/** First lines of `gcc --version` and `ld --version`: part of every build's cache key. */
export async function toolchainIdentity(cc = 'gcc', ld = 'ld'): Promise<string> {
  const first = async (p: string): Promise<string> => (await run(p, ['--version'])).stdout.split('\n')[0]!.trim();
  return `${await first(cc)}\n${await first(ld)}`;
}

/**
 * The guest tree for ndctl's own CXL test suite (run --suite ndctl): the default tree, plus what
 * building ndctl with its tests and running them takes, and ndctl built in that tree (a chroot of
 * the guest's own release: its libraries are the ones the tests run against) at /opt/ndctl. The
 * tests run the build tree's binaries and bake its absolute path in, so the tree is built where
 * the guest runs it. The source is the upstream tarball of the guest release's ndctl source
 * package, checked against the sha256 in Debian's signed Sources index; cached by that sum.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cached, sha256 } from '../cache.js';
import { HarnessError } from '../errors.js';
import { run } from '../exec.js';
import { DEBIAN_MIRROR, parseControl, privateApt } from '../kernel/apt.js';
import { packageRoot } from '../paths.js';
import { DEFAULT_RECIPE, type RootfsRecipe } from './recipe.js';

export const NDCTL_DIR = '/opt/ndctl';
export const NDCTL_BUILD = `${NDCTL_DIR}/build`;

/** What meson needs to configure and build ndctl with its tests (Debian's Build-Depends, docs and systemd left out). */
const BUILD_PACKAGES = [
  'gcc', 'libc6-dev', 'meson', 'ninja-build', 'pkgconf', 'libkmod-dev', 'libudev-dev', 'uuid-dev', 'libjson-c-dev',
  'libiniparser-dev', 'libkeyutils-dev', 'libtraceevent-dev', 'libtracefs-dev',
];
/**
 * What the cxl tests call besides the build tree: jq (nearly every test), keyctl (cxl-security),
 * uuidgen (cxl-region-sysfs), and udev: `modprobe cxl_test` only makes platform devices (cxl_mem.N ...); their drivers
 * (cxl_mock_mem) load by modalias, which is udev's work, and cxl-xor-region runs udevadm settle.
 */
const TEST_PACKAGES = ['jq', 'keyutils', 'uuid-runtime', 'udev'];

/** The guest has no journald; the tests' check_dmesg asks journalctl for the kernel log of the last seconds. */
const JOURNALCTL = join(packageRoot, 'guest-scripts', 'journalctl');

export interface NdctlSource {
  /** The unpacked upstream tree. */
  dir: string;
  version: string;
  /** sha256 of the tarball. */
  sha256: string;
}

/** ndctl's source, as the guest release's source package has it (its upstream tarball). */
export async function ndctlSource(suite = DEFAULT_RECIPE.suite, log?: (line: string) => void): Promise<NdctlSource> {
  const apt = await privateApt(suite, DEBIAN_MIRROR, { sources: true });
  const shown = await run('apt-cache', [...apt.options, 'showsrc', '--only-source', 'ndctl'], { reject: false });
  const fields = shown.exitCode === 0 ? parseControl(shown.stdout) : {};
  const orig = (fields['Checksums-Sha256'] ?? '').split('\n').map((l) => l.trim().split(/\s+/)).find((p) => p[2]?.endsWith('.orig.tar.gz') || p[2]?.endsWith('.orig.tar.xz'));
  if (!fields.Version || !fields.Directory || !orig) {
    throw new HarnessError('NDCTL_SOURCE_UNKNOWN', `Debian ${suite} has no ndctl source package in its Sources index`, {
      hint: `check that ${DEBIAN_MIRROR} serves ${suite}/main/source`,
      context: { suite, stdout: shown.stdout.slice(0, 2000), stderr: shown.stderr.slice(0, 2000) },
    });
  }
  const [sum, , file] = orig as [string, string, string];
  const version = fields.Version;
  const entry = await cached('ndctl-src', sum, async (dir) => {
    log?.(`downloading ndctl ${version}'s source (${file}) from Debian ${suite}`);
    const url = `${DEBIAN_MIRROR}/${fields.Directory}/${file}`;
    const response = await fetch(url);
    const bytes = Buffer.from(await response.arrayBuffer());
    if (!response.ok || sha256(bytes) !== sum) {
      throw new HarnessError('NDCTL_SOURCE_FAILED', `${url}: ${response.ok ? `sha256 ${sha256(bytes)}, the Sources index says ${sum}` : `HTTP ${response.status}`}`, {
        hint: `check that ${DEBIAN_MIRROR} is reachable; run again`,
        context: { url },
      });
    }
    await writeFile(join(dir, file), bytes);
    await mkdir(join(dir, 'src'));
    await run('tar', ['-xf', join(dir, file), '-C', join(dir, 'src'), '--strip-components=1']);
  }, { version, file });
  return { dir: join(entry.dir, 'src'), version, sha256: sum };
}

/**
 * The recipe of the ndctl test tree: the default packages, ndctl's build and test needs, and
 * hooks that copy the source and the journalctl stand-in in and build ndctl in a chroot of the
 * tree (meson -Dtest=enabled -Ddestructive=enabled: the firmware-update test too).
 */
export async function ndctlRecipe(log?: (line: string) => void): Promise<RootfsRecipe> {
  const source = await ndctlSource(DEFAULT_RECIPE.suite, log);
  if (!existsSync(JOURNALCTL)) throw new HarnessError('HARNESS_BUG', `${JOURNALCTL} is missing from the package`);
  // The hooks name what they copy in by content-addressed paths (the source by its tarball's
  // sha256, the stand-in by its own), so the recipe's key is the same from every checkout.
  const script = await readFile(JOURNALCTL);
  const journalctl = await cached('guest-files', sha256(script), (dir) => writeFile(join(dir, 'journalctl'), script, { mode: 0o755 }));
  return {
    ...DEFAULT_RECIPE,
    packages: [...DEFAULT_RECIPE.packages, ...BUILD_PACKAGES, ...TEST_PACKAGES],
    customize: [
      `mkdir -p "$1${NDCTL_DIR}" "$1/usr/local/bin"`,
      `copy-in ${source.dir} ${NDCTL_DIR}`,
      `copy-in ${join(journalctl.dir, 'journalctl')} /usr/local/bin`,
      `chroot "$1" meson setup ${NDCTL_BUILD} ${NDCTL_DIR}/src -Dtest=enabled -Ddestructive=enabled -Ddocs=disabled -Dsystemd=disabled`,
      `chroot "$1" meson compile -C ${NDCTL_BUILD}`,
    ],
  };
}

/**
 * The small first-stage initramfs: busybox, the modules the root disk needs (virtio_pci,
 * virtio_blk, ext4), and guest-scripts/initramfs-init.sh as /init. Cached per kernel modules + busybox.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { cached, hashParts } from '../cache.js';
import { HarnessError } from '../errors.js';
import type { KernelArtifact } from '../kernel/artifact.js';
import { packageRoot } from '../paths.js';
import { run } from '../exec.js';
import { loadOrder, MODULE_INDEX_FILES, parseModuleIndex, type ModuleFiles } from './modules.js';

/** The PCI transport too: built into sid's and trixie's kernels, a module in bookworm's 6.1. */
export const ROOT_DISK_MODULES = ['virtio_pci', 'virtio_blk', 'ext4'];

/**
 * The index files of a modules directory; without one (a bzImage given alone), the root disk
 * drivers are taken to be built in, and the guest says so if they are not.
 */
async function readModuleFiles(modulesDir: string | undefined): Promise<ModuleFiles> {
  if (!modulesDir) return { dep: '', builtin: ROOT_DISK_MODULES.map((m) => `${m}.ko`).join('\n') };
  const files = {} as ModuleFiles;
  for (const [key, name] of Object.entries(MODULE_INDEX_FILES) as Array<[keyof ModuleFiles, string]>) {
    files[key] = await readFile(join(modulesDir, name), key === 'builtinModinfo' ? 'latin1' : 'utf8').catch(() => '');
  }
  return files;
}

export async function buildInitramfs(kernel: KernelArtifact, busybox: string): Promise<string> {
  const initScript = await readFile(join(packageRoot, 'guest-scripts', 'initramfs-init.sh'));
  const index = parseModuleIndex(await readModuleFiles(kernel.modulesDir));
  const { files, missing } = loadOrder(index, ROOT_DISK_MODULES);
  if (missing.length) {
    const where = kernel.modulesDir
      ? `no built-in entry in ${kernel.modulesDir}/modules.builtin(.modinfo), no file in ${kernel.modulesDir}/modules.dep and no alias in modules.alias`
      : 'no --modules directory was given, so they must be built in';
    throw new HarnessError('KERNEL_LACKS_ROOT_DRIVERS', `kernel ${kernel.release ?? kernel.image} has neither built-in nor module ${missing.join(', ')} (${where}), needed to mount the guest's root disk`, {
      hint: kernel.modulesDir
        ? `check ${kernel.modulesDir}/modules.dep (run depmod), or build the kernel with kernel-config/cxl.config`
        : 'pass --modules DIR with the kernel\'s modules, or build it with kernel-config/cxl.config (virtio_blk and ext4 built in)',
      context: { missing, modulesDir: kernel.modulesDir },
    });
  }
  const key = hashParts({
    init: initScript,
    busybox: await readFile(busybox),
    modules: files.join('\n'),
    modulesDir: kernel.modulesDir ?? '',
    kernel: kernel.image,
  });
  const entry = await cached('initramfs', key, async (dir) => {
    const stage = join(dir, 'stage');
    await mkdir(join(stage, 'bin'), { recursive: true });
    await mkdir(join(stage, 'modules'), { recursive: true });
    await copyFile(busybox, join(stage, 'bin', 'busybox'));
    await chmod(join(stage, 'bin', 'busybox'), 0o755);
    await writeFile(join(stage, 'init'), initScript, { mode: 0o755 });
    const plain: string[] = [];
    for (const rel of files) {
      const src = join(kernel.modulesDir!, rel);
      const name = rel.split('/').pop()!.replace(/\.(xz|zst|gz)$/, '');
      const out = join(stage, 'modules', name);
      // busybox insmod cannot decompress: store plain .ko files.
      if (rel.endsWith('.xz')) await run('sh', ['-c', 'xz -dc "$1" > "$2"', 'sh', src, out]);
      else if (rel.endsWith('.zst')) await run('sh', ['-c', 'zstd -qdc "$1" > "$2"', 'sh', src, out]);
      else if (rel.endsWith('.gz')) await run('sh', ['-c', 'gzip -dc "$1" > "$2"', 'sh', src, out]);
      else await copyFile(src, out);
      plain.push(name);
    }
    await writeFile(join(stage, 'modules.load'), plain.join('\n') + '\n');
    await run('sh', ['-c', 'cd "$1" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0 > "$2"', 'sh', stage, join(dir, 'initramfs.cpio')], {
      errorCode: 'INITRAMFS_FAILED',
      hint: 'install cpio (apt-get install cpio)',
    });
  });
  const out = join(entry.dir, 'initramfs.cpio');
  if (!existsSync(out)) throw new HarnessError('INITRAMFS_FAILED', `initramfs ${out} is missing from the cache`, { hint: 'remove the cache entry and run again' });
  return out;
}

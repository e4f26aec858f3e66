/** A kernel the user brings: `--kernel PATH` (bzImage) and optionally `--modules DIR`. */
import { existsSync } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { HarnessError } from '../errors.js';
import type { KernelArtifact } from './artifact.js';

/**
 * Read the release string from an x86 bzImage header: "HdrS" at 0x202, and the
 * kernel_version pointer at 0x20e (offset from 0x200). Undefined when it is not a bzImage.
 */
export function bzImageRelease(head: Buffer): string | undefined | null {
  if (head.length < 0x210 || head.toString('latin1', 0x202, 0x206) !== 'HdrS') return null;
  const ptr = head.readUInt16LE(0x20e);
  if (!ptr) return undefined;
  const at = ptr + 0x200;
  if (at >= head.length) return undefined;
  const end = head.indexOf(0, at);
  const text = head.toString('latin1', at, end < 0 ? Math.min(head.length, at + 256) : end);
  return text.split(' ')[0] || undefined;
}

export async function prebuiltKernel(imagePath: string, modules?: string): Promise<KernelArtifact> {
  if (!existsSync(imagePath)) {
    throw new HarnessError('KERNEL_MISSING', `kernel image ${imagePath} does not exist`, {
      hint: 'pass the path of a bzImage (arch/x86/boot/bzImage of a build, or /boot/vmlinuz-*)',
    });
  }
  let head: Buffer;
  try {
    const fh = await open(imagePath, 'r');
    try {
      head = Buffer.alloc(64 * 1024);
      const { bytesRead } = await fh.read(head, 0, head.length, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new HarnessError('KERNEL_UNREADABLE', `kernel image ${imagePath} cannot be read: ${code === 'EISDIR' ? 'it is a directory' : (cause as Error).message}`, {
      hint: code === 'EISDIR' ? 'pass the bzImage file itself (e.g. DIR/arch/x86/boot/bzImage), not a directory' : 'check the file permissions',
      cause,
    });
  }
  const release = bzImageRelease(head);
  if (release === null) {
    throw new HarnessError('KERNEL_NOT_BZIMAGE', `${imagePath} is not an x86 bzImage (no "HdrS" boot header)`, {
      hint: 'pass arch/x86/boot/bzImage (or /boot/vmlinuz-*), not vmlinux, a module or a compressed archive',
      context: { size: head.length, magic: head.subarray(0, 4).toString('hex') },
    });
  }
  const modulesDir = modules ? await resolveModulesDir(modules, release) : undefined;
  const rel = release ?? (modulesDir ? modulesDir.split('/').pop() : undefined);
  return { image: imagePath, release: rel, modulesDir, config: undefined, identity: { origin: 'prebuilt', release: rel, imagePath, patches: [], patchsetHash: '' } };
}

/** Accept either the release's modules dir itself or an INSTALL_MOD_PATH root holding lib/modules/<release>. */
async function resolveModulesDir(dir: string, release: string | undefined): Promise<string> {
  const candidates = [dir];
  for (const base of [join(dir, 'lib', 'modules'), join(dir, 'usr', 'lib', 'modules')]) {
    if (existsSync(base)) {
      const rels = await readdir(base);
      candidates.push(...(release && rels.includes(release) ? [release] : rels).map((r) => join(base, r)));
    }
  }
  const found = candidates.find((c) => existsSync(join(c, 'modules.dep')));
  if (!found) {
    throw new HarnessError('MODULES_INVALID', `no modules.dep found in ${dir}${release ? ` for ${release}` : ''}`, {
      hint: 'pass the directory made by `make modules_install INSTALL_MOD_PATH=DIR` (depmod runs there), or run depmod on it',
      context: { dir, release },
    });
  }
  return found;
}

/** The kernel entries of `matrix --kernels`: each one a set of `cxl-harness run` kernel options. */
import type { HarnessError } from '../errors.js';
import { usageError } from './args.js';
import type { KernelValues } from './options.js';

export const KERNEL_ENTRY_HELP = `Kernel entries (--kernels, comma-separated; each becomes \`cxl-harness run\` kernel options):
  distro                        Debian sid's linux-image-amd64 (run's default)
  distro:SUITE                  --kernel-suite SUITE                 e.g. distro:trixie
  distro:SUITE:PACKAGE          --kernel-suite SUITE --kernel-package PACKAGE
                                                                    e.g. distro:sid:linux-image-amd64
  distro::PACKAGE               --kernel-package PACKAGE (suite sid)
  debian-source:PKG[:SUITE]     --kernel-debian-source PKG [--kernel-suite SUITE]  e.g. debian-source:linux-source-7.2
  src:DIR                       --kernel-src DIR (built with the run options --patches/--config-fragment)
  bzimage:PATH[:MODULES_DIR]    --kernel PATH [--modules MODULES_DIR]
  PATH                          any entry containing "/" (./bzImage, /boot/vmlinuz-6.12): --kernel PATH
Entries may not contain "," (the list separator).`;

function entryError(entry: string, why: string): HarnessError {
  return usageError('cxl-harness matrix', `kernel entry "${entry}": ${why}`, 'the kernel entries are listed under "Kernel entries"');
}

/** A kernel entry (see KERNEL_ENTRY_HELP) as the run options it stands for. */
export function kernelEntry(entry: string): KernelValues {
  const e = entry.trim();
  if (e === '') throw entryError(entry, 'empty');
  if (e.includes(',')) throw entryError(entry, 'contains ","');
  const [kind, ...rest] = e.split(':');
  switch (kind) {
    case 'distro': {
      if (rest.length > 2) throw entryError(entry, 'distro takes at most SUITE and PACKAGE');
      const [suite, pkg] = rest;
      return { ...(suite ? { 'kernel-suite': suite } : {}), ...(pkg ? { 'kernel-package': pkg } : {}) };
    }
    case 'debian-source': {
      const [pkg, suite, ...more] = rest;
      if (!pkg || more.length > 0) throw entryError(entry, 'write debian-source:PKG or debian-source:PKG:SUITE');
      return { 'kernel-debian-source': pkg, ...(suite ? { 'kernel-suite': suite } : {}) };
    }
    case 'src': {
      const dir = rest.join(':');
      if (!dir) throw entryError(entry, 'write src:DIR');
      return { 'kernel-src': dir };
    }
    case 'bzimage': {
      const [path, modules, ...more] = rest;
      if (!path || more.length > 0) throw entryError(entry, 'write bzimage:PATH or bzimage:PATH:MODULES_DIR');
      return { kernel: path, ...(modules ? { modules } : {}) };
    }
    default:
      if (e.includes('/')) return { kernel: e };
      throw entryError(entry, `unknown kind "${kind}"`);
  }
}

/**
 * The guest root filesystem recipe: what Debian suite and packages the guest has.
 * The recipe's hash is the cache key of the root tree; change anything here and the
 * tree is rebuilt once.
 */
import { hashParts } from '../cache.js';
import { DEBIAN_MIRROR } from '../kernel/apt.js';

export interface RootfsRecipe {
  /** trixie or newer: ndctl >= 81 (ram regions) needs glibc >= 2.38. */
  suite: string;
  mirror: string;
  variant: 'minbase';
  packages: string[];
  /** dpkg path-exclude patterns that keep the tree small. */
  excludes: string[];
  /**
   * mmdebstrap --customize-hook commands run on the finished tree (`$1` is its root): copy-in,
   * chroot "$1" ...; what builds software into the tree (the ndctl test tree, image/ndctl.ts).
   * Anything they read from the host must be named in them by a content-addressed path.
   */
  customize?: string[];
}

export const DEFAULT_RECIPE: RootfsRecipe = {
  suite: 'trixie',
  mirror: DEBIAN_MIRROR,
  variant: 'minbase',
  packages: [
    'ndctl', 'cxl', 'daxctl', // region/dax control (v81: can create ram regions)
    'numactl', // numactl --membind/--interleave checks
    'openssh-server', // guest control
    'busybox-static', // the initramfs's shell and switch_root
    'kmod', 'iproute2', 'procps', 'util-linux',
  ],
  excludes: ['/usr/share/doc/*', '/usr/share/man/*', '/usr/share/locale/*', '/usr/share/info/*'],
};

export function recipeKey(recipe: RootfsRecipe): string {
  return hashParts({ recipe: JSON.stringify(recipe), version: '1' });
}

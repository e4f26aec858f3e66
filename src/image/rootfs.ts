/** Build (once, cached by recipe) the Debian root tree of the guest with mmdebstrap. */
import { join } from 'node:path';
import { cached, type CacheEntry } from '../cache.js';
import { assertRoot } from '../kernel/apt.js';
import { run } from '../exec.js';
import { progress } from '../progress.js';
import { recipeKey, type RootfsRecipe } from './recipe.js';

export interface RootTree extends CacheEntry {
  /** The root directory of the tree. */
  tree: string;
}

export async function rootTree(recipe: RootfsRecipe, log?: (line: string) => void): Promise<RootTree> {
  const key = recipeKey(recipe);
  const entry = await cached(
    'rootfs',
    key,
    async (dir) => {
      assertRoot('building the guest root tree (mmdebstrap)');
      log?.(`building the ${recipe.suite} root tree with mmdebstrap (about 20-60 s, once per recipe)`);
      await run(
        'mmdebstrap',
        [
          '--mode=root',
          `--variant=${recipe.variant}`,
          `--include=${recipe.packages.join(',')}`,
          ...recipe.excludes.map((p) => `--dpkgopt=path-exclude=${p}`),
          ...(recipe.customize ?? []).map((h) => `--customize-hook=${h}`),
          recipe.suite,
          join(dir, 'tree'),
          recipe.mirror,
        ],
        {
          timeoutMs: 30 * 60 * 1000,
          logFile: join(dir, 'mmdebstrap.log'),
          // mmdebstrap says what it is doing ("I: installing remaining packages inside the chroot...").
          onLine: (line) => { if (line.trim()) progress.update(`root tree: ${line.trim()}`); },
          errorCode: 'ROOTFS_BUILD_FAILED',
          hint: `check that ${recipe.mirror} is reachable and the package names exist in ${recipe.suite}`,
        },
      );
    },
    { recipe },
  );
  return { ...entry, tree: join(entry.dir, 'tree') };
}

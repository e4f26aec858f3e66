/**
 * Where the harness writes: one cache root (content-addressed artifacts) and one
 * results dir per run. Nothing else on the system is written.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository (or installed package) root: where qemu/, guest-scripts/, kernel-config/ live. */
export const packageRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');

/** Cache root: $CXL_HARNESS_CACHE, else $XDG_CACHE_HOME/cxl-harness, else ~/.cache/cxl-harness. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CXL_HARNESS_CACHE) return resolve(env.CXL_HARNESS_CACHE);
  const xdg = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(xdg, 'cxl-harness');
}

export function cacheDir(kind: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), kind);
}

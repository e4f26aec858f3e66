/**
 * What names a built kernel: source version, commit, patches, patchset hash.
 * patchsetHash follows KCIDB's definition; src/report/kcidb.ts is meant to own it in the end
 * (one implementation), this one stands in until it exists.
 */
import { createHash } from 'node:crypto';

/**
 * KCIDB patchset_hash: sha256 over the patches' sha256 hex digests, each followed by "\n",
 * concatenated in order; the empty string when there are no patches.
 */
export function patchsetHash(shas: readonly string[]): string {
  if (shas.length === 0) return '';
  return createHash('sha256')
    .update(shas.map((s) => `${s}\n`).join(''))
    .digest('hex');
}

/**
 * "VERSION.PATCHLEVEL.SUBLEVEL" plus EXTRAVERSION from a top-level kernel Makefile, e.g. "7.2.13"
 * or "6.18.0-rc4"; undefined when the text is not a kernel Makefile.
 */
export function parseMakefileVersion(makefile: string): string | undefined {
  const field = (name: string): string | undefined => {
    const m = new RegExp(`^${name}\\s*=[ \\t]*(.*)$`, 'm').exec(makefile);
    return m ? m[1]!.trim() : undefined;
  };
  const version = field('VERSION');
  const patchlevel = field('PATCHLEVEL');
  if (!version || !/^\d+$/.test(version) || patchlevel === undefined || !/^\d+$/.test(patchlevel)) return undefined;
  const sublevel = field('SUBLEVEL') || '0';
  const extra = field('EXTRAVERSION') ?? '';
  return `${version}.${patchlevel}.${sublevel}${extra}`;
}

/** What names a built kernel: source version, commit, patches, patchset hash. */

/**
 * KCIDB patchset_hash (sha256 over each patch's sha256 hex digest plus "\n", '' for none):
 * one implementation, in report/kcidb.ts; re-exported so kernel code names it from here.
 */
export { patchsetHash } from '../report/kcidb.js';

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

/** How far a kernel build got, in words: the live line's text and the CLI's progress lines. */
import { formatElapsed, progress } from '../progress.js';
import type { KernelProgress } from './build.js';

/**
 * The kernel build's live line: files compiled, and against the last full build of the same
 * tree (how many it compiled, how long it took) an estimate of what is left. A rebuild after a
 * changed patch compiles few files: its estimate is an upper bound.
 */
export function buildProgress(compiled: number, last?: { compiled: number; ms: number }): string {
  if (!last || last.compiled === 0) return `${compiled} files compiled`;
  const share = Math.min(1, compiled / last.compiled);
  const left = Math.max(0, last.ms * (1 - share));
  return `${compiled} of ~${last.compiled} files compiled (the last build of this tree), ~${formatElapsed(left)} left`;
}

/** A progress callback that prints one line per report, for the CLI. */
export function printProgress(write: (line: string) => void = (l) => progress.log(l.replace(/\n$/, ''))): (p: KernelProgress) => void {
  return (p) => {
    const s = Math.round(p.elapsedMs / 1000);
    write(`[kernel ${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}] ${p.phase}: ${p.message}\n`);
  };
}

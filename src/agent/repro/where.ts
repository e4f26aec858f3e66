/** Where a mapping's pages are, as the steps record it: { node1: 250, ENOENT: 6 }. */
import { errnoName } from '../../probe/errno.js';

export function pagesWhere(status: readonly number[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const s of status) {
    // move_pages statuses come negated
    const k = s >= 0 ? `node${s}` : errnoOf(s);
    c[k] = (c[k] ?? 0) + 1;
  }
  return c;
}

/** The kernel's name of an errno the addon returned (as it is, or negated). */
export function errnoOf(n: number): string {
  return errnoName(Math.abs(n));
}

/**
 * Pages bound to a node land there: the hotplug and pmem suites' proof that a node they brought
 * online is memory the kernel hands out. Few pages: CXL memory is about 100x slower than RAM
 * under TCG.
 */
import type { CheckApi, CheckOutcome } from './check.js';

export const PAGES = 256;

export async function pagesLandOn(c: CheckApi, node: number): Promise<CheckOutcome> {
  const r = await c.guest.probe.run('place', { pages: PAGES, mbind: 'bind', mbindNodes: [node] });
  c.require('the place probe ran', !('failure' in r), 'failure' in r ? r.message : undefined);
  const onNode = r.placed?.nodes[String(node)] ?? 0;
  return { passed: r.ok && onNode === PAGES, expected: { [`node${node}`]: PAGES }, observed: r.placed ?? r };
}

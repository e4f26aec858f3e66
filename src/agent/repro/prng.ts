/** The loop's seeded randomness, so --seed makes a scenario's random choices repeatable. */
import type { Pages } from '../../contract/repro-protocol.js';

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The PRNG of one iteration (setup is iteration 0, teardown the one after the last): the same seed draws the same. */
export function iterationRand(seed: number, iteration: number): () => number {
  return prng(seed * 1_000_003 + iteration);
}

/** A number of pages, or one drawn from [min, max]. */
export function pick(value: Pages, rand: () => number): number {
  return Array.isArray(value) ? Math.floor(value[0] + rand() * (value[1] - value[0] + 1)) : value;
}

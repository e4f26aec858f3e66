/**
 * What the SPM suite's phases share: the kernel's version of the series (its module), the two
 * nodes once they are online, what the zswap rows measured; and the one way a row runs (look up
 * the version's expectation, require the nodes, observe, judge).
 */
import type { OnlineResult } from '../../remote/region.js';
import { ONLINE_REGION } from '../capabilities.js';
import type { CheckApi, CheckOutcome, SuiteContext } from '../check.js';
import { lookup, type GenerationModule } from './generations/index.js';
import { ROWS, type Nodes, type ObsOf, type RowName } from './rows.js';

export const CG = '/sys/fs/cgroup';
export const NODE = '/sys/devices/system/node';
export const CXL = '/sys/bus/cxl/devices';
export const DAX = '/sys/bus/dax/devices';
/** CXL memory is ~100x slower under TCG: keep what touches S small. */
export const PAGES = 64;

/** What the zswap store row measured, for the leak row after it. */
export interface ZswapCounters {
  swappedOut: number;
  before: Record<string, number>;
  during: Record<string, number>;
  after: Record<string, number>;
  debugBefore: Record<string, number>;
  debugDuring: Record<string, number>;
  vmstatBefore: Record<string, number>;
  vmstatDuring: Record<string, number>;
}

export interface SpmState {
  gen: GenerationModule;
  control?: OnlineResult;
  spm?: OnlineResult;
  zswap?: ZswapCounters;
  /** What spm.zswap.leak found S still holding after the zswap consumer exited, in KiB. */
  zswapHeldKiB?: number;
}

export type NodeNeed = 'control' | 'spm';
export type Observe<K extends RowName> = (c: CheckApi, nodes: Nodes) => Promise<ObsOf<K>>;
export type RowRunner = <K extends RowName>(key: K, observe: Observe<K>, needs?: NodeNeed[]) => Promise<void>;

/** A phase of the suite: some rows, in their order. */
export type Phase = (ctx: SuiteContext, st: SpmState, row: RowRunner) => Promise<void>;

/**
 * Run one table row: skip when the version has no expectation for it (saying why), error when
 * a node it needs is missing, else observe and judge. A row that only identifies the kernel is
 * informational: it never makes a run green on its own.
 */
export function rowRunner(ctx: SuiteContext, st: SpmState): RowRunner {
  return async (key, observe, needs = []) => {
    const def = ROWS[key];
    await ctx.check(def.id, def.title, async (c: CheckApi): Promise<CheckOutcome> => {
      const found = lookup(key, st.gen);
      if (found.kind === 'skip') c.skip(found.reason);
      const nodes: Nodes = { control: st.control?.node ?? -1, spm: st.spm?.node ?? -1 };
      if (needs.includes('control')) c.require('the control node C is online', st.control?.ok === true, st.control?.error ?? 'spm.control.sysram did not online it');
      if (needs.includes('spm')) c.require('S is online', st.spm?.ok === true, st.spm?.error ?? 'spm.online.spm_node did not online it');
      const observed = await observe(c, nodes);
      const verdict = found.expectation.judge(observed, { control: st.control?.node ?? nodes.control, spm: st.spm?.node ?? nodes.spm });
      return { passed: verdict === true, expected: found.expectation.expected, observed, ...(verdict === true ? {} : { reason: verdict }) };
    }, { needs: [...(needs.length ? ONLINE_REGION : []), ...(def.needs ?? [])], ...(def.identifies ? { informational: true } : {}) });
  };
}

/** The version's bit on regions and dax devices; spm_node where it has none (a stock kernel proves its absence). */
export const bitOf = (st: SpmState): string => st.gen.iface.bit ?? 'spm_node';

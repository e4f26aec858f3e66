/**
 * The mempolicy probe: set the thread's policy, read it back, read MPOL_F_MEMS_ALLOWED.
 * It changes the calling thread's policy, so it runs in a probe child (see isolate.ts).
 */
import { firstFailure, outcome, type ErrnoOutcome } from './errno.js';
import { native } from './native.js';
import { describeMode, getFlags, modeAndFlags, type Mode, type ModeFlagName } from './policy.js';

export interface MempolicyArgs {
  /** Omit to only read. */
  mode?: Mode;
  flags?: ModeFlagName[];
  nodes?: number[];
}

/** A policy as get_mempolicy reports it. */
export interface PolicyReadback extends ErrnoOutcome {
  mode: Mode;
  flags: ModeFlagName[];
  nodes: number[];
}

export interface MempolicyResult extends ErrnoOutcome {
  probe: 'mempolicy';
  /** Mask size (bits) used, derived from the running kernel. */
  maxnode: number;
  /** set_mempolicy's answer; absent when only reading. */
  set?: ErrnoOutcome & { mode: Mode; flags: ModeFlagName[]; nodes: number[] };
  /** get_mempolicy(flags=0): the thread policy now. */
  readback: PolicyReadback;
  /** get_mempolicy(MPOL_F_MEMS_ALLOWED): the nodes this task may use (sysram nodes on SPM v2). */
  memsAllowed: ErrnoOutcome & { nodes: number[] };
}

export function readPolicy(flags = 0): PolicyReadback {
  const r = native().getMempolicy(flags, null, 0);
  return { ...outcome(r.errno), ...describeMode(r.mode), nodes: r.nodes };
}

/**
 * The thread's policy back to the default a new process starts with; true when the kernel
 * reads it back so. What makes a probe child fit to serve another probe (see child.ts).
 */
export function resetThreadPolicy(): boolean {
  if (native().setMempolicy(0, null) !== 0) return false;
  const now = readPolicy();
  return now.ok && now.mode === 'default' && now.flags.length === 0;
}

export function mempolicyProbe(args: MempolicyArgs): MempolicyResult {
  const addon = native();
  let set: MempolicyResult['set'];
  if (args.mode !== undefined) {
    const flags = args.flags ?? [];
    const nodes = args.nodes ?? [];
    set = { ...outcome(addon.setMempolicy(modeAndFlags(args.mode, flags), nodes)), mode: args.mode, flags, nodes };
  }
  const readback = readPolicy();
  const allowed = addon.getMempolicy(getFlags.memsAllowed, null, 0);
  const memsAllowed = { ...outcome(allowed.errno), nodes: allowed.nodes };
  // Readback failures matter only when the set worked: a refused set is the answer itself.
  return {
    probe: 'mempolicy',
    ...firstFailure([set, readback, memsAllowed]),
    maxnode: addon.maxnode(),
    ...(set ? { set } : {}),
    readback,
    memsAllowed,
  };
}

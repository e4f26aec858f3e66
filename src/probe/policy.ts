/**
 * Memory policy ABI numbers (include/uapi/linux/mempolicy.h), named. They are stable kernel
 * ABI, so they live here rather than in a libnuma header the guest would need.
 */

export const modes = {
  default: 0,
  preferred: 1,
  bind: 2,
  interleave: 3,
  local: 4,
  'preferred-many': 5, // 5.15+
  'weighted-interleave': 6, // 6.9+
} as const;
export type ModeName = keyof typeof modes;
export const modeNames = Object.keys(modes) as ModeName[];

/** Mode flags, or-ed into the mode of set_mempolicy/mbind and echoed by get_mempolicy. */
export const modeFlags = {
  static: 1 << 15, // MPOL_F_STATIC_NODES
  relative: 1 << 14, // MPOL_F_RELATIVE_NODES
  'numa-balancing': 1 << 13, // MPOL_F_NUMA_BALANCING (6.0+)
} as const;
export type ModeFlagName = keyof typeof modeFlags;
export const modeFlagNames = Object.keys(modeFlags) as ModeFlagName[];

/** get_mempolicy flags. */
export const getFlags = { node: 1, addr: 2, memsAllowed: 4 } as const;

/** mbind / move_pages flags. */
export const moveFlags = { strict: 1, move: 2, 'move-all': 4 } as const;
export type MoveFlagName = keyof typeof moveFlags;
export const moveFlagNames = Object.keys(moveFlags) as MoveFlagName[];

/** A mode by name, or a raw number (to see what the kernel says about modes it does not know). */
export type Mode = ModeName | number;

export function modeNumber(mode: Mode): number {
  return typeof mode === 'number' ? mode : modes[mode];
}

export function modeAndFlags(mode: Mode, flags: readonly ModeFlagName[] = []): number {
  return flags.reduce((acc, f) => acc | modeFlags[f], modeNumber(mode));
}

export function flagBits<K extends string>(table: Record<K, number>, names: readonly K[]): number {
  return names.reduce((acc, f) => acc | table[f], 0);
}

/** Split get_mempolicy's mode word into a name (or the raw number) and flag names. */
export function describeMode(word: number): { mode: Mode; flags: ModeFlagName[] } {
  const flags = modeFlagNames.filter((f) => (word & modeFlags[f]) !== 0);
  const bare = word & ~flagBits(modeFlags, modeFlagNames);
  const name = modeNames.find((m) => modes[m] === bare);
  return { mode: name ?? bare, flags };
}

/**
 * The author's latest private-node tree (Documentation/mm/numa_private_nodes.rst,
 * ../shared/spm-interface.md §4): a private node is in N_MEMORY but not N_MEMORY_PUBLIC, with
 * `has_public_memory` and `has_user_memory` under /sys/devices/system/node. Never posted as a
 * series: no column until a kernel of it proves one.
 */
import type { GenerationModule } from './types.js';

export const privateLatest: GenerationModule = {
  id: 'private-latest',
  short: 'latest',
  title: 'latest private-node tree (has_public_memory / has_user_memory)',
  identify: (f) => [
    ...(f.hasPublicMemory ? ['has_public_memory'] : []),
    ...(f.hasUserMemory ? ['has_user_memory'] : []),
  ],
  contradictions: (f) => (f.hasPublicMemory === f.hasUserMemory ? [] : [`the latest tree adds has_public_memory and has_user_memory together, but only ${f.hasPublicMemory ? 'has_public_memory' : 'has_user_memory'} is present`]),
  iface: { statusField: 'Mems_allowed' },
  unproven: 'generation private-latest: no kernel of this version was available to prove expectations',
  column: {},
};

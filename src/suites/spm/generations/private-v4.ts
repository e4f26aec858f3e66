/**
 * v4, "[RFC PATCH v4 00/27] Private Memory Nodes (w/ Compressed RAM)" (2026-02-22): node state
 * N_MEMORY_PRIVATE (`has_private_memory`, listed only while the node's memory is online),
 * per-node operation flags a driver opts into (NP_OPS_MEMPOLICY, _MIGRATION, _DEMOTION,
 * _RECLAIM, _OOM_ELIGIBLE, _LONGTERM_PIN...), __GFP_PRIVATE. Unlike v3 it has no
 * cpuset.mems.sysram, no create_private_region and no private_type; Mems_allowed stays. No
 * userspace path makes a private node in the posting (only its sample PCI drivers do), and it
 * cannot be built from its posting (it needs __add_memory_driver_managed(..., online_type) and
 * cxl/next helpers never posted with it): no column until a kernel of it proves one.
 */
import type { GenerationModule } from './types.js';

export const privateV4: GenerationModule = {
  id: 'private-v4',
  short: 'v4',
  title: 'v4 "Private Memory Nodes" (N_MEMORY_PRIVATE: has_private_memory without cpuset.mems.sysram, __GFP_PRIVATE)',
  posted: '[RFC PATCH v4 00/27] Private Memory Nodes (w/ Compressed RAM), 2026-02-22',
  identify: (f) => [
    ...(f.gfpPrivate ? ['__GFP_PRIVATE in the tracepoints\' GFP flags (patch 02)'] : []),
    ...(f.hasPrivateMemory && !f.memsSysram ? ['has_private_memory without cpuset.mems.sysram (patch 01; v3 has both)'] : []),
  ],
  contradictions: (f) => [
    ...(f.createPrivateRegion ? ['v4 has no create_private_region (v3\'s), but a root decoder has it'] : []),
    ...(f.memsSysram ? ['v4 has no cpuset.mems.sysram (v3\'s), but the cgroup root has it'] : []),
    ...(f.statusMemsAllowed ? [] : ['v4 keeps the Mems_allowed status lines, but they are gone']),
    ...(f.hasPrivateMemory ? [] : ['v4 adds has_private_memory, but it is absent']),
  ],
  iface: { statusField: 'Mems_allowed' },
  unproven: 'generation private-v4: no kernel of this version was available to prove expectations',
  column: {},
};

/**
 * How a region's node is set apart the way a version of the isolated-memory-node series
 * defines it, in the manual flow (the host's generation module says which):
 *   bit: `value` written to regionN/<attr> between commit and bind (v1 protected_memory, v2 spm_node);
 *   private: the region made through the root decoder's create_private_region, with
 *     regionN/private_type written before commit (v3; no type: none written, which v3 refuses at bind).
 */
export type Isolation = { kind: 'bit'; attr: string; value: string } | { kind: 'private'; type?: string };

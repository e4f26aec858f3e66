/**
 * What one version of the isolated-memory-node series is, to the SPM suite: how it is told
 * apart (facts.ts), how it sets a node apart (the flow the guest agent runs), the names it
 * gives the interfaces the rows read, and what it must show for every row. One module per
 * version (generations/<id>.ts): adding a version is adding a file and its column.
 */
import type { Isolation } from '../../../contract/isolation.js';
import type { Expectation, NotApplicable, ObsOf, RowName } from '../rows.js';
import type { GenerationFacts } from './facts.js';

export type GenerationId = 'stock' | 'protected-v1' | 'spm-v2' | 'private-v3' | 'private-v4' | 'private-latest';

/** A version's expectation for each row, or why the row has no meaning for it. */
export type Column = { [K in RowName]?: Expectation<ObsOf<K>> | NotApplicable };

/** The names a version gives the interfaces several rows read. */
export interface Interface {
  /** The cgroup v2 file that lists a cgroup's ordinary (non-isolated) nodes, where the version has one. */
  nodesFile?: 'cpuset.mems.sysram' | 'cpuset.mems.default';
  /** The /proc/PID/status field that lists a task's nodes (and its _list twin). */
  statusField: 'Mems_allowed' | 'Sysram_nodes' | 'Mems_default';
  /** The bit on CXL regions and dax devices that sets a node apart, where the version has one. */
  bit?: 'spm_node' | 'protected_memory';
}

export interface GenerationModule {
  id: GenerationId;
  /** Its column heading: stock, v1, v2... */
  short: string;
  title: string;
  /** The posting the column encodes, in the series' own words. */
  posted?: string;
  /** The facts present that identify this version; empty when none does. */
  identify(f: GenerationFacts): string[];
  /** Facts that contradict it: parts of it missing, or parts of another version present. */
  contradictions(f: GenerationFacts): string[];
  iface: Interface;
  /** How it sets S apart (absent: it cannot; S is then onlined by the same manual flow, a normal node). */
  isolate?: Isolation;
  /** Why it has no column yet: every row skips with this. */
  unproven?: string;
  column: Column;
}

/**
 * The repro loop's contract, one module for both sides: the guest loop (src/agent/repro/) and
 * the host (src/repro/: scenario validation, the loop driver and its reports). The step kinds
 * and their fields (scenarios/README.md documents them, src/repro/scenario.ts validates them),
 * the spec the loop reads, and the lines it emits, one JSON object each, as they happen.
 */

import type { Isolation } from './isolation.js';

/** Guest kernel features a scenario can require (detected by the guest loop, repro/facts.ts). */
export const FEATURES = ['spm_node', 'isolated_node', 'zswap', 'poison_list', 'dcd', 'sysrq', 'pmem'] as const;
export type Feature = (typeof FEATURES)[number];

export const STEP_KINDS = [
  'create-region', 'destroy-region', 'offline-memory', 'online-memory', 'bind-kmem',
  'hold', 'release', 'churn-start', 'churn-stop', 'pressure-start', 'pressure-stop',
  'zswap-start', 'zswap-stop', 'fault', 'trigger-poison-list', 'expect-log', 'node-free', 'hugetlb-pool',
  'pmem-online', 'pmem-offline',
] as const;
export type StepKind = (typeof STEP_KINDS)[number];

export type BlockOrder = 'forward' | 'reverse' | 'random';
/** A number of pages, or [min, max] drawn with the seeded PRNG. */
export type Pages = number | [number, number];
type NoFields = Record<never, never>;

/** The fields of each step kind besides `do` and `expect`. */
export interface StepFields {
  /** isolate: set the node apart the way the kernel's generation does (v1, v2: the region bit; v3: a private region); spm: write spm_node (v2 only). */
  'create-region': { method?: 'ndctl' | 'sysfs'; isolate?: boolean; spm?: 0 | 1; memdev?: string };
  'destroy-region': NoFields;
  'offline-memory': { order?: BlockOrder; timeoutS?: number };
  'online-memory': { order?: BlockOrder; zone?: 'online_movable' | 'online_kernel' | 'online' };
  'bind-kmem': NoFields;
  hold: { pages?: Pages };
  release: { expectMoved?: boolean };
  'churn-start': { kind?: ChurnKind; pages?: number };
  'churn-stop': NoFields;
  'pressure-start': { percent?: number; mib?: number };
  'pressure-stop': NoFields;
  'zswap-start': { pages?: Pages; swapMiB?: number };
  'zswap-stop': { swapIn?: boolean };
  /** Done by the host (QMP); the guest only waits. Host-side fields: src/repro/scenario.ts FaultStep. */
  fault: { fault: string; device?: string };
  'trigger-poison-list': NoFields;
  'expect-log': { pattern: string; present?: boolean };
  'node-free': { mark?: string; since?: string; maxLossKiB?: number };
  'hugetlb-pool': { pages?: number; timeoutS?: number };
  /** A pmem region of a device with persistent capacity, a devdax namespace on it, its memory online (agent/cxl/pmem.ts). */
  'pmem-online': { memdev?: string };
  'pmem-offline': NoFields;
}

export type ChurnKind = 'move_pages' | 'migrate_pages';

/** One step of kind K as a scenario gives it. `expect`: ok (default), fail, any, or the code the step must fail with. */
export type StepOf<K extends StepKind> = { do: K; expect?: string } & StepFields[K];
export type Step = { [K in StepKind]: StepOf<K> }[StepKind];

/** What a step found: ok, or a code and an error; plus what it observed (per kind, see scenarios/README.md). */
export interface StepResult {
  ok: boolean;
  code?: string;
  error?: string;
  [detail: string]: unknown;
}

/** A step as it ran: its kind (D), whether it turned out as expected, its wall time, its result. */
export type StepRecordOf<D extends string> = { do: D; expect?: string; passed: boolean; ms: number } & StepResult;
export type StepRecord = StepRecordOf<StepKind>;

export interface LoopScenario {
  name: string;
  requires: Feature[];
  setup: Step[];
  steps: Step[];
  cleanup: Step[];
  teardown: Step[];
}

/** What the loop reads: one chunk of iterations of a scenario, in one guest process. */
export interface LoopSpec {
  scenario: LoopScenario;
  /** The first iteration's number, and how many to run. */
  start: number;
  iterations: number;
  /** The seed of the per-iteration PRNG (random orders, page counts, sync tokens). */
  seed: number;
  stopOnFail: boolean;
  /** Test aid (--inject-crash-at): crash the kernel (sysrq c) after the first step of this iteration. */
  crashAt?: number;
  stepTimeoutMs: number;
  /** How long a fault step waits for the host's answer. */
  syncTimeoutMs: number;
  /**
   * The kernel's generation, decided on the host (src/suites/spm/generations/) from the agent's
   * evidence, and how that generation isolates a node (absent: it has no way).
   */
  generation: { name: string; evidence: string[]; isolate?: Isolation };
}

/** Where the host answers a fault step's sync request: SYNC_DIR/<token>, a JSON object. */
export const SYNC_DIR = '/run/cxl-repro';

/** The host's answer to a sync request. */
export interface SyncAnswer {
  ok?: boolean;
  code?: string;
  error?: string;
  [detail: string]: unknown;
}

/** What the guest kernel offers the scenario, first line of every chunk. */
export interface LoopFacts {
  generation: string;
  evidence: string[];
  features: Record<Feature, boolean>;
  memdevs: string[];
  blockSize: number;
  release?: string;
}

export type Phase = 'setup' | 'iteration' | 'teardown';

/** One line the loop emits, in the order things happen. */
export type LoopLine =
  | ({ type: 'facts' } & LoopFacts)
  | { type: 'skip'; reason: string }
  | ({ type: 'step'; phase: Phase; iteration: number; index: number } & StepRecord)
  | ({ type: 'cleanup'; iteration: number; index: number } & StepRecord)
  | { type: 'iteration'; iteration: number; ok: boolean; ms: number; failedStep?: StepKind; error?: string }
  | { type: 'setup-failed'; error: string }
  | { type: 'done'; ran: number; failures: number }
  | { type: 'error'; error: string };

/** How the loop's process ended, and what it printed besides its lines. */
export interface LoopExit {
  exitCode: number | null;
  signal: string | null;
  /** The end of its stderr. */
  stderr: string;
  /** Output lines that were not loop lines (kept, never dropped). */
  garbage: string[];
}

const LINE_TYPES: ReadonlySet<string> = new Set(['facts', 'skip', 'step', 'cleanup', 'iteration', 'setup-failed', 'done', 'error']);

/** One output line of the loop, or undefined when it is not one (garbage). */
export function parseLoopLine(text: string): LoopLine | undefined {
  try {
    const v = JSON.parse(text) as { type?: unknown } | null;
    return v !== null && typeof v === 'object' && typeof v.type === 'string' && LINE_TYPES.has(v.type) ? (v as LoopLine) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What the repro loop's steps share within one guest process: the region the scenario made,
 * what it holds or runs (held pages, a churn thread, a pressure child, zswapped pages, free
 * memory marks), and what each step is told about where it runs.
 */
import type { ChildProcess } from 'node:child_process';
import type { MapHandle } from '../../probe/native.js';
import type { Isolation } from '../cxl/index.js';
import type { ChurnKind, Phase, StepKind, StepOf, StepResult } from '../../contract/repro-protocol.js';

export interface Held { map: MapHandle; pages: number; seed: number; node: number }

/** The churn thread's tally when it stops, or how it ended without one. */
export interface ChurnStats {
  rounds: number;
  moves: number;
  errors: Record<string, number>;
  pageErrors: Record<string, number>;
  corruptPages: number;
  placed: Record<string, number>;
}
export type ChurnEnd = ChurnStats | { crashed: string } | { exited: number };

export interface FreeSnapshot {
  node: number;
  memFreeKiB: number;
  perCpuFreeKiB: number;
  freeKiB: number;
  memTotalKiB: number;
  vmstat: Record<string, number>;
}

export interface LoopState {
  region?: string;
  dax?: string;
  node?: number;
  blocks?: number[];
  holds: Held[];
  churn?: { stop: SharedArrayBuffer; done: Promise<ChurnEnd>; kind: ChurnKind };
  pressure?: ChildProcess;
  zswap?: { map: MapHandle; seed: number; pages: number };
  /** node-free marks by name. */
  marks: Record<string, FreeSnapshot>;
}

export interface StepContext {
  blockSize: number;
  timeoutMs: number;
  syncTimeoutMs: number;
  /** The iteration's seeded PRNG (repro/prng.ts). */
  rand: () => number;
  iteration: number;
  index: number;
  phase: Phase | 'cleanup';
  /** The running iteration's marker in the kernel log: expect-log reads from there (the whole log when absent). */
  marker?: string;
  /** How the kernel's generation isolates a node (the host's decision, LoopSpec.generation): what `isolate: true` does. */
  isolation?: Isolation;
}

export type StepHandler<K extends StepKind> = (step: StepOf<K>, st: LoopState, ctx: StepContext) => StepResult | Promise<StepResult>;
/** The handlers of a group of step kinds, one per kind. */
export type StepHandlers<K extends StepKind> = { [P in K]: StepHandler<P> };

/** The result of a step that needs the region a create-region step made. */
export const noRegion = (error: string): StepResult => ({ ok: false, code: 'NO_REGION', error });

/**
 * Every version of the isolated-memory-node series the suite knows, and the decision which one
 * a kernel has, from what userspace sees (facts.ts) and nothing else. Pure.
 */
import type { GenerationEvidence } from '../../../agent/evidence.js';
import type { Expectation, ObsOf, RowName } from '../rows.js';
import { describeFacts, factsOf } from './facts.js';
import { privateLatest } from './private-latest.js';
import { privateV3 } from './private-v3.js';
import { protectedV1 } from './protected-v1.js';
import { privateV4 } from './private-v4.js';
import { spmV2 } from './spm-v2.js';
import { stock } from './stock.js';
import type { GenerationId, GenerationModule } from './types.js';

export type { Column, GenerationId, GenerationModule, Interface } from './types.js';

/** In the order of the series, for tables: stock first. */
export const GENERATIONS: readonly GenerationModule[] = [stock, protectedV1, spmV2, privateV3, privateV4, privateLatest];

/**
 * The order a kernel is matched in: the first version whose facts identify it wins (newest
 * first: later versions reuse earlier names, v3 and v4 both have has_private_memory); stock is
 * what none identified.
 */
const DETECTION_ORDER: readonly GenerationModule[] = [privateLatest, privateV3, privateV4, spmV2, protectedV1];

export function generationById(id: string): GenerationModule | undefined {
  return GENERATIONS.find((g) => g.id === id);
}

export interface GenerationDecision {
  generation: GenerationId;
  module: GenerationModule;
  /** Why, one line per fact, for the report. */
  evidence: string[];
  /** Facts that contradict the decision (a half-applied series, parts of two versions, or one we do not know). */
  contradictions: string[];
}

/** Patch subjects that belong to the series (any version). */
const SERIES_SUBJECT = /spm|specific purpose memory|sysram|protected[ _-](memory|node)|GFP_PROTECTED|N_MEMORY_PRIVATE|N_PRIVATE|private[ _](memory[ _])?(nodes?|region)/i;

/**
 * The patches of the kernel's recorded identity (a harness build) that belong to the series:
 * a kernel built with them that shows no version of it did not get what it was built with.
 */
export function seriesPatches(subjects: readonly string[]): string[] {
  return subjects.filter((s) => SERIES_SUBJECT.test(s));
}

export function detectGeneration(e: GenerationEvidence, built: { patchSubjects?: readonly string[] } = {}): GenerationDecision {
  const f = factsOf(e);
  const matches = DETECTION_ORDER.map((g) => ({ g, why: g.identify(f) })).filter((m) => m.why.length > 0);
  const chosen = matches[0]?.g ?? stock;
  const contradictions = [
    ...chosen.contradictions(f),
    ...matches.slice(1).map((m) => `it also shows ${m.g.short}'s ${m.why.join(', ')}`),
  ];
  if (chosen === stock) {
    const series = seriesPatches(built.patchSubjects ?? []);
    if (series.length) contradictions.push(`the harness built this kernel with ${series.length} patch(es) of the series (${series.slice(0, 3).map((s) => `"${s}"`).join(', ')}${series.length > 3 ? ', ...' : ''}), but it shows no version of it: the series did not take effect (wrong tree, config, or boot image?)`);
  }
  const evidence = [...describeFacts(e, f), ...(matches[0] ? [`${chosen.short}: ${matches[0].why.join(', ')}`] : ['no version of the series identified: stock'])];
  return { generation: chosen.id, module: chosen, evidence, contradictions };
}

export type Lookup<O> = { kind: 'expect'; expectation: Expectation<O> } | { kind: 'skip'; reason: string };

/** What a version must show for a row, or why the row skips on it. */
export function lookup<K extends RowName>(row: K, g: GenerationModule): Lookup<ObsOf<K>> {
  const entry = g.column[row];
  if (entry && 'na' in entry) return { kind: 'skip', reason: entry.na };
  if (entry) return { kind: 'expect', expectation: entry as Expectation<ObsOf<K>> };
  return { kind: 'skip', reason: g.unproven ?? `no expectation encoded for generation ${g.id}` };
}

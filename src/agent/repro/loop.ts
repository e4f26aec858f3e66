/**
 * The repro loop: a chunk of a scenario's iterations in one process (a `node` start costs
 * 1.5-2 s under TCG, more than a whole online/offline cycle): the facts, setup once, each
 * iteration's steps until one does not turn out as expected (then the cleanup steps), teardown
 * once. Every step and iteration is emitted as it finishes, and each iteration's start and end
 * go into the kernel log (markers.ts), and so does each finished step of an iteration: whatever
 * ran before a kernel crash reaches the host, even when the crash wins the race with the line.
 */
import { writeFileSync } from 'node:fs';
import { formatStepMarker, iterationEndLine, iterationId, reproNote, stepEndLine } from '../../contract/markers.js';
import { facts, lacking } from './facts.js';
import { kmsg } from './io.js';
import { iterationRand } from './prng.js';
import type { LoopLine, LoopSpec, Phase, Step, StepRecord } from '../../contract/repro-protocol.js';
import type { LoopState, StepContext } from './state.js';
import { runStep } from './steps.js';

export async function runLoop(spec: LoopSpec, emit: (line: LoopLine) => void): Promise<void> {
  const { scenario } = spec;
  const f = facts(spec.generation);
  emit({ type: 'facts', ...f });
  const skip = lacking(f, scenario.requires);
  if (skip) {
    emit({ type: 'skip', reason: skip });
    return;
  }
  const st: LoopState = { holds: [], marks: {} };
  const base = { blockSize: f.blockSize, timeoutMs: spec.stepTimeoutMs, syncTimeoutMs: spec.syncTimeoutMs, ...(spec.generation.isolate ? { isolation: spec.generation.isolate } : {}) };

  /** A phase's steps in order, each emitted, until one does not turn out as expected. */
  const runPhase = async (phase: Phase, steps: Step[], iteration: number, rand: () => number, marker?: string, afterStep?: (index: number) => void): Promise<StepRecord | undefined> => {
    for (const [index, step] of steps.entries()) {
      const ctx: StepContext = { ...base, rand, iteration, index, phase, ...(marker !== undefined ? { marker } : {}) };
      const r = await runStep(step, st, ctx);
      if (phase === 'iteration') logStepEnd('iteration', iteration, index, r);
      emit({ type: 'step', phase, iteration, index, ...r });
      afterStep?.(index);
      if (!r.passed) return r;
    }
    return undefined;
  };

  const setupFailed = await runPhase('setup', scenario.setup, 0, iterationRand(spec.seed, 0));
  if (setupFailed) {
    emit({ type: 'setup-failed', error: setupFailed.error ?? 'a setup step did not turn out as expected' });
    return;
  }
  let failures = 0;
  let ran = 0;
  const end = spec.start + spec.iterations;
  for (let i = spec.start; i < end; i++) {
    const marker = formatStepMarker(iterationId(scenario.name, i));
    kmsg(marker);
    const t = Date.now();
    const rand = iterationRand(spec.seed, i);
    const failed = await runPhase('iteration', scenario.steps, i, rand, marker, (index) => {
      if (spec.crashAt === i && index === 0) crashKernel(i);
    });
    const ms = Date.now() - t;
    ran++;
    if (failed) failures++;
    kmsg(iterationEndLine({ iteration: i, ok: !failed, ms }));
    emit({ type: 'iteration', iteration: i, ok: !failed, ms, ...(failed ? { failedStep: failed.do, error: failed.error ?? `${failed.do} did not turn out as expected (${failed.expect ?? 'ok'})` } : {}) });
    if (!failed) continue;
    // Leave the next iteration a clean slate: the scenario's cleanup steps, best effort.
    for (const [index, step] of scenario.cleanup.entries()) {
      const r = await runStep(step, st, { ...base, rand, iteration: i, index, phase: 'cleanup', marker });
      logStepEnd('cleanup', i, index, r);
      emit({ type: 'cleanup', iteration: i, index, ...r });
    }
    if (spec.stopOnFail) break;
  }
  await runPhase('teardown', scenario.teardown, end, iterationRand(spec.seed, end));
  emit({ type: 'done', ran, failures });
}

/** A finished step into the kernel log, the copy of its line that survives a crash right after it. */
function logStepEnd(phase: 'iteration' | 'cleanup', iteration: number, index: number, r: StepRecord): void {
  kmsg(stepEndLine({ iteration, phase, index, do: r.do, passed: r.passed, ms: r.ms, ...(r.ok ? {} : { code: r.code ?? 'FAILED' }) }));
}

/** Test aid (--inject-crash-at): a real kernel crash in the middle of an iteration. */
function crashKernel(iteration: number): void {
  kmsg(reproNote(`crashing the kernel on purpose at iteration ${iteration} (--inject-crash-at)`));
  writeFileSync('/proc/sysrq-trigger', 'c');
}

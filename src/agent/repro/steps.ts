/**
 * The loop's step kinds and what runs each (one group of steps per module under steps/), how
 * one step runs (timed, a throw becomes a result), and whether it turned out as expected.
 */
import type { Step, StepKind, StepRecord, StepResult } from '../../contract/repro-protocol.js';
import type { LoopState, StepContext, StepHandler, StepHandlers } from './state.js';
import { hostSteps } from './steps/host.js';
import { memorySteps } from './steps/memory.js';
import { pageSteps } from './steps/pages.js';
import { pmemSteps } from './steps/pmem.js';
import { pressureSteps } from './steps/pressure.js';
import { regionSteps } from './steps/region.js';

/** The groups, each kind in one of them (test/unit/agent.repro-loop.test.ts checks it). */
export const STEP_GROUPS = { region: regionSteps, pmem: pmemSteps, pages: pageSteps, pressure: pressureSteps, memory: memorySteps, host: hostSteps } as const;

export const STEPS: StepHandlers<StepKind> = { ...regionSteps, ...pmemSteps, ...pageSteps, ...pressureSteps, ...memorySteps, ...hostSteps };

/**
 * Did the step turn out as the scenario expects? `expect`: ok (default), fail, any, the code it
 * must fail with, or several of these joined by | (ok|EBUSY: either is fine, anything else not).
 */
export function meets(result: StepResult, expect = 'ok'): boolean {
  return expect.split('|').some((e) => {
    if (e === 'any') return true;
    if (e === 'ok') return result.ok;
    if (e === 'fail') return !result.ok;
    return !result.ok && result.code === e;
  });
}

export async function runStep(step: Step, st: LoopState, ctx: StepContext): Promise<StepRecord> {
  const t = Date.now();
  // The kind picks its handler: step and handler agree on the kind.
  const handler = STEPS[step.do] as StepHandler<StepKind> as (s: Step, st: LoopState, ctx: StepContext) => ReturnType<StepHandler<StepKind>>;
  let result: StepResult;
  try {
    result = await handler(step, st, ctx);
  } catch (e) {
    result = { ok: false, code: 'SCRIPT_ERROR', error: e instanceof Error ? e.message : String(e) };
  }
  return { do: step.do, ...(step.expect ? { expect: step.expect } : {}), passed: meets(result, step.expect), ms: Date.now() - t, ...result };
}

/**
 * How a suite runs one check: the body gathers evidence through the guest session and
 * states what it expected and observed; the verdict comes from report/verdict.ts, so a
 * skipped, unmet or crashed check can never come out as a pass.
 */
import { HarnessError } from '../errors.js';
import type { GuestSession } from '../remote/session.js';
import type { KernelArtifact } from '../kernel/artifact.js';
import type { Topology } from '../qemu/topology.js';
import type { CheckResult, Observation } from '../report/model.js';
import { checkFromAttempt, type CheckAttempt } from '../report/verdict.js';
import type { Results } from '../results/results.js';
import type { RootfsRecipe } from '../image/recipe.js';
import type { KernelSpec } from '../kernel/resolve.js';
import type { Capabilities, Capability } from './capabilities.js';

class SkipSignal extends Error {
  constructor(readonly reason: string) { super(reason); }
}
class UnmetSignal extends Error {
  constructor(readonly precondition: string, readonly detail?: string) { super(precondition); }
}

export interface CheckApi {
  readonly guest: GuestSession;
  /** The check does not apply here: stop with `skip` and this reason. */
  skip(reason: string): never;
  /** A precondition: when not met, the check stops as `error` naming it. */
  require(name: string, met: boolean, detail?: string): asserts met;
  /** Save a value as an evidence file of this check. */
  evidence(name: string, value: unknown): Promise<void>;
}

export interface CheckOutcome {
  passed: boolean;
  expected: unknown;
  observed: unknown;
  reason?: string;
}

export type CheckBody = (c: CheckApi) => Promise<CheckOutcome>;

export interface CheckOptions {
  /** What the kernel must be able to do; without it the check is `skip`, naming what is missing. */
  needs?: readonly Capability[];
  /**
   * The check identifies the environment (the kernel's generation) and judges nothing about
   * the kernel's behaviour: a run whose other checks all skip is `skip`, not `pass`.
   */
  informational?: boolean;
  /** Its own bound, when the run's --check-timeout is not the right one (an ndctl test: meson's own bound and more). */
  timeoutMs?: number;
}

export interface SuiteContext {
  readonly guest: GuestSession;
  readonly results: Results;
  readonly topology: Topology;
  readonly kernel: KernelArtifact;
  log(line: string): void;
  /** What the booted kernel can do (found before the suite starts). */
  readonly capabilities: Capabilities;
  check(id: string, title: string, body: CheckBody, options?: CheckOptions): Promise<CheckResult>;
  observe(observation: Observation): Promise<void>;
  /** Record the detected kernel generation and its evidence in the summary. */
  setGeneration(name: string, evidence: string[]): Promise<void>;
}

export interface Suite {
  name: string;
  description: string;
  /** Topology used when the user names none. */
  defaultTopology: string;
  /**
   * Why this suite cannot run on a topology (undefined: it can). Checked before anything is
   * downloaded or booted, so a topology without what the suite needs is an input error, not a
   * row of failed checks that blames the kernel.
   */
  unsuitedTopology?(topology: Topology): string | undefined;
  /** The checks it runs, in order (`cxl-harness checks`, the live line's "check n of N"); absent when only a run knows them. */
  checks?: readonly { id: string; title: string }[];
  /** For a suite whose checks only a run knows: what they are, in words ("one per meson test of ..."). */
  checksAtRun?: string;
  /** The guest's root tree, when the default one will not do (the ndctl suite's has ndctl built with its tests). */
  recipe?: (log: (line: string) => void) => Promise<RootfsRecipe>;
  /** The guest needs no CXL hardware (cxl_test mocks its own): no CXL preflight, and its init loads no CXL driver. */
  withoutCxlHardware?: boolean;
  /**
   * Why this suite has nothing to judge on that kernel (a skip of the whole run, exit 4): from
   * the spec before anything is downloaded when it can tell (a Debian kernel), else from the
   * kernel once it is there.
   */
  kernelSpecProblem?(spec: KernelSpec): string | undefined;
  kernelProblem?(kernel: KernelArtifact): Promise<string | undefined>;
  run(ctx: SuiteContext): Promise<void>;
}

export async function runCheck(guest: GuestSession, results: Results, id: string, title: string, body: CheckBody, options: CheckOptions = {}): Promise<CheckResult> {
  const started = Date.now();
  const evidence: string[] = [];
  const api: CheckApi = {
    guest,
    skip(reason) { throw new SkipSignal(reason); },
    require(name, met, detail) { if (!met) throw new UnmetSignal(name, detail); },
    async evidence(name, value) {
      const rel = `evidence/${id}/${name.replace(/[^A-Za-z0-9._-]+/g, '_')}.json`;
      await results.writeText(rel, JSON.stringify(value, null, 2) + '\n');
      evidence.push(rel);
    },
  };
  const before = await guest.nodeMemory().catch(() => undefined);
  await guest.mark(id).catch(() => undefined);
  const outcome = await guest.collect(() => body(api));
  const after = await guest.nodeMemory().catch(() => undefined);
  const attempt: CheckAttempt = { id, title, durationMs: Date.now() - started, evidence: [...outcome.logs, ...evidence] };
  if ('value' in outcome) {
    Object.assign(attempt, { passed: outcome.value.passed, expected: outcome.value.expected, observed: outcome.value.observed });
    if (outcome.value.reason) attempt.reason = outcome.value.reason;
  } else if (outcome.error instanceof SkipSignal) {
    attempt.skip = outcome.error.reason;
  } else if (outcome.error instanceof UnmetSignal) {
    attempt.preconditions = [{ name: outcome.error.precondition, met: false, ...(outcome.error.detail ? { detail: outcome.error.detail } : {}) }];
  } else {
    const e = outcome.error;
    attempt.reason = !guest.connected
      ? 'the guest connection was lost during the check (crash or hang?)'
      : e instanceof HarnessError ? e.message : `harness error: ${e instanceof Error ? e.message : String(e)}`;
  }
  const result = checkFromAttempt(attempt);
  if (options.informational) result.informational = true;
  if (before && after && result.verdict !== 'skip') result.nodeMemory = { before, after };
  await results.addCheck(result);
  return result;
}

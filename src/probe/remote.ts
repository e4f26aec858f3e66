/**
 * The host side of the probes: sends a probe request to the guest (the agent's `probe` verb,
 * through a transport the session provides) and returns the same typed results as the local
 * API. Anything but a result object with {ok, errno, code} for the probe asked becomes a
 * ProbeFailure that keeps what came back, so a broken guest can never read as a pass.
 * This module never loads the addon: the host may only orchestrate.
 */
import type { ProbeFailure } from './isolate.js';
import type { ProbeArgs, ProbeOutput } from './types.js';
import { formatProbeArgv, resolveArgs, type ProbeName } from './spec.js';

/** What the transport got back: the probe's result, or why there is none. */
export type ProbeAnswer = { ok: true; result: unknown } | { ok: false; error: string; timedOut?: boolean };

/**
 * Carries one probe to the guest. `argv` is the same probe as a guest command line
 * (`cxl-harness probe ...`), for the command log and for people repeating it by hand.
 */
export type ProbeTransport = (name: ProbeName, args: Record<string, unknown>, argv: string[]) => Promise<ProbeAnswer>;

export interface RemoteProberOptions {
  /** Arguments every probe of this prober gets, e.g. { oomScoreAdj: 1000 } for hogs. */
  defaults?: Record<string, unknown>;
}

export interface RemoteProber {
  run<N extends ProbeName>(name: N, args?: ProbeArgs[N]): Promise<ProbeOutput<N>>;
  /** The guest command line of a probe, for logs and reproducers. */
  argv<N extends ProbeName>(name: N, args?: ProbeArgs[N]): string[];
}

function failure(probe: string, code: ProbeFailure['code'], message: string, extra: Partial<ProbeFailure> = {}): ProbeFailure {
  return { probe, ok: false, errno: 0, failure: true, code, message, stderr: '', ...extra };
}

/** Check what came back for probe `name`; exported so tests can feed it recorded answers. */
export function checkProbeResult<N extends ProbeName>(name: N, value: unknown): ProbeOutput<N> {
  const o = value as { probe?: unknown; ok?: unknown; errno?: unknown; code?: unknown; failure?: unknown };
  const shaped =
    typeof value === 'object' && value !== null && !Array.isArray(value) &&
    typeof o.ok === 'boolean' && typeof o.errno === 'number' && typeof o.code === 'string';
  const raw = JSON.stringify(value) ?? String(value);
  if (!shaped) return failure(name, 'BAD_OUTPUT', `guest probe ${name} answered without {ok, errno, code}`, { stdout: raw });
  // A child failure names the operation it ran; a result names the probe.
  if (o.failure !== true && o.probe !== name) return failure(name, 'BAD_OUTPUT', `guest probe ${name} answered for probe ${String(o.probe)}`, { stdout: raw });
  return value as ProbeOutput<N>;
}

export function createRemoteProber(send: ProbeTransport, options: RemoteProberOptions = {}): RemoteProber {
  const withDefaults = (args: unknown): Record<string, unknown> => ({ ...options.defaults, ...(args as Record<string, unknown> | undefined) });
  const argv = <N extends ProbeName>(name: N, args?: ProbeArgs[N]): string[] => [
    'cxl-harness', 'probe', name, ...formatProbeArgv(name, withDefaults(args)), '--json',
  ];
  return {
    argv,
    async run(name, args) {
      const all = withDefaults(args);
      resolveArgs(name, all); // throws ProbeArgumentError on misuse, before anything runs
      const words = argv(name, args);
      let answer: ProbeAnswer;
      try {
        answer = await send(name, all, words);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return failure(name, 'EXEC_FAILED', `could not run guest probe ${name}: ${message}`);
      }
      if (!answer.ok) {
        return failure(name, answer.timedOut ? 'TIMED_OUT' : 'CHILD_ERROR', `guest probe ${name} got no answer: ${answer.error}`, answer.timedOut ? { timedOut: true } : {});
      }
      return checkProbeResult(name, answer.result);
    },
  };
}

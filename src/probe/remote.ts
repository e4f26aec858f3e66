/**
 * The host side of the probes: runs `cxl-harness probe <name> --key=value ... --json` in the
 * guest through an exec function (the ssh layer) and returns the same typed results as the
 * local API. Anything but one JSON result object on stdout with exit 0 becomes a ProbeFailure
 * that keeps the raw stdout/stderr, so a broken guest can never read as a pass.
 * This module never loads the addon: the host may only orchestrate.
 */
import type { ProbeFailure } from './isolate.js';
import type { ProbeArgs, ProbeOutput } from './index.js';
import { formatProbeArgv, type ProbeName } from './spec.js';

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** null when the command was killed or the connection died. */
  exitCode: number | null;
}

export type Exec = (argv: string[]) => Promise<ExecResult>;

export interface RemoteProberOptions {
  /** The guest command, default ['cxl-harness'] (/usr/local/bin/cxl-harness in the image). */
  command?: string[];
}

export interface RemoteProber {
  run<N extends ProbeName>(name: N, args?: ProbeArgs[N]): Promise<ProbeOutput<N>>;
  /** The argv run for a probe, for logs and reproducers. */
  argv<N extends ProbeName>(name: N, args?: ProbeArgs[N]): string[];
}

function failure(probe: string, code: ProbeFailure['code'], message: string, r: ExecResult): ProbeFailure {
  return { probe, ok: false, errno: 0, failure: true, code, message, exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

/** Check what came back; exported so the ssh layer's own tests can feed it recorded output. */
export function parseRemoteOutput<N extends ProbeName>(name: N, r: ExecResult): ProbeOutput<N> {
  if (r.exitCode !== 0) {
    const how = r.exitCode === null ? 'was killed or lost its connection' : `exited with code ${r.exitCode}`;
    return failure(name, 'CHILD_ERROR', `guest probe ${name} ${how}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`, r);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(r.stdout);
  } catch {
    return failure(name, 'BAD_OUTPUT', `guest probe ${name} printed something that is not JSON`, r);
  }
  const o = parsed as { probe?: unknown; ok?: unknown; errno?: unknown; code?: unknown };
  const shaped =
    typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) &&
    typeof o.ok === 'boolean' && typeof o.errno === 'number' && typeof o.code === 'string';
  if (!shaped) return failure(name, 'BAD_OUTPUT', `guest probe ${name} printed JSON without {ok, errno, code}`, r);
  // A child failure names the operation it ran; a result names the probe.
  if ((parsed as { failure?: unknown }).failure !== true && o.probe !== name) {
    return failure(name, 'BAD_OUTPUT', `guest probe ${name} answered for probe ${String(o.probe)}`, r);
  }
  return parsed as ProbeOutput<N>;
}

export function createRemoteProber(exec: Exec, options: RemoteProberOptions = {}): RemoteProber {
  const command = options.command ?? ['cxl-harness'];
  const argv = <N extends ProbeName>(name: N, args?: ProbeArgs[N]): string[] => [
    ...command, 'probe', name, ...formatProbeArgv(name, (args ?? {}) as Record<string, unknown>), '--json',
  ];
  return {
    argv,
    async run(name, args) {
      const words = argv(name, args); // throws ProbeArgumentError on misuse, before anything runs
      let r: ExecResult;
      try {
        r = await exec(words);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return failure(name, 'EXEC_FAILED', `could not run guest probe ${name}: ${message}`, { stdout: '', stderr: '', exitCode: null });
      }
      return parseRemoteOutput(name, r);
    },
  };
}

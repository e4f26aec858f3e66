/**
 * The sysfs and command primitives the guest's CXL flows are made of: paths, one read, one
 * write, one command, a polled wait, each a step the caller records (see flows.ts). Kernel
 * refusals are data (errno code); waits poll sysfs state, there are no fixed sleeps.
 */
import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { basename, join } from 'node:path';
import { listDir, readTrimmed, writeText } from '../../probe/sysfs.js';

export const CXL = '/sys/bus/cxl/devices';
export const DAX = '/sys/bus/dax/devices';
export const NODES = '/sys/devices/system/node';
export const MEMORY = '/sys/devices/system/memory';

export interface RunStep { run: string[]; ok: boolean; exitCode: number | null; stdout: string; stderr?: string; ms: number }
export interface WriteStep { write: string; value: string; ok: boolean; code?: string; errno?: number; ms: number }
export interface WaitStep { wait: string; ok: boolean; ms: number }
export interface NoteStep { note: string; ok: false }
export type Step = RunStep | WriteStep | WaitStep | NoteStep;
export type Recorder = (step: Step) => void;

/** A flow's outcome: ok, or a code and an error naming the step that failed. */
export interface FlowResult { ok: boolean; code?: string; error?: string }

/** A sysfs file's text, trimmed, or undefined when it cannot be read (the probe layer's read). */
export const read = readTrimmed;

/** A directory's entries, sorted; none when it cannot be read. */
export const ls = listDir;

/** Write a sysfs attribute in one write(2); a refusal is data: { ok: false, code, errno }. */
export function write(path: string, value: string | number): WriteStep {
  const t = Date.now();
  const o = writeText(path, String(value));
  return { write: path, value: String(value), ok: o.ok, ...(o.ok ? {} : { code: o.code, errno: o.errno }), ms: Date.now() - t };
}

/** Run a command to its end; a non-zero exit is data. */
export function run(argv: string[], timeoutMs = 120_000): RunStep {
  const t = Date.now();
  try {
    const stdout = execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    return { run: argv, ok: true, exitCode: 0, stdout, ms: Date.now() - t };
  } catch (e) {
    const err = e as { status?: number | null; stdout?: unknown; stderr?: unknown; message?: string };
    return { run: argv, ok: false, exitCode: err.status ?? null, stdout: String(err.stdout ?? ''), stderr: String(err.stderr ?? err.message), ms: Date.now() - t };
  }
}

export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Poll `predicate` until it returns something truthy (returned) or the time is up (undefined). */
export function waitFor<T>(predicate: () => T | undefined | false | null, timeoutMs: number, everyMs = 20): T | undefined {
  const t = Date.now();
  for (;;) {
    const v = predicate();
    if (v) return v;
    if (Date.now() - t > timeoutMs) return undefined;
    sleepMs(everyMs);
  }
}

/** waitFor, recorded as a { wait } step. */
export function waitRecorded<T>(record: Recorder, what: string, predicate: () => T | undefined | false | null, timeoutMs: number): T | undefined {
  const t = Date.now();
  const v = waitFor(predicate, timeoutMs);
  record({ wait: what, ok: Boolean(v), ms: Date.now() - t });
  return v;
}

/**
 * The line of a command's stderr that says what went wrong: the last (most tools end with the
 * failure) or the first (cxl's label commands print the cause first, then their summary).
 */
export function complaint(stderr: string | undefined, line: 'first' | 'last' = 'last'): string {
  const lines = (stderr ?? '').trim().split('\n');
  return (line === 'first' ? lines[0] : lines.pop()) ?? '';
}

export function driverOf(path: string): string | undefined {
  try {
    return basename(realpathSync(join(path, 'driver')));
  } catch {
    return undefined;
  }
}

export function blockSize(): number {
  return parseInt(read(join(MEMORY, 'block_size_bytes')) ?? '0', 16);
}

/** Steps as the agent's flow verbs answer them: each kept, command output capped at 4000 characters. */
export function recorder(): { steps: Step[]; record: Recorder } {
  const steps: Step[] = [];
  const record = (step: Step): void => {
    if ('run' in step) steps.push({ ...step, stdout: step.stdout.slice(0, 4000), ...(step.stderr !== undefined ? { stderr: step.stderr.slice(0, 4000) } : {}) });
    else steps.push(step);
  };
  return { steps, record };
}

/**
 * How the loop's steps touch the guest and record it: sysfs writes and commands in the step
 * record's format (command output capped at 2000 characters), the kernel log, and writes
 * bounded in a child process for the ones the kernel may never return from.
 */
import { writeFileSync } from 'node:fs';
import * as cxl from '../cxl.js';

const CAP = 2000;

export type WriteOutcome = Pick<cxl.WriteStep, 'ok' | 'code' | 'errno'>;

/** A sysfs write as a step shows it: { ok } or { ok: false, code, errno }. */
export function writeAttr(path: string, value: string | number): WriteOutcome {
  const { ok, code, errno } = cxl.write(path, value);
  return ok ? { ok } : { ok, code, errno };
}

export function cap(r: cxl.RunStep): cxl.RunStep {
  return { ...r, stdout: r.stdout.slice(0, CAP), ...(r.stderr !== undefined ? { stderr: r.stderr.slice(0, CAP) } : {}) };
}

/** A command as a step shows it. */
export function runCapped(argv: string[]): cxl.RunStep {
  return cap(cxl.run(argv));
}

/**
 * A line into the kernel log (the host reads it live on the serial console); not fatal when
 * refused. CXL_HARNESS_KMSG names another file: the unit tests run the loop on the host, whose
 * kernel log is not theirs to write.
 */
export function kmsg(line: string): void {
  try {
    writeFileSync(process.env.CXL_HARNESS_KMSG ?? '/dev/kmsg', `${line}\n`, { flag: 'a' });
  } catch {
    // not root, or no /dev/kmsg: the step records still say what happened
  }
}

export interface BoundedWrite { write: string; value: string; ms: number; ok: boolean; code?: string; error?: string; stderr?: string }

/**
 * A sysfs write from a child process SIGKILLed after timeoutS: a write the kernel keeps
 * retrying (an offline that cannot migrate a page nobody frees, a hugetlb pool that cannot
 * grow) ends only on a fatal signal, and must not hang the loop. code TIMEOUT = it was still
 * in the kernel when killed.
 */
export function boundedWrite(path: string, value: string | number, timeoutS: number): BoundedWrite {
  const t = Date.now();
  const r = cxl.run(['timeout', '-s', 'KILL', String(timeoutS), 'sh', '-c', `echo ${value} > ${path}`], (timeoutS + 10) * 1000);
  const ms = Date.now() - t;
  const base = { write: path, value: String(value), ms };
  if (r.exitCode === 0) return { ...base, ok: true };
  // timeout(1) SIGKILLs its whole process group, itself too: no exit status to go by, the time tells.
  if (ms >= timeoutS * 1000) return { ...base, ok: false, code: 'TIMEOUT', error: `echo ${value} > ${path} was still in the kernel after ${timeoutS} s (SIGKILLed)` };
  const stderr = (r.stderr ?? '').slice(0, 200);
  return { ...base, ok: false, code: /busy/i.test(stderr) ? 'EBUSY' : /invalid/i.test(stderr) ? 'EINVAL' : 'EIO', stderr };
}

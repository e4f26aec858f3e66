/**
 * How the loop's steps touch the guest and record it: sysfs writes and commands in the step
 * record's format (command output capped at 2000 characters), and the kernel log. Writes the
 * kernel may never return from are bounded by cxl.ts's boundedWrite.
 */
import { writeFileSync } from 'node:fs';
import * as cxl from '../cxl/index.js';

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
/** A flow's step as a repro step keeps it: commands (capped) and writes, a block's with its ms; no waits or notes. */
export type SubStep = cxl.RunStep | Omit<cxl.WriteStep, 'ms'> | (cxl.WriteStep & cxl.BlockWrite);

/** The recorder a repro step hands the agent's flows: what it keeps of each of their steps goes to `sub`. */
export function recorder(sub: SubStep[]): cxl.Recorder {
  return (step) => {
    if ('run' in step) sub.push(cap(step));
    else if ('block' in step) sub.push(step as cxl.WriteStep & cxl.BlockWrite);
    else if ('write' in step) {
      const { ms: _ms, ...w } = step;
      sub.push(w);
    }
  };
}

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

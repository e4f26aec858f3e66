/**
 * Kernel answers as data. Every probe step reports `{ok, errno, code}`: errno 0 and code 'OK'
 * when the kernel said yes, the positive errno and its symbolic name when it said no.
 */
import { constants } from 'node:os';

export interface ErrnoOutcome {
  ok: boolean;
  errno: number;
  code: string;
}

const names = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]));

export function errnoName(errno: number): string {
  return names.get(errno) ?? `E${errno}`;
}

export function outcome(errno: number): ErrnoOutcome {
  return errno === 0 ? { ok: true, errno: 0, code: 'OK' } : { ok: false, errno, code: errnoName(errno) };
}

/** The ErrnoOutcome of a failed node:fs call (Node reports errno negated, with the name in `code`). */
export function outcomeOfError(error: unknown): ErrnoOutcome {
  const e = error as NodeJS.ErrnoException;
  if (typeof e?.code === 'string' && e.code in constants.errno) {
    return outcome(constants.errno[e.code as keyof typeof constants.errno]);
  }
  throw error;
}

/** The first failing step decides a probe's overall outcome. */
export function firstFailure(steps: ReadonlyArray<ErrnoOutcome | undefined>): ErrnoOutcome {
  const failed = steps.find((s): s is ErrnoOutcome => s !== undefined && !s.ok);
  return failed ? { ok: false, errno: failed.errno, code: failed.code } : outcome(0);
}

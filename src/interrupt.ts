/**
 * One process-wide cancellation: SIGINT/SIGTERM abort it, host programs started through
 * proc.run are killed by it, and the run finishes with outcome `interrupted`.
 */
import { ExitCode, HarnessError } from './errors.js';

export type InterruptSignal = 'SIGINT' | 'SIGTERM';

const controller = new AbortController();
let received: InterruptSignal | undefined;

export const interruptSignal: AbortSignal = controller.signal;

export function interrupt(signal: InterruptSignal): void {
  received ??= signal;
  controller.abort(new Error(`interrupted by ${signal}`));
}

export function interruptedBy(): InterruptSignal | undefined {
  return received;
}

/** The exit code of a command ended by SIGINT (130) or SIGTERM (143). */
export function exitCodeOf(signal: InterruptSignal): number {
  return signal === 'SIGTERM' ? ExitCode.sigterm : ExitCode.sigint;
}

/** The error that ends whatever was running when the harness was interrupted ("during check x"). */
export function interruptedError(signal: InterruptSignal, during?: string): HarnessError {
  return new HarnessError('INTERRUPTED', `interrupted by ${signal}${during ? ` ${during}` : ''}`, { exitCode: exitCodeOf(signal) });
}

/** Throws the interruption, if there was one: a step that has not started yet does not start. */
export function throwIfInterrupted(): void {
  if (received) throw interruptedError(received);
}

/**
 * A promise that rejects with the interruption (saying where: `during`) once the harness is
 * interrupted, for racing against long waits; call dispose() when the wait is over so listeners
 * do not pile up.
 */
export function whenInterrupted(during?: string): { promise: Promise<never>; dispose: () => void } {
  let onAbort: (() => void) | undefined;
  const promise = new Promise<never>((_, reject) => {
    onAbort = () => reject(interruptedError(received ?? 'SIGINT', during));
    if (interruptSignal.aborted) onAbort();
    else interruptSignal.addEventListener('abort', onAbort, { once: true });
  });
  return { promise, dispose: () => { if (onAbort) interruptSignal.removeEventListener('abort', onAbort); } };
}

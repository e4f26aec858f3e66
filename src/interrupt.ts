/**
 * One process-wide cancellation: SIGINT/SIGTERM abort it, host programs started through
 * proc.run are killed by it, and the run finishes with outcome `interrupted`.
 */
const controller = new AbortController();
let received: 'SIGINT' | 'SIGTERM' | undefined;

export const interruptSignal: AbortSignal = controller.signal;

export function interrupt(signal: 'SIGINT' | 'SIGTERM'): void {
  received ??= signal;
  controller.abort(new Error(`interrupted by ${signal}`));
}

export function interruptedBy(): 'SIGINT' | 'SIGTERM' | undefined {
  return received;
}

/**
 * A promise that rejects (with the error `make` returns) once the harness is interrupted, for
 * racing against long waits; call dispose() when the wait is over so listeners do not pile up.
 */
export function whenInterrupted(make: (signal: 'SIGINT' | 'SIGTERM') => Error): { promise: Promise<never>; dispose: () => void } {
  let onAbort: (() => void) | undefined;
  const promise = new Promise<never>((_, reject) => {
    onAbort = () => reject(make(received ?? 'SIGINT'));
    if (interruptSignal.aborted) onAbort();
    else interruptSignal.addEventListener('abort', onAbort, { once: true });
  });
  return { promise, dispose: () => { if (onAbort) interruptSignal.removeEventListener('abort', onAbort); } };
}

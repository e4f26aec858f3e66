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

/**
 * The one supervisor of work done in a running guest (a check of a run, `ssh --exec`): the work
 * races QEMU ending on its own (a panic with -no-reboot, a kill: the loss, loss.ts), its bound
 * (a hang, with the caller's words) and an interruption (SIGINT/SIGTERM). Work that ended because
 * the connection dropped is not believed: QEMU gone is the loss, and a guest that refuses a new
 * connection while QEMU runs is hung.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { HarnessError } from '../errors.js';
import { throwIfInterrupted, whenInterrupted } from '../interrupt.js';
import { lossError, type Loss } from './loss.js';
import type { Boot } from './machine.js';
import { Watchdog } from './watchdog.js';

export interface SuperviseOptions {
  /** Where the work was, for messages: "during check spm.x", "during the command". */
  during: string;
  /** The work's bound; past it the guest is hung, and `hang` says so in the caller's words. */
  bound?: { ms: number; hang: () => HarnessError };
}

export async function supervise<T>(
  boot: Boot,
  loss: () => Promise<Loss>,
  work: () => Promise<T>,
  o: SuperviseOptions,
): Promise<T> {
  throwIfInterrupted();
  const { vm, ssh, guest } = boot;
  let watchdog: Watchdog | undefined;
  const hang = o.bound && new Promise<never>((_, reject) => {
    watchdog = new Watchdog(o.bound!.ms, () => reject(o.bound!.hang()));
  });
  let over = false;
  const never = new Promise<never>(() => undefined);
  // Classified once (it may read the host's kernel log), however many paths notice the loss.
  let lost: Promise<never> | undefined;
  const gone = (): Promise<never> => (lost ??= loss().then((l) => Promise.reject(lossError(l, o.during))));
  const ended = vm.exit.then((exit) => (exit.byHarness || over ? never : gone()));
  const interrupted = whenInterrupted(o.during);
  try {
    const result = await Promise.race([work(), ended, interrupted.promise, ...(hang ? [hang] : [])]);
    // Work that ended because the connection dropped may have raced QEMU's exit: wait a moment.
    if (!guest.connected && !vm.exited) await Promise.race([vm.exit, sleep(3000, undefined, { ref: false })]);
    if (vm.exited && !vm.exited.byHarness) await gone();
    // QEMU still runs but the connection dropped: a guest that takes no new connection is hung
    // (a frozen kernel ends SSH by keepalive timeout before a bound fires).
    if (!guest.connected && !vm.exited) {
      const probe = await ssh.exec('true', { timeoutMs: 15_000 });
      if (vm.exited) await gone();
      if (probe.exitCode !== 0) {
        throw new HarnessError('GUEST_HANG', `the guest stopped answering ${o.during}: its SSH connection dropped and a new one got no answer (${probe.stderr.trim() || (probe.timedOut ? 'timed out' : 'no session')}), while QEMU still runs`, {
          hint: 'see console.log for the guest\'s last words (hung tasks, RCU stalls, soft lockups)',
        });
      }
    }
    throwIfInterrupted();
    return result;
  } finally {
    over = true;
    watchdog?.dispose();
    interrupted.dispose();
  }
}

/**
 * Why the guest went away: the one answer to that question, for every caller (the boot, a
 * check of a run, a repro iteration, `ssh --exec`). The console's panic report comes first
 * (the kernel is gone, whatever QEMU did next), then QEMU's own state: stopped by a signal
 * (the emulator hangs, not the kernel), ended on its own, or still running while the guest
 * does not answer (a hang when a watchdog said so, else a lost connection).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ExitCode, HarnessError, tail } from '../errors.js';
import type { Vm } from '../qemu/vm.js';

export type LossKind = 'kernel-crash' | 'qemu-stopped' | 'qemu-died' | 'hang' | 'lost';

export interface Loss {
  kind: LossKind;
  /** One line: what happened, in words ("the guest kernel panicked: <its line>"). */
  detail: string;
  /** The kernel's panic line (kernel-crash) or QEMU's last stderr lines (qemu-died). */
  evidence?: string;
}

export interface LossOptions {
  /** A watchdog saw no progress within its bound. */
  hung?: boolean;
  /** How long to let QEMU end and the console settle first (a panic races the dropped connection). */
  settleMs?: number;
}

export async function classifyLoss(vm: Vm, options: LossOptions = {}): Promise<Loss> {
  const settleMs = options.settleMs ?? 3000;
  if (!vm.exited && settleMs > 0 && !options.hung) await Promise.race([vm.exit, sleep(settleMs, undefined, { ref: false })]);
  await vm.console.poll();
  const panic = vm.console.panic();
  if (panic) {
    const line = (panic.lines.find((l) => l.includes(panic.title)) ?? panic.title).trim();
    return { kind: 'kernel-crash', detail: `the guest kernel panicked: ${line}`, evidence: line };
  }
  if (vm.isStopped()) {
    return { kind: 'qemu-stopped', detail: `QEMU (pid ${vm.pid}) is stopped by a signal (SIGSTOP, SIGTSTP or a debugger), so the guest could not answer` };
  }
  const exit = vm.exited;
  if (exit && !exit.byHarness) {
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code ?? '?'}`;
    const stderr = vm.stderr().trim() ? tail(vm.stderr(), 5) : undefined;
    return { kind: 'qemu-died', detail: `QEMU ${how}`, ...(stderr ? { evidence: stderr } : {}) };
  }
  if (options.hung) return { kind: 'hang', detail: 'the guest made no progress within its bound while QEMU runs' };
  return { kind: 'lost', detail: 'the connection to the guest was lost while QEMU still runs' };
}

const HINTS: Record<LossKind, string> = {
  'kernel-crash': 'the panic trace is in console.log and in the summary findings',
  'qemu-stopped': 'something on the host stopped QEMU (a job-control Ctrl-Z, a debugger, a cgroup freezer); this says nothing about the kernel: run again',
  'qemu-died': 'see qemu.stderr.log; if something on the host killed QEMU (OOM killer, a user), run again',
  hang: 'see console.log for the guest\'s last words (blocked tasks and CPU backtraces are dumped there)',
  lost: 'see console.log for the guest\'s last words (hung tasks, RCU stalls, soft lockups)',
};

const CODES: Record<LossKind, string> = {
  'kernel-crash': 'KERNEL_PANIC',
  'qemu-stopped': 'QEMU_STOPPED',
  'qemu-died': 'QEMU_DIED',
  hang: 'GUEST_HANG',
  lost: 'GUEST_LOST',
};

/**
 * The loss as the error that ends a run. `during` says where ("during check spm.x"); `what`
 * is the caller's own account (a watchdog's message), kept after a stopped QEMU's explanation.
 */
export function lossError(loss: Loss, during: string, options: { what?: string; cause?: unknown; context?: Record<string, unknown> } = {}): HarnessError {
  const { what, ...rest } = options;
  const message = {
    'kernel-crash': () => `the guest kernel panicked ${during}: ${loss.evidence}`,
    'qemu-died': () => `${loss.detail} ${during}, without a kernel panic on the console${loss.evidence ? `:\n${loss.evidence}` : ''}`,
    'qemu-stopped': () => `${loss.detail}: ${what ?? during}`,
    hang: () => what ?? `${loss.detail} ${during}`,
    lost: () => what ?? `${loss.detail} ${during}`,
  }[loss.kind]();
  return new HarnessError(CODES[loss.kind], message, {
    hint: HINTS[loss.kind],
    ...(loss.kind === 'kernel-crash' ? { exitCode: ExitCode.kernelCrash } : {}),
    ...rest,
  });
}

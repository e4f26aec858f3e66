/**
 * Why the guest went away: the one answer to that question, for every caller (the boot, a
 * check of a run, a repro iteration, `ssh --exec`). The console's panic report comes first
 * (the kernel is gone, whatever QEMU did next), then QEMU's own state: stopped by a signal
 * (the emulator hangs, not the kernel), ended on its own, or still running while the guest
 * does not answer (a hang when a watchdog said so, else a lost connection).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ExitCode, HarnessError, tail } from '../errors.js';
import { run } from '../exec.js';
import type { Vm } from '../qemu/vm.js';

export type LossKind = 'kernel-crash' | 'qemu-stopped' | 'qemu-died' | 'hang' | 'lost';

export interface Loss {
  kind: LossKind;
  /** One line: what happened, in words ("the guest kernel panicked: <its line>"). */
  detail: string;
  /** The kernel's panic line (kernel-crash) or QEMU's last stderr lines (qemu-died). */
  evidence?: string;
  /** QEMU's own fault in the host kernel's log (qemu-died by SIGSEGV/SIGBUS), when the host lets us read it. */
  hostFault?: string;
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
    const hostFault = exit.signal === 'SIGSEGV' || exit.signal === 'SIGBUS' ? await hostFaultLine(vm.pid) : undefined;
    return { kind: 'qemu-died', detail: `QEMU ${how}`, ...(stderr || hostFault ? { evidence: [hostFault, stderr].filter(Boolean).join('\n') } : {}), ...(hostFault ? { hostFault } : {}) };
  }
  if (options.hung) return { kind: 'hang', detail: 'the guest made no progress within its bound while QEMU runs' };
  return { kind: 'lost', detail: 'the connection to the guest was lost while QEMU still runs' };
}

/**
 * The host kernel's line about a QEMU that faulted ("qemu-system-x86[PID]: segfault at 8 ip ...
 * in qemu-system-x86_64[OFFSET,...]"): where in the emulator it died. Reading the kernel log
 * needs root where dmesg_restrict is set; without it there is no line, not an error.
 */
async function hostFaultLine(pid: number | undefined): Promise<string | undefined> {
  if (pid === undefined) return undefined;
  const r = await run('dmesg', [], { reject: false, timeoutMs: 5000 }).catch(() => undefined);
  return r?.exitCode === 0 ? hostFaultIn(r.stdout, pid) : undefined;
}

/** The last line of a host kernel log about process PID's fault. */
export function hostFaultIn(log: string, pid: number): string | undefined {
  return log.split('\n').reverse().find((l) => (l.includes(`[${pid}]: segfault`) || l.includes(`[${pid}] general protection`) || l.includes(`[${pid}] trap`)))?.trim();
}

/** A QEMU that faulted by itself is QEMU's bug whatever the guest did: the hint says which one we know. */
const QEMU_FAULT_HINT = 'QEMU itself crashed: this is no verdict on the kernel; run again. QEMU 10.0\'s TCG is known to crash so '
  + '("segfault at 8" in the host log) when an XSAVE/FXSAVE, e.g. a signal frame, spans a RAM page and a CXL page: '
  + 'CXL memory is I/O to TCG and target/i386/tcg/access.c (access_ptr) writes through the missing host pointer of the second page; '
  + 'that needs user pages on a CXL node (a stock kernel under memory pressure puts them there)';

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
    hint: loss.hostFault ? QEMU_FAULT_HINT : HINTS[loss.kind],
    ...(loss.kind === 'kernel-crash' ? { exitCode: ExitCode.kernelCrash } : {}),
    ...rest,
  });
}

/**
 * Boot the guest and wait until it answers over SSH. Every way this can go wrong ends in
 * one HarnessError naming the cause: QEMU refusing the argv, a kernel panic during boot,
 * QEMU dying, or a guest that never answers (with the last console lines).
 */
import { HarnessError, tail } from '../errors.js';
import { GuestSsh, type ExecResult } from '../remote/ssh.js';
import type { GuestImage } from '../image/image.js';
import type { KernelArtifact } from '../kernel/artifact.js';
import { kernelCmdline, type Accel } from '../qemu/argv.js';
import type { Topology } from '../qemu/topology.js';
import { Vm } from '../qemu/vm.js';
import { progress } from '../progress.js';
import { classifyLoss, lossError } from './loss.js';

/** What guest-scripts/init.sh prints on the console once sshd is started. */
const GUEST_READY = 'cxl-harness: guest ready';

export interface BootOptions {
  kernel: KernelArtifact;
  image: GuestImage;
  topology: Topology;
  dir: string;
  accel: Accel;
  timeoutMs: number;
  extraCmdline?: string[];
  /** File name prefix for a second or later boot in the same results dir. */
  name?: string;
}

export interface Booted {
  vm: Vm;
  ssh: GuestSsh;
  bootMs: number;
}

export async function bootGuest(options: BootOptions): Promise<Booted> {
  const started = Date.now();
  const vm = await Vm.start({
    dir: options.dir,
    ...(options.name ? { name: options.name } : {}),
    spec: {
      topology: options.topology,
      kernel: options.kernel.image,
      initrd: options.image.initramfs,
      append: kernelCmdline({ extra: options.extraCmdline ?? [] }),
      rootImage: options.image.image,
      payloadImage: options.image.payload,
      accel: options.accel,
    },
  });
  // The live line shows the guest's last console words until it answers SSH.
  const stopShowing = vm.console.onLine((line) => { if (line.trim()) progress.update(line.replace(/^\[\s*\d+\.\d+\]\s*/, '').trim()); });
  try {
    const ssh = await GuestSsh.waitReady(
      { port: vm.sshPort, privateKeyPath: options.image.keys.clientKey, hostPub: options.image.keys.hostPub },
      () => !vm.exited,
      options.timeoutMs,
      () => vm.console.contents().includes(GUEST_READY),
    );
    stopShowing();
    return { vm, ssh, bootMs: Date.now() - started };
  } catch (cause) {
    stopShowing();
    const loss = await classifyLoss(vm, { settleMs: 500 });
    const initramfsError = vm.console.contents().split('\n').find((l) => l.includes('cxl-harness: initramfs:'));
    const lastLines = vm.console.lastLines(30);
    await vm.stop();
    if (loss.kind === 'kernel-crash') {
      const e = lossError(loss, 'during boot', { cause });
      throw new HarnessError(e.code, `${e.message}\n--- last console lines ---\n${lastLines}`, {
        hint: 'read console.log in the results dir; a kernel without the drivers the guest needs (virtio, ext4, CXL) panics here',
        exitCode: e.exitCode,
        cause,
      });
    }
    if (initramfsError) {
      throw new HarnessError('GUEST_ROOT_FAILED', `${initramfsError.replace(/^.*cxl-harness: /, '').trim()}\n--- last console lines ---\n${lastLines}`, {
        hint: 'the kernel could not mount the guest image: check that it has virtio_blk and ext4 (built in or in --modules)',
        cause,
      });
    }
    if (loss.kind === 'qemu-died') {
      throw new HarnessError('QEMU_EXITED', `QEMU exited during boot (code ${vm.exited?.code ?? '?'}, signal ${vm.exited?.signal ?? 'none'}):\n${tail(vm.stderr(), 10)}\n--- last console lines ---\n${lastLines}`, {
        hint: 'see qemu.stderr.log and console.log in the results dir',
        cause,
      });
    }
    throw new HarnessError('GUEST_NO_SSH', `the guest did not answer SSH within ${Math.round(options.timeoutMs / 1000)} s (${(cause as Error).message})\n--- last console lines ---\n${lastLines}`, {
      hint: 'if the console stops early the kernel hung; if it reached "guest ready", check the network (hostfwd on 127.0.0.1); raise --boot-timeout for slow machines',
      cause,
    });
  }
}

/**
 * The guest's init loads the CXL, dax and zram drivers while the network and sshd come up, and
 * says so with this file when it is done (guest-scripts/init.sh): up to 60 s.
 */
const WAIT_FOR_DRIVERS = 'i=0; while [ ! -e /run/cxlh-drivers-loaded ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done';

/**
 * After boot: the guest kernel has a CXL root (cxl_acpi bound the CFMWS windows). Without one,
 * no CXL check could test anything, so the run stops with one message naming cause and fix
 * instead of a row of failed checks. `save` keeps the command's record before the verdict.
 */
export async function assertGuestCxl(
  ssh: GuestSsh,
  readConsole: () => Promise<string>,
  release: string | undefined,
  save: (r: ExecResult) => Promise<unknown> = async () => undefined,
): Promise<ExecResult> {
  const r = await ssh.exec(`${WAIT_FOR_DRIVERS}; ls /sys/bus/cxl/devices 2>/dev/null; echo "cmdline: $(cat /proc/cmdline)"`, { timeoutMs: 120_000 });
  await save(r);
  if (r.exitCode !== 0) {
    throw new HarnessError('GUEST_UNRESPONSIVE', `the guest did not answer the CXL preflight (${r.timedOut ? 'timed out' : r.disconnected ? 'connection lost' : `exit ${r.exitCode}`})`, {
      hint: 'see console.log in the results dir',
    });
  }
  const devices = r.stdout.split('\n').filter((l) => !l.startsWith('cmdline:')).flatMap((l) => l.trim().split(/\s+/)).filter(Boolean);
  if (!devices.some((d) => /^root\d+$/.test(d))) {
    const missing = (await readConsole()).split('\n').filter((l) => /cxl-harness: module \S+ not available/.test(l)).map((l) => l.replace(/^.*cxl-harness: /, '').trim());
    const cmdline = r.stdout.split('\n').find((l) => l.startsWith('cmdline:'))?.slice(9).trim() ?? '';
    const blacklisted = /module_blacklist=\S*cxl/.test(cmdline);
    throw new HarnessError('KERNEL_NO_CXL', `the guest kernel ${release ?? ''} has no CXL root device (/sys/bus/cxl/devices has no root0): it lacks CXL support or cxl_acpi did not load${missing.length ? ` (${missing.join('; ')})` : ''}; no CXL check can run`.replace(/  +/g, ' '), {
      hint: blacklisted
        ? 'the kernel command line blacklists CXL modules (module_blacklist=...): drop that from --cmdline'
        : 'use a kernel with CONFIG_CXL_BUS, CXL_ACPI, CXL_PCI, CXL_MEM, DEV_DAX_KMEM (the default Debian kernel has them, or build with kernel-config/cxl.config)',
      context: { devices, cmdline, missing },
    });
  }
  return r;
}

/**
 * On a hang, ask the kernel what it is doing, into the console log: the blocked tasks (sysrq
 * w) and a backtrace of every CPU (sysrq l), since a task spinning in the kernel (an offline
 * that retries forever, a hugetlb pool that cannot grow) is running, not blocked, and sysrq w
 * alone shows nothing of it. Best effort: the guest may not answer.
 */
export async function hangDump(ssh: GuestSsh): Promise<void> {
  await ssh.exec('echo w > /proc/sysrq-trigger; echo l > /proc/sysrq-trigger', { timeoutMs: 5000 }).catch(() => undefined);
}

/**
 * Boot the guest and wait until it answers over SSH. Every way this can go wrong ends in
 * one HarnessError naming the cause: QEMU refusing the argv, a kernel panic during boot,
 * QEMU dying, or a guest that never answers (with the last console lines).
 */
import { HarnessError, tail } from '../errors.js';
import { GuestSsh } from '../guest/ssh.js';
import type { GuestImage } from '../image/image.js';
import type { KernelArtifact } from '../kernel/artifact.js';
import { kernelCmdline, type Accel } from '../qemu/argv.js';
import { CRASH_PATTERN } from '../qemu/console.js';
import type { Topology } from '../qemu/topology.js';
import { Vm } from '../qemu/vm.js';
import { ExitCode } from '../errors.js';

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
      accel: options.accel,
    },
  });
  try {
    const ssh = await GuestSsh.waitReady(
      { port: vm.sshPort, privateKeyPath: options.image.keys.clientKey, hostPub: options.image.keys.hostPub },
      () => !vm.exited,
      options.timeoutMs,
    );
    return { vm, ssh, bootMs: Date.now() - started };
  } catch (cause) {
    await vm.console.poll();
    const consoleText = vm.console.contents();
    const panic = consoleText.split('\n').find((l) => CRASH_PATTERN.test(l));
    const initramfsError = consoleText.split('\n').find((l) => l.includes('cxl-harness: initramfs:'));
    const lastLines = vm.console.lastLines(30);
    await vm.stop();
    if (panic) {
      throw new HarnessError('KERNEL_PANIC', `the guest kernel panicked during boot: ${panic.trim()}\n--- last console lines ---\n${lastLines}`, {
        hint: 'read console.log in the results dir; a kernel without the drivers the guest needs (virtio, ext4, CXL) panics here',
        exitCode: ExitCode.kernelCrash,
        cause,
      });
    }
    if (initramfsError) {
      throw new HarnessError('GUEST_ROOT_FAILED', `${initramfsError.replace(/^.*cxl-harness: /, '').trim()}\n--- last console lines ---\n${lastLines}`, {
        hint: 'the kernel could not mount the guest image: check that it has virtio_blk and ext4 (built in or in --modules)',
        cause,
      });
    }
    if (vm.exited && !vm.exited.byHarness) {
      throw new HarnessError('QEMU_EXITED', `QEMU exited during boot (code ${vm.exited.code ?? '?'}, signal ${vm.exited.signal ?? 'none'}):\n${tail(vm.stderr(), 10)}\n--- last console lines ---\n${lastLines}`, {
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

/**
 * `cxl-harness ssh`: boot a guest and run one command in it (its exit code becomes ours),
 * or open an interactive shell. The way to call probes by hand:
 *   cxl-harness ssh --exec 'cxl-harness probe nodes --json'
 */
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExitCode } from '../errors.js';
import { guestImage } from '../image/image.js';
import { CRASH_PATTERN } from '../qemu/console.js';
import { resolveKernel } from '../kernel/resolve.js';
import { bootGuest } from '../run/boot.js';
import { preflight } from '../run/preflight.js';
import { Results } from '../results/results.js';
import { parse, seconds } from './args.js';
import { KERNEL_HELP, kernelOptions, kernelSpecFrom } from './run.js';

export const SSH_HELP = `cxl-harness ssh [--exec CMD] [--topology NAME|FILE] [kernel options]

Boot a guest (default topology: default) and run CMD in it, passing its output through as it
comes and exiting with its exit code; without --exec, open an interactive root shell. The guest is
powered off when the command or shell ends. Console and command logs go to a results dir.

  --exec CMD                 command line to run in the guest (sh -c)
  --topology NAME|FILE       CXL topology (default: default)
  --kvm                      KVM instead of TCG
  --boot-timeout S           seconds to wait for SSH (default 180)
  --results DIR              where to keep the console log (default results/<timestamp>-<id>)

${KERNEL_HELP}`;

export async function sshCommand(argv: string[], log: (line: string) => void): Promise<number> {
  const { values } = parse(argv, {
    ...kernelOptions,
    exec: { type: 'string' },
    topology: { type: 'string', default: 'default' },
    kvm: { type: 'boolean' },
    'boot-timeout': { type: 'string' },
    results: { type: 'string' },
  }, SSH_HELP);
  const spec = kernelSpecFrom(values, SSH_HELP);
  const location = values.results ? { dir: values.results } : {};
  const { topology } = await preflight({ results: location, topology: values.topology!.includes('/') ? resolve(values.topology!) : values.topology!, kernel: spec });
  const results = await Results.create(location);
  log(`results: ${results.dir}`);
  const kernel = await resolveKernel(spec, log);
  const image = await guestImage(kernel, { log });
  const { vm, ssh } = await bootGuest({ kernel, image, topology, dir: results.dir, accel: values.kvm ? 'kvm' : 'tcg', timeoutMs: seconds(values['boot-timeout'], '--boot-timeout', 180) });
  log(`guest up (ssh -p ${vm.sshPort} -i ${image.keys.clientKey} root@127.0.0.1)`);
  try {
    if (values.exec !== undefined) {
      // Output is passed through as it comes, so a long command shows its progress.
      const r = await ssh.exec(values.exec, {
        timeoutMs: 24 * 3600 * 1000,
        onStdout: (chunk) => process.stdout.write(chunk),
        onStderr: (chunk) => process.stderr.write(chunk),
      });
      await results.saveCommand('exec', r);
      if (r.exitCode !== null) return r.exitCode;
      // No exit status: say why (the guest kernel panicked, QEMU died), never a bare failure.
      if (!vm.exited) await Promise.race([vm.exit, sleep(3000, undefined, { ref: false })]);
      await vm.console.poll();
      const panic = vm.console.contents().split('\n').find((l) => CRASH_PATTERN.test(l));
      if (panic) {
        log(`the guest kernel panicked: ${panic.trim()} (see ${results.rel(vm.consoleLog)} in ${results.dir})`);
        return ExitCode.kernelCrash;
      }
      log(vm.exited && !vm.exited.byHarness
        ? `QEMU ended during the command (${vm.exited.signal ? `killed by ${vm.exited.signal}` : `exit code ${vm.exited.code ?? '?'}`}); see qemu.stderr.log in ${results.dir}`
        : `the command did not finish: ${r.timedOut ? 'timed out' : 'the connection to the guest was lost'}`);
      return ExitCode.infrastructure;
    }
    return await ssh.shell();
  } finally {
    ssh.close();
    await vm.stop();
  }
}

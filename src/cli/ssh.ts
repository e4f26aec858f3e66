/**
 * `cxl-harness ssh`: boot a guest and run one command in it (its exit code becomes ours),
 * or open an interactive shell. The way to call probes by hand:
 *   cxl-harness ssh --exec 'cxl-harness probe nodes --json'
 */
import { HarnessError, isHarnessError } from '../errors.js';
import { Machine, resultsAt } from '../machine/machine.js';
import { parse } from './args.js';
import { KERNEL_HELP, KERNEL_OPTIONS, MACHINE_OPTIONS, RESULTS_HELP, RESULTS_OPTIONS, kernelSpecFrom, machineFrom, machineHelp, resultsFrom } from './options.js';

export const SSH_HELP = `cxl-harness ssh [--exec CMD] [--topology NAME|FILE] [kernel options]

Boot a guest (default topology: default) and run CMD in it, passing its output through as it
comes and exiting with its exit code; without --exec, open an interactive root shell. The guest is
powered off when the command or shell ends. Console and command logs go to a results dir.

  --exec CMD                 command line to run in the guest (sh -c)
${machineHelp('default')}
${RESULTS_HELP}

${KERNEL_HELP}

Exit codes: with --exec, the command's own exit code; 2 the guest did not come up (or bad
options), 3 its kernel crashed, 130/143 interrupted.`;

export async function sshCommand(argv: string[], log: (line: string) => void): Promise<number> {
  const { values } = parse(argv, { ...KERNEL_OPTIONS, ...MACHINE_OPTIONS, ...RESULTS_OPTIONS, exec: { type: 'string' } }, SSH_HELP);
  const spec = kernelSpecFrom(values, SSH_HELP);
  const { topology = 'default', ...machineRequest } = machineFrom(values);
  const machine = await Machine.open({
    results: resultsAt(resultsFrom(values)),
    topology,
    kernel: spec,
    ...machineRequest,
    purpose: 'ssh',
    withoutCxl: 'warn',
    log,
  });
  const { results } = machine;
  try {
    const { image } = await machine.provision();
    const { vm, ssh } = await machine.boot();
    log(`guest up (ssh -p ${vm.sshPort} -i ${image.keys.clientKey} root@127.0.0.1)`);
    if (values.exec === undefined) return await ssh.shell();
    // Output is passed through as it comes, so a long command shows its progress; Ctrl-C ends
    // it. No exit status is never a bare failure: the supervisor says why (the guest kernel
    // panicked, QEMU died, the guest hung).
    try {
      const r = await machine.supervise(async () => {
        const r = await ssh.exec(values.exec!, {
          timeoutMs: 24 * 3600 * 1000,
          onStdout: (chunk) => process.stdout.write(chunk),
          onStderr: (chunk) => process.stderr.write(chunk),
        });
        await results.saveCommand('exec', r);
        return r;
      }, { during: 'during the command' });
      if (r.exitCode !== null) return r.exitCode;
      throw new HarnessError('GUEST_LOST', `the command ended without an exit status${r.timedOut ? ' (timed out)' : ''}`);
    } catch (e) {
      if (!isHarnessError(e) || e.code === 'INTERRUPTED') throw e;
      log(`${e.message.split('\n')[0]} (see ${results.rel(vm.consoleLog)} in ${results.dir})`);
      return e.exitCode;
    }
  } finally {
    await machine.close();
  }
}

/** `cxl-harness topology list | show NAME | argv NAME`: the presets in qemu/ and what QEMU gets. */
import { kernelCmdline, topologyToArgv } from '../qemu/argv.js';
import { builtinTopologies, loadTopology } from '../qemu/topology.js';
import { shellCommand } from '../exec.js';
import { usageError } from './args.js';

export const TOPOLOGY_HELP = `cxl-harness topology list
cxl-harness topology show NAME|FILE      the validated topology as JSON
cxl-harness topology argv NAME|FILE      the QEMU command line it becomes (placeholder paths)

Topologies are JSON files: the presets in qemu/ (see qemu/README.md), or your own file.

Exit codes: 0 printed, 2 an unknown or invalid topology (the message names the field), or bad options.`;

export async function topologyCommand(argv: string[]): Promise<number> {
  const [verb, name] = argv;
  if (verb !== 'list' && verb !== 'show' && verb !== 'argv') throw usageError(TOPOLOGY_HELP, `takes list, show or argv (got ${verb === undefined ? 'nothing' : `"${verb}"`})`);
  if (verb === 'list') {
    for (const t of builtinTopologies()) process.stdout.write(`${t.padEnd(12)} ${loadTopology(t).description}\n`);
    return 0;
  }
  if (!name) throw usageError(TOPOLOGY_HELP, `${verb} needs a topology NAME or FILE`);
  const t = loadTopology(name);
  if (verb === 'show') process.stdout.write(JSON.stringify(t, null, 2) + '\n');
  else {
    const args = topologyToArgv({ topology: t, kernel: 'KERNEL', initrd: 'INITRAMFS', append: kernelCmdline(), rootImage: 'ROOT.ext4', payloadImage: 'PAYLOAD.ext4', consoleLog: 'console.log', qmpSocket: 'qmp.sock', sshPort: 2222, accel: 'tcg' });
    process.stdout.write(shellCommand(['qemu-system-x86_64', ...args]) + '\n');
  }
  return 0;
}

#!/usr/bin/env node
/**
 * cxl-harness: the command dispatcher. Each command lives in its own module; this file only
 * routes, prints errors the same way for all of them, and turns Ctrl-C/SIGTERM into a clean
 * stop (QEMU and ssh ended, results dir closed, exit 130/143).
 */
import { ExitCode, isHarnessError } from '../errors.js';
import { doctor } from '../host/doctor.js';
import { stopAll } from '../qemu/vm.js';
import { exitCodeOf, interrupt, interruptedBy } from '../interrupt.js';
import { progress } from '../progress.js';
import { TOOL_VERSION } from '../results/results.js';
import { parse, usageError } from './args.js';
import { imageCommand, IMAGE_HELP } from './image.js';
import { kernelCommand, KERNEL_CMD_HELP } from './kernel.js';
import { RUN_HELP, runCommand } from './run.js';
import { SSH_HELP, sshCommand } from './ssh.js';
import { topologyCommand, TOPOLOGY_HELP } from './topology.js';
import type { CommandTable } from './command.js';
import { reportCommands } from './report.js';
import { bisectCommands } from './bisect.js';
import { reproCommands } from './repro.js';
import { checksCommands } from './checks.js';
import { mcpCommands } from './mcp.js';

const log = (line: string): void => {
  progress.log(`[cxl-harness ${new Date().toISOString().slice(11, 19)}] ${line}`);
};

const DOCTOR_HELP = `cxl-harness doctor [--fix] [--with-browser]

Check the host tools the harness needs (QEMU >= 8 with CXL, mmdebstrap, e2fsprogs, cpio,
kmod, xz, zstd, ssh-keygen, setpriv, dpkg) and the kernel build tools, with versions.
--fix (as root) installs what is missing with apt-get; on Debian 12 it takes
qemu-system-x86 from bookworm-backports through a private sources list, without
changing /etc/apt.
--with-browser also needs Debian's chromium (headless), which no run uses: the browser test
of report.html (test/host/report.html-browser.test.ts) loads the page in it; with --fix it
is installed with the rest.

Exit codes: 0 everything is there (or was installed with --fix), 2 something is still missing.`;

const COMMANDS: CommandTable = {
  run: { summary: 'boot a CXL guest on a kernel and run a suite (default: spm); prints TAP', help: RUN_HELP,
    examples: [
      'cxl-harness run                                  # Debian sid\'s kernel, topology spm-pair, the SPM suite',
      'cxl-harness run --kernel arch/x86/boot/bzImage   # your kernel (everything built in; else add --modules DIR)',
      'cxl-harness run --suite hotplug --kernel-suite trixie --topology interleave',
      'cxl-harness run --kernel-src ~/linux --patches spm-v2.mbox --format junit > junit.xml',
    ],
    run: (a) => runCommand(a, log) },
  doctor: {
    summary: 'check (and with --fix, install) the host tools',
    help: DOCTOR_HELP,
    examples: ['cxl-harness doctor          # what is there, what is missing', 'cxl-harness doctor --fix    # install what is missing (root)', 'cxl-harness doctor --fix --with-browser    # and chromium, for the browser test of report.html'],
    run: async (a) => {
      const { values } = parse(a, { fix: { type: 'boolean' }, 'with-browser': { type: 'boolean' } }, DOCTOR_HELP);
      return doctor(Boolean(values.fix), (l) => process.stdout.write(l + '\n'), { browser: Boolean(values['with-browser']) });
    },
  },
  ssh: { summary: 'boot a guest and run a command in it (--exec) or open a shell', help: SSH_HELP,
    examples: ['cxl-harness ssh                                      # a root shell in the default guest', "cxl-harness ssh --exec 'numactl -H; cxl list -R' --topology spm-pair", 'cxl-harness ssh --kernel arch/x86/boot/bzImage'],
    run: (a) => sshCommand(a, log) },
  kernel: { summary: 'fetch the distro kernel, or build a source tree with patches and config fragments', help: KERNEL_CMD_HELP,
    examples: ['cxl-harness kernel fetch --kernel-suite trixie', 'cxl-harness kernel build --kernel-src ~/linux --patches v7.2..spm-v2 --config-fragment my.config'],
    run: (a) => kernelCommand(a, log) },
  image: { summary: 'build (or find cached) the guest image for a kernel', help: IMAGE_HELP,
    examples: ['cxl-harness image                          # the disks for the default kernel', 'cxl-harness image --kernel-suite bookworm'],
    run: (a) => imageCommand(a, log) },
  topology: { summary: 'list, show or print the QEMU argv of a CXL topology', help: TOPOLOGY_HELP,
    examples: ['cxl-harness topology list', 'cxl-harness topology show spm-switch', 'cxl-harness topology argv ./my-topology.json'],
    run: (a) => topologyCommand(a) },
  ...reportCommands(log),
  ...reproCommands(log),
  ...bisectCommands(log),
  ...checksCommands(),
  ...mcpCommands(log),
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'cxl-harness: validate Linux memory-management work on emulated CXL memory under QEMU',
    '',
    'usage: cxl-harness <command> [options]     (cxl-harness <command> --help for its options)',
    '       cxl-harness --version',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Start with:  cxl-harness doctor --fix && cxl-harness run',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`cxl-harness ${TOOL_VERSION}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) throw usageError('cxl-harness', `unknown command "${name}"`);
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.help}\n\nExamples:\n${command.examples.map((e) => `  ${e}`).join('\n')}\n`);
    return 0;
  }
  return command.run(rest);
}

let signals = 0;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    signals++;
    if (signals > 1) process.exit(exitCodeOf(sig));
    log(`${sig}: stopping the guest and closing the results dir (again to force)`);
    interrupt(sig);
    void stopAll();
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    const sig = interruptedBy();
    process.exitCode = sig ? exitCodeOf(sig) : code;
  },
  async (e: unknown) => {
    await stopAll();
    const sig = interruptedBy();
    if (isHarnessError(e)) {
      process.stderr.write(`cxl-harness: error [${e.code}]: ${e.describe()}\n`);
      process.exitCode = sig ? exitCodeOf(sig) : e.exitCode;
    } else {
      process.stderr.write(`cxl-harness: internal error: ${e instanceof Error ? e.stack : String(e)}\n`);
      process.exitCode = ExitCode.infrastructure;
    }
  },
);

/** `cxl-harness mcp`: the harness as an MCP server on stdin/stdout (src/mcp/); registered in main.ts. */
import { resolve } from 'node:path';
import { interruptSignal } from '../interrupt.js';
import { parse } from './args.js';
import type { CommandTable } from './command.js';

export const MCP_HELP = `cxl-harness mcp [--results-base DIR]

Serve the harness to an agent over the Model Context Protocol, on stdin and stdout (nothing
listens on a network socket; the server's own log goes to stderr). Runs, repro loops and guest
commands are this CLI in child processes, each with a results dir under the base; when the
client closes stdin, or on SIGINT/SIGTERM, every child is sent SIGTERM and waited for (each
stops its QEMU and closes its results dir).

  --results-base DIR         make each run's results dir under DIR (default ./results)

Tools:
  list_topologies            the topology presets, with the suites that can run on each
  list_kernels               the kernels the cache holds (distro packages, builds, source trees)
  list_checks                the suites, and the SPM check table as \`cxl-harness checks\` prints it
  start_run                  run's options as fields (suite, topology, kernel, kernelSuite,
                             kernelPackage, kernelSrc, patches, configFragment, cmdline,
                             checkTimeout...): { resultsDir, runId } once the run is under way
  start_repro                scenario and repro's options (iterations, seed, untilFail...)
  run_status                 { run }: running or finished, outcome, exit code, steps, checks so far
  run_summary                { run }: summary.json
  check_evidence             { run, check, maxBytes }: verdict, expected, observed, evidence files
  console_tail               { run, lines }: the serial console's last lines
  dmesg                      { run, maxBytes }: the guest's kernel log saved at the end
  exec                       { command, topology, kernel fields }: ssh --exec; exit code, stdout, stderr
  stop_run                   { run }: SIGTERM the run's CLI and wait until it ended

Every field of start_run, start_repro and exec is the option of the same name in camelCase
(kernelSuite is --kernel-suite, command is --exec). Input of the wrong shape is refused by the
tool's schema; input the CLI refuses (an unknown topology, a missing kernel file) is the tool's
error with the CLI's message, and starts nothing. Relative paths in tool inputs are taken from
the directory the server was started in.

Exit codes: 0 the client closed stdin, 2 bad options, 130/143 interrupted.`;

export function mcpCommands(log: (line: string) => void): CommandTable {
  return {
    mcp: {
      summary: 'serve the harness to an agent over MCP on stdio (runs, repro loops, guest commands, results)',
      help: MCP_HELP,
      examples: [
        'cxl-harness mcp                                  # an MCP client starts it; results under ./results',
        'cxl-harness mcp --results-base /srv/cxl-runs',
      ],
      run: (a) => mcpCommand(a, log),
    },
  };
}

async function mcpCommand(argv: string[], log: (line: string) => void): Promise<number> {
  const { values } = parse(argv, { 'results-base': { type: 'string' } }, MCP_HELP);
  const resultsBase = resolve(values['results-base'] ?? 'results');
  // Loaded here, not with the other commands: the SDK and zod would add a tenth of a second to every command's start.
  const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
  const { createHarnessServer } = await import('../mcp/server.js');
  const harness = createHarnessServer({ resultsBase, log });
  await harness.server.connect(new StdioServerTransport());
  log(`mcp: serving on stdio, results under ${resultsBase}`);
  await new Promise<void>((done) => {
    process.stdin.once('end', done);
    process.stdin.once('close', done);
    interruptSignal.addEventListener('abort', () => done(), { once: true });
  });
  log('mcp: ending: stopping every run still going');
  await harness.shutdown();
  // Reading stdin is over: a still-open pipe must not keep the process alive.
  process.stdin.destroy();
  return 0;
}

/**
 * The harness as an MCP server (the official SDK's McpServer; `cxl-harness mcp` connects it to
 * stdio): tools that list what can be run, start runs, repro loops and guest commands as CLI
 * children (runs.ts), and read their results dirs (results-dir.ts) while they run and after.
 * A tool's input is checked by its zod schema first (inputs.ts), then by the CLI's own
 * preflight: a refusal is the tool's error (isError) with the CLI's words.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { isHarnessError } from '../errors.js';
import { newRunId, TOOL_VERSION } from '../results/results.js';
import { readSummary } from '../results/report-files.js';
import { checkCatalog, kernelCatalog, topologyCatalog } from './catalog.js';
import { EXEC_INPUT, execArgv, REPRO_INPUT, reproArgv, RUN_INPUT, runArgv } from './inputs.js';
import { checkEvidence, consoleTail, dmesgText, locateRun, runStatus } from './results-dir.js';
import { HarnessChildren, OUTPUT_CAP, type ChildExit, type ChildKind, type HarnessChild } from './runs.js';

export interface HarnessServerOptions {
  /** Where the server makes each run's results dir (a relative one is taken from cwd). */
  resultsBase: string;
  /** The children's working directory, from which relative paths in tool inputs are taken (default: this process's). */
  cwd?: string;
  /** The server's own log lines (the CLI: stderr; stdout is the protocol's). */
  log?: (line: string) => void;
}

export interface HarnessServer {
  server: McpServer;
  children: HarnessChildren;
  /** SIGTERM every child still running, wait for each to close its results dir, close the server. */
  shutdown(): Promise<void>;
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

const RUN_REF = z.string().describe('the run: the resultsDir a start tool or exec returned (or any results dir), its name under the results base, or its runId');
const MAX_BYTES = 1024 * 1024;

function answer(value: object): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }], structuredContent: value as Record<string, unknown> };
}

function refusal(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}

/** A handler whose HarnessErrors are the tool's errors with their hint, like the CLI prints them. */
function tool<A extends unknown[]>(fn: (...args: A) => Promise<CallToolResult>): (...args: A) => Promise<CallToolResult> {
  return async (...args) => {
    try {
      return await fn(...args);
    } catch (e) {
      if (isHarnessError(e)) return refusal(`error [${e.code}]: ${e.describe()}`);
      throw e;
    }
  };
}

const exitText = (e: ChildExit): string => (e.signal ? `signal ${e.signal}` : `exit ${e.code}`);

/** The child's log lines as progress notifications, when the client asked for them (they also keep its request from timing out). */
function relayProgress(child: HarnessChild, extra: Extra): () => void {
  const token = extra._meta?.progressToken;
  if (token === undefined) return () => undefined;
  let progress = 0;
  return child.onLine((line) => {
    void extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: ++progress, message: line } }).catch(() => undefined);
  });
}

export function createHarnessServer(options: HarnessServerOptions): HarnessServer {
  const cwd = options.cwd ?? process.cwd();
  const resultsBase = resolve(cwd, options.resultsBase);
  const where = { base: resultsBase, cwd };
  const children = new HarnessChildren({ cwd, log: options.log ?? (() => undefined) });
  const server = new McpServer({ name: 'cxl-harness', version: TOOL_VERSION }, {
    instructions: `cxl-harness boots Linux kernels under QEMU with emulated CXL memory and judges what they do with it. `
      + `Choose with list_topologies, list_kernels and list_checks; start_run (a suite) or start_repro (a scenario in a loop) returns a results dir as soon as the run is under way; `
      + `follow it with run_status, console_tail and check_evidence, read run_summary and dmesg when it ended; stop_run ends it. exec boots a guest and runs one shell command. `
      + `Results dirs are made under ${resultsBase}; relative paths in inputs are taken from ${cwd}. Runs take minutes (TCG): poll run_status every 10-30 s.`,
  });

  /** Start the CLI and answer once its run is under way, or with its refusal. */
  async function start(kind: ChildKind, argvFor: (dir: string) => string[], extra: Extra): Promise<CallToolResult> {
    const dir = join(resultsBase, newRunId());
    const child = children.start(kind, argvFor(dir), dir);
    const stopRelay = relayProgress(child, extra);
    try {
      const r = await children.untilStarted(child, extra.signal);
      if (!r.started) return refusal(`cxl-harness ${child.argv[0]} did not start (${exitText(r.exit)}):\n${r.stderr.trim()}`);
      return answer({ resultsDir: dir, runId: r.runId });
    } finally {
      stopRelay();
    }
  }

  const readOnly = { readOnlyHint: true, openWorldHint: false } as const;

  server.registerTool('list_topologies', {
    title: 'CXL topologies',
    description: 'The topology presets (qemu/*.json): name, description, how many CXL devices, windows and regions, and the suites that can run on each (as run\'s preflight decides). A topology input also takes a JSON file of the same shape.',
    annotations: readOnly,
  }, tool(async () => answer(topologyCatalog())));

  server.registerTool('list_kernels', {
    title: 'Kernels in the cache',
    description: 'The kernels the harness cache holds, which boot without a download or a build: Debian packages unpacked (distro), kernels built from source with their source and patches (builds), Debian source trees (sources). Each usable kernel carries `use`: the kernel fields of start_run that boot it.',
    annotations: readOnly,
  }, tool(async () => answer(await kernelCatalog())));

  server.registerTool('list_checks', {
    title: 'Suites and checks',
    description: 'The suites start_run takes (name, description, default topology), and the SPM suite\'s check table as `cxl-harness checks` prints it: each check with what each version of the series must show (expect) or why it skips there (skip).',
    annotations: readOnly,
  }, tool(async () => answer(checkCatalog())));

  server.registerTool('start_run', {
    title: 'Start a suite run',
    description: 'Start `cxl-harness run` (boot a guest on a kernel, run a suite of checks) in a results dir the server makes, and answer { resultsDir, runId } as soon as the run is under way. Every field is the run option of the same name (checkTimeout is --check-timeout). Input the CLI refuses (a bad topology, kernel options that exclude each other, a missing file) is this tool\'s error, with the CLI\'s message, and starts nothing.',
    inputSchema: RUN_INPUT,
    annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: true },
  }, tool(async (input, extra) => start('run', (dir) => runArgv(input, dir), extra)));

  server.registerTool('start_repro', {
    title: 'Start a repro loop',
    description: 'Start `cxl-harness repro SCENARIO` (a hotplug scenario in a loop in one booted guest; a crash is a failing iteration and the loop goes on) and answer { resultsDir, runId } as soon as it is under way. Fields are the repro options of the same name. run_status shows the loop\'s counters (repro.json) as it goes.',
    inputSchema: REPRO_INPUT,
    annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: true },
  }, tool(async (input, extra) => start('repro', (dir) => reproArgv(input, dir), extra)));

  server.registerTool('run_status', {
    title: 'State of a run',
    description: 'A run\'s state: running (a child of this server runs it), finished, or unfinished (not this server\'s and not closed); its outcome and exit code once finished; its steps, the checks done so far with their verdicts, console findings, a repro\'s counters, and the last log lines of a run this server started.',
    inputSchema: { run: RUN_REF },
    annotations: readOnly,
  }, tool(async ({ run }) => {
    const { dir, child } = locateRun(run, children, where);
    return answer(await runStatus(dir, child));
  }));

  server.registerTool('run_summary', {
    title: 'summary.json of a run',
    description: 'The run\'s summary.json as it is now (rewritten after every step and check): every check with verdict, expected, observed and evidence paths, the kernel\'s identity, QEMU, topology, generation, capabilities, steps, findings.',
    inputSchema: { run: RUN_REF },
    annotations: readOnly,
  }, tool(async ({ run }) => answer(await readSummary(locateRun(run, children, where).dir))));

  server.registerTool('check_evidence', {
    title: 'A check\'s evidence',
    description: 'One check of a run: its verdict, reason, expected and observed values, and the text of each of its evidence files (JSON values it saved, the guest commands it ran), each cut at maxBytes.',
    inputSchema: {
      run: RUN_REF,
      check: z.string().describe('the check id, e.g. hotplug.online or spm.zswap.leak'),
      maxBytes: z.number().int().min(1).max(MAX_BYTES).optional().describe('at most this many bytes of each file, from its start (default 16384)'),
    },
    annotations: readOnly,
  }, tool(async ({ run, check, maxBytes }) => answer(await checkEvidence(locateRun(run, children, where).dir, check, maxBytes ?? 16 * 1024))));

  server.registerTool('console_tail', {
    title: 'The serial console\'s last lines',
    description: 'The last lines of the guest\'s serial console (console.log, or the newest bootN.console.log after a reboot), also while the run goes on.',
    inputSchema: {
      run: RUN_REF,
      lines: z.number().int().min(1).max(10_000).optional().describe('how many lines (default 100)'),
    },
    annotations: readOnly,
  }, tool(async ({ run, lines }) => answer(await consoleTail(locateRun(run, children, where).dir, lines ?? 100))));

  server.registerTool('dmesg', {
    title: 'The guest\'s kernel log',
    description: 'dmesg.txt, the guest\'s kernel log the run saved at its end (the newest boot\'s), its last maxBytes.',
    inputSchema: {
      run: RUN_REF,
      maxBytes: z.number().int().min(1).max(MAX_BYTES).optional().describe('at most this many bytes, from the end (default 65536)'),
    },
    annotations: readOnly,
  }, tool(async ({ run, maxBytes }) => answer(await dmesgText(locateRun(run, children, where).dir, maxBytes ?? 64 * 1024))));

  server.registerTool('exec', {
    title: 'Run a command in a guest',
    description: `Boot a guest (default topology: default) and run one shell command in it (\`cxl-harness ssh --exec CMD\`), then power it off; answer when it ended: its exitCode, stdout and stderr (the guest command's, with the harness's log lines in stderr; each its last ${OUTPUT_CAP} characters) and the resultsDir (console.log, commands/). Exit code 2 with "cxl-harness: error" in stderr: the guest did not come up; 3: its kernel crashed. Takes the machine and kernel fields of start_run.`,
    inputSchema: EXEC_INPUT,
    annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: true },
  }, tool(async (input, extra) => {
    const dir = join(resultsBase, newRunId());
    const child = children.start('exec', execArgv(input, dir), dir);
    const stopRelay = relayProgress(child, extra);
    const stop = () => void children.stop(child);
    extra.signal.addEventListener('abort', stop, { once: true });
    try {
      const exit = await child.exited;
      if (!existsSync(join(dir, 'summary.json'))) return refusal(`cxl-harness ssh did not start (${exitText(exit)}):\n${child.stderr().text.trim()}`);
      const stdout = child.stdout();
      const stderr = child.stderr();
      return answer({
        resultsDir: dir,
        exitCode: exit.code,
        ...(exit.signal ? { signal: exit.signal } : {}),
        stdout: stdout.text,
        stderr: stderr.text,
        ...(stdout.omitted || stderr.omitted ? { omitted: { stdout: stdout.omitted, stderr: stderr.omitted } } : {}),
      });
    } finally {
      extra.signal.removeEventListener('abort', stop);
      stopRelay();
    }
  }));

  server.registerTool('stop_run', {
    title: 'Stop a run',
    description: 'SIGTERM the CLI running a run, repro or exec this server started, and wait until it ended: it stops QEMU and closes the results dir (outcome interrupted, exit 143). Answers the run\'s status.',
    inputSchema: { run: RUN_REF },
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  }, tool(async ({ run }) => {
    const { dir, child } = locateRun(run, children, where);
    if (!child) return refusal(`${dir} is not a run this server started: it can stop only its own children`);
    await children.stop(child);
    return answer(await runStatus(dir, child));
  }));

  return {
    server,
    children,
    async shutdown() {
      await children.stopAll();
      await server.close();
    },
  };
}

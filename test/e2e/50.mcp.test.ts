/**
 * An agent drives the harness, for real: `cxl-harness mcp` on stdio (the SDK's own client
 * starts it), the hotplug suite started with start_run and followed with run_status until it
 * ends, its verdicts and evidence read back through the tools; then a run stopped with stop_run,
 * and a run still going when the server gets SIGTERM, which must stop it and wait for it: no QEMU
 * outlives the server.
 */
import t, { type Test } from 'tap';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { RunSummary } from '../../src/report/model.js';
import { CLI, qemuProcesses, readJson, ROOT } from '../lib/cli.js';

interface Status {
  state: 'running' | 'finished' | 'unfinished';
  outcome?: string;
  exitCode?: number | null;
  steps: Array<{ name: string; status: string }>;
  checks: Array<{ id: string; verdict: string; reason?: string }>;
}

/** `cxl-harness mcp` started by the SDK's stdio client, its stderr kept for the comments. */
async function startServer(t: Test, base: string) {
  const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp', '--results-base', base], cwd: ROOT, env, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const client = new Client({ name: 'cxl-harness-e2e', version: '1' });
  await client.connect(transport);
  t.teardown(() => client.close());
  const call = async (name: string, args: Record<string, unknown> = {}) => {
    const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
    if (r.isError) throw new Error(`${name} failed: ${r.content.map((c) => (c.type === 'text' ? c.text : '')).join('')}`);
    return r.structuredContent as Record<string, unknown>;
  };
  return { client, call, stderr: () => stderr, pid: transport.pid! };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function untilFinished(call: (name: string, args: Record<string, unknown>) => Promise<Record<string, unknown>>, run: string, limitMs: number): Promise<Status> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const status = (await call('run_status', { run })) as unknown as Status;
    if (status.state === 'finished' || Date.now() > deadline) return status;
    await sleep(5000);
  }
}

t.test('an agent runs the hotplug suite through cxl-harness mcp', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'cxlh-e2e-mcp-'));
  const { call, stderr } = await startServer(t, base);

  const started = await call('start_run', { suite: 'hotplug' });
  const { resultsDir, runId } = started as { resultsDir: string; runId: string };
  t.ok(resultsDir.startsWith(`${base}/`), `the run's dir is under the server's results base (${resultsDir})`);
  t.equal(readJson<RunSummary>(join(resultsDir, 'summary.json')).runId, runId, 'the run id is its summary\'s');

  const status = await untilFinished(call, runId, 20 * 60 * 1000);
  t.comment(stderr().split('\n').filter((l) => /PASS|FAIL|ERROR|SKIP|guest up|kernel:|ended/.test(l)).join('\n'));
  t.equal(status.state, 'finished');
  t.equal(status.outcome, 'pass');
  t.equal(status.exitCode, 0);
  t.same(status.checks.map((c) => [c.id, c.verdict]), [
    ['hotplug.enumerate', 'pass'],
    ['hotplug.online', 'pass'],
    ['hotplug.place', 'pass'],
    ['hotplug.move-pages', 'pass'],
    ['hotplug.offline', 'pass'],
  ]);
  t.same(status.steps.map((s) => s.status).filter((s) => s !== 'ok'), [], 'every step ok');

  const summary = await call('run_summary', { run: resultsDir });
  t.same(summary, readJson<RunSummary>(join(resultsDir, 'summary.json')), 'run_summary is the final summary.json');

  const online = await call('check_evidence', { run: runId, check: 'hotplug.online' });
  t.match(online, { verdict: 'pass', observed: { driver: 'kmem', memTotalKiB: 512 * 1024, zones: ['Movable'] } });
  t.ok((online.evidence as unknown[]).length > 0, 'with its evidence files');

  const tail = await call('console_tail', { run: runId, lines: 20 });
  t.match(tail.text, /reboot: Power down/, 'the console ends with the power-off');
  const dmesg = await call('dmesg', { run: runId });
  t.ok(readFileSync(join(resultsDir, 'dmesg.txt'), 'utf8').endsWith(dmesg.text as string), 'dmesg is the end of dmesg.txt');
  t.match(dmesg.text, /cxl/i);
  t.same(qemuProcesses(resultsDir), [], 'no QEMU outlives the run');
});

t.test('stop_run ends a run: QEMU stopped, the results dir closed as interrupted', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'cxlh-e2e-mcp-stop-'));
  const { call } = await startServer(t, base);
  const { resultsDir } = (await call('start_run', { suite: 'hotplug' })) as { resultsDir: string };
  // Stop it once the guest is booting, when there is a QEMU to stop.
  const deadline = Date.now() + 10 * 60 * 1000;
  while (Date.now() < deadline && qemuProcesses(resultsDir).length === 0) await sleep(500);
  t.not(qemuProcesses(resultsDir).length, 0, 'the guest was booting');
  const stopped = (await call('stop_run', { run: resultsDir })) as unknown as Status;
  t.match(stopped, { state: 'finished', outcome: 'interrupted', exitCode: 143 });
  t.same(qemuProcesses(resultsDir), [], 'no QEMU left');
});

t.test('a server ended by SIGTERM stops the runs it started, and waits for them', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'cxlh-e2e-mcp-close-'));
  const { call, pid } = await startServer(t, base);
  const { resultsDir } = (await call('start_run', { suite: 'hotplug' })) as { resultsDir: string };
  const deadline = Date.now() + 10 * 60 * 1000;
  while (Date.now() < deadline && qemuProcesses(resultsDir).length === 0) await sleep(500);
  t.not(qemuProcesses(resultsDir).length, 0, 'the guest was booting');
  process.kill(pid, 'SIGTERM');
  const gone = Date.now() + 60_000;
  while (alive(pid) && Date.now() < gone) await sleep(200);
  t.notOk(alive(pid), 'the server ended');
  // It ended after its run did: the run's record is closed already.
  t.match(readJson<RunSummary>(join(resultsDir, 'summary.json')), { outcome: 'interrupted', exitCode: 143, finishedAt: String }, 'the run closed its results dir as interrupted');
  t.same(qemuProcesses(resultsDir), [], 'no QEMU outlives the server');
});

/**
 * The MCP server starting the real CLI (dist/, built by npm test): a start the CLI refuses in its
 * preflight is the tool's error in the CLI's words, and leaves no results dir; no VM starts.
 */
import t, { type Test } from 'tap';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createHarnessServer } from '../../src/mcp/server.js';

const text = (r: CallToolResult): string => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');

async function connect(t: Test) {
  const base = mkdtempSync(join(tmpdir(), 'cxlh-mcp-'));
  const harness = createHarnessServer({ resultsBase: join(base, 'results'), cwd: base, log: () => undefined });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await harness.server.connect(serverSide);
  const client = new Client({ name: 'mcp.cli.test', version: '1' });
  await client.connect(clientSide);
  t.teardown(async () => {
    await client.close();
    await harness.shutdown();
  });
  const call = async (name: string, args: Record<string, unknown> = {}) => (await client.callTool({ name, arguments: args })) as CallToolResult;
  return { results: join(base, 'results'), harness, call };
}

t.test('10 a start the CLI refuses in its preflight is the tool\'s error, with the CLI\'s words, and leaves nothing', async (t) => {
  const { call, results, harness } = await connect(t);
  const run = await call('start_run', { suite: 'hotplug', topology: 'no-such-topology' });
  t.equal(run.isError, true, text(run));
  t.match(text(run), /cxl-harness run did not start \(exit 2\):[\s\S]*no-such-topology/);
  const repro = await call('start_repro', { scenario: 'no-such-scenario', iterations: 1 });
  t.equal(repro.isError, true, text(repro));
  t.match(text(repro), /cxl-harness repro did not start \(exit 2\):[\s\S]*no-such-scenario/);
  t.same(harness.children.list().map((c) => [c.kind, c.exit?.code]), [['run', 2], ['repro', 2]], 'each CLI ended at once with exit 2');
  t.same(existsSync(results) ? readdirSync(results) : [], [], 'and made no results dir');
});

// The guest agent and its host client, end to end on this machine: the real agent
// (src/agent/main.ts, under the test runner's TypeScript loader) as a local child instead of
// an ssh channel. Probes answer from this host's kernel; there is no CXL here, so the region
// list is empty.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { SYNC_DIR, type LoopLine, type LoopSpec } from '../../src/contract/repro-protocol.js';
import { GuestAgent, type AgentStream } from '../../src/remote/agent.js';

const main = fileURLToPath(new URL('../../src/agent/main.ts', import.meta.url));

function local(children: ChildProcess[]): () => Promise<AgentStream> {
  return async () => {
    const c = spawn(process.execPath, [...process.execArgv, main], { stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(c);
    return { input: c.stdin!, output: c.stdout!, errors: c.stderr!, onClose: (cb) => c.once('close', cb), kill: () => c.kill('SIGKILL') };
  };
}

t.test('10 ping, probes and the region list answer typed; a bad request is BAD_REQUEST', async (t) => {
  const children: ChildProcess[] = [];
  const agent = new GuestAgent(local(children));
  t.teardown(() => agent.close());
  agent.prestart();
  const ping = await agent.request('ping', {}, 30_000);
  t.match(ping, { ok: true, result: { pid: children[0]!.pid, node: process.version } });
  const nodes = await agent.request('probe', { name: 'nodes', args: {} }, 30_000);
  t.match(nodes, { ok: true, result: { probe: 'nodes', ok: true, online: [0] } });
  const pol = await agent.request('probe', { name: 'mempolicy', args: { mode: 'bind', nodes: [0] } }, 30_000);
  t.match(pol, { ok: true, result: { probe: 'mempolicy', ok: true, readback: { mode: 'bind', nodes: [0] } } }, 'an isolated probe runs in its child');
  const list = await agent.request('region.list', {}, 30_000);
  t.match(list, { ok: true, result: { ok: true, memdevs: [], regions: [] } });
  const bad = await agent.request('probe', { name: 'place', args: { pages: -1 } }, 30_000);
  t.match(bad, { ok: false, code: 'BAD_REQUEST', error: /--pages must be >= 1/ });
  const offline = await agent.request('region.offline', { region: 'region9' }, 30_000);
  t.match(offline, { ok: true, result: { ok: false, error: 'no region region9' } });
  t.equal(children.length, 1, 'one agent, started ahead, served all of it');
});

t.test('20 a request that hangs is TIMED_OUT by the agent, which goes on serving', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cxlh-agent-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const children: ChildProcess[] = [];
  const agent = new GuestAgent(local(children));
  t.teardown(() => agent.close());
  // A write to a FIFO nobody reads never returns: the probe child's own bound is 60 s, the request's 1.5 s.
  const hung = await agent.request('probe', { name: 'write-file', args: { path: fifo, value: 'x' } }, 1500);
  t.match(hung, { ok: false, code: 'TIMED_OUT', error: /probe did not finish within 1500 ms/ });
  const after = await agent.request('ping', {}, 30_000);
  t.match(after, { ok: true, result: { pid: children[0]!.pid } }, 'the same agent answers');
  // The probe's own bound kills the child and reports it as the kernel's answer.
  const bounded = await agent.request('probe', { name: 'write-file', args: { path: fifo, value: 'x', timeoutMs: 500 } }, 30_000);
  t.match(bounded, { ok: true, result: { failure: true, code: 'TIMED_OUT', timedOut: true } });
});

t.test('30 an agent that dies fails its requests with AGENT_LOST, is started once more, and a second death is final', async (t) => {
  const children: ChildProcess[] = [];
  const agent = new GuestAgent(local(children));
  t.teardown(() => agent.close());
  await agent.request('ping', {}, 30_000);
  const pending = agent.request('probe', { name: 'write-file', args: { path: '/proc/self/fd/0', value: 'x', timeoutMs: 20_000 } }, 30_000);
  setTimeout(() => children[0]!.kill('SIGKILL'), 300);
  t.match(await pending, { ok: false, code: 'AGENT_LOST', error: /went away .*while probe ran/ });
  const again = await agent.request('ping', {}, 30_000);
  t.match(again, { ok: true, result: { pid: children[1]!.pid } }, 'a new agent');
  children[1]!.kill('SIGKILL');
  await new Promise((r) => children[1]!.once('close', r));
  const final = await agent.request('ping', {}, 30_000);
  t.match(final, { ok: false, code: 'AGENT_LOST', error: /not started again \(2 started\)/ });
  t.equal(children.length, 2);
});

t.test('40 an agent that does not answer even its own timeout is AGENT_HUNG and killed', async (t) => {
  const children: ChildProcess[] = [];
  const agent = new GuestAgent(local(children), { graceMs: 500 });
  t.teardown(() => agent.close());
  await agent.request('ping', {}, 30_000);
  children[0]!.kill('SIGSTOP');
  const r = await agent.request('ping', {}, 500);
  t.match(r, { ok: false, code: 'AGENT_HUNG', error: /did not answer ping within 1000 ms/ });
  await new Promise((res) => (children[0]!.exitCode !== null || children[0]!.signalCode ? res(null) : children[0]!.once('close', res)));
  t.equal(children[0]!.signalCode, 'SIGKILL', 'the hung agent was killed');
  t.match(await agent.request('ping', {}, 30_000), { ok: true }, 'and a new one serves');
});

/** A chunk of a scenario whose steps answer on a host without CXL: no region, so each step's refusal is what it expects. */
function hostSpec(over: Partial<LoopSpec> = {}, steps: LoopSpec['scenario']['steps'] = [{ do: 'release', expect: 'NOTHING_HELD' }, { do: 'node-free', mark: 'a', expect: 'NO_REGION' }]): LoopSpec {
  return {
    scenario: { name: 'agent-test', requires: [], setup: [], steps, cleanup: [], teardown: [] },
    start: 1, iterations: 2, seed: 3, stopOnFail: false, stepTimeoutMs: 5000, syncTimeoutMs: 60_000,
    generation: { name: 'stock', evidence: ['a test'] }, ...over,
  };
}

t.test('50 repro.run: the loop runs in a child of the agent, its lines stream as progress before the answer', async (t) => {
  const children: ChildProcess[] = [];
  const agent = new GuestAgent(local(children));
  t.teardown(() => agent.close());
  const lines: LoopLine[] = [];
  const r = await agent.request('repro.run', hostSpec(), 60_000, (l) => lines.push(l));
  t.match(r, { ok: true, result: { exitCode: 0, signal: null, garbage: [] } });
  t.same(lines.map((l) => l.type), ['facts', 'step', 'step', 'iteration', 'step', 'step', 'iteration', 'done']);
  t.match(lines[0], { type: 'facts', generation: 'stock', memdevs: [], features: { spm_node: false, dcd: false } });
  t.match(lines[1], { type: 'step', phase: 'iteration', iteration: 1, index: 0, do: 'release', expect: 'NOTHING_HELD', passed: true, ok: false, code: 'NOTHING_HELD' });
  t.match(lines[3], { type: 'iteration', iteration: 1, ok: true });
  t.match(lines.at(-1), { type: 'done', ran: 2, failures: 0 });
  const failing = await agent.request('repro.run', hostSpec({ iterations: 3, stopOnFail: true }, [{ do: 'hold' }]), 60_000, (l) => lines.push(l));
  t.match(failing, { ok: true, result: { exitCode: 0 } });
  t.match(lines.filter((l) => l.type === 'iteration').at(-1), { iteration: 1, ok: false, failedStep: 'hold', error: 'no CXL node: run create-region first' }, 'stop on the first failure');
  const skip: LoopLine[] = [];
  await agent.request('repro.run', hostSpec({ scenario: { ...hostSpec().scenario, requires: ['dcd'] } }), 60_000, (l) => skip.push(l));
  t.same(skip.map((l) => l.type), ['facts', 'skip']);
  t.match(skip[1], { reason: 'the guest kernel lacks dcd (no dynamic_ram/dc partition under any memdev)' });
  t.equal(children.length, 1, 'the agent itself never went down');
});

t.test('60 repro.run: a step that never returns is given up with the request; its lines so far have arrived, and the agent serves on', async (t) => {
  const children: ChildProcess[] = [];
  const agent = new GuestAgent(local(children));
  t.teardown(() => agent.close());
  // The fault step makes the sync dir on this host: removed when it is empty, as it is left.
  t.teardown(() => {
    try {
      rmdirSync(SYNC_DIR);
    } catch {
      // absent, or someone else's files in it
    }
  });
  const lines: LoopLine[] = [];
  // A fault step waits for the host's answer (syncTimeoutMs 60 s): nobody answers here. The
  // request's 20 s leave the child its start under the TypeScript loader (several seconds).
  const r = await agent.request('repro.run', hostSpec({}, [{ do: 'release', expect: 'any' }, { do: 'fault', fault: 'poison' }]), 20_000, (l) => lines.push(l));
  t.match(r, { ok: false, code: 'TIMED_OUT' });
  t.same(lines.map((l) => l.type), ['facts', 'step'], 'what finished before the hang reached the host');
  t.match(await agent.request('ping', {}, 30_000), { ok: true, result: { pid: children[0]!.pid } }, 'the same agent answers');
});

t.test('70 --listen: the first connection takes the agent, and its socket and pid file go', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cxlh-agent-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'agent.sock');
  // As init starts it: the pid file first, then the agent.
  const c = spawn('sh', ['-c', 'echo $$ > "$0.pid"; exec "$@"', path, process.execPath, ...process.execArgv, main, '--listen', path], { stdio: 'ignore' });
  t.teardown(() => c.kill('SIGKILL'));
  for (let i = 0; i < 600 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 50));
  t.ok(existsSync(path), 'the agent listens');
  t.equal(readFileSync(`${path}.pid`, 'utf8').trim(), String(c.pid), 'the pid file names the agent');
  const socket = connect(path);
  const agent = new GuestAgent(async () => ({
    input: socket, output: socket, errors: new PassThrough(), onClose: (cb) => socket.once('close', cb), kill: () => socket.destroy(),
  }), { maxStarts: 1 });
  const ping = await agent.request('ping', {}, 30_000);
  t.match(ping, { ok: true, result: { pid: c.pid } }, 'the agent init would start answers over the socket');
  t.notOk(existsSync(path), 'the socket is gone once taken');
  t.notOk(existsSync(`${path}.pid`), 'and so is the pid file');
  const exited = new Promise<number | null>((r) => c.once('exit', r));
  agent.close();
  t.equal(await exited, 0, 'closing the connection ends the agent');
});

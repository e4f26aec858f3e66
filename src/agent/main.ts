/**
 * The guest agent: started once per boot, it loads the probe library once and serves requests
 * (protocol.ts) over one channel until that channel closes. Two ways to start it:
 *   node /opt/cxl-harness/dist/agent/main.js                 serve stdin/stdout (an ssh exec channel)
 *   node /opt/cxl-harness/dist/agent/main.js --listen PATH   serve the first connection to unix socket PATH
 * The second is how the guest's init starts it, so that its start-up overlaps sshd's and the
 * host's SSH handshake; the first connection takes it (PATH and PATH.pid, which init wrote, go
 * away then), and an agent started after that one is the first kind.
 * Probes that change the calling thread's policy, touch memory or may hang still run in a
 * forked child (src/probe/isolate.ts); region and node flows run in a worker thread; a repro loop runs
 * in a child process whose lines stream to the host as progress (repro/verb.ts). The agent
 * shields itself from the OOM killer (oom_score_adj -1000; its children get their own value),
 * so a hog can never take it down.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { ProbeArgumentError, isProbeName, runProbe } from '../probe/index.js';
import { keepChildrenWarm } from '../probe/isolate.js';
import { siblingModule } from '../probe/sibling.js';
import { capabilities } from './capabilities.js';
import { generationEvidence } from './evidence.js';
import { parseRequest, type FailureCode, type Hello, type Line, type Request, type Response } from '../contract/agent-protocol.js';
import { isFlowVerb, type FlowVerb, type WorkerReply } from './flow-worker.js';
import { runLoopChild } from './repro/verb.js';

const workerPath = siblingModule(import.meta.url, 'flow-worker');

const hello = (): Hello => ({ pid: process.pid, node: process.version });

/** Where answers go: stdout, or the socket connection that took the agent. */
let out: Writable = process.stdout;
const send = (line: Line): void => {
  out.write(`${JSON.stringify(line)}\n`);
};

class Failure extends Error {
  constructor(readonly code: FailureCode, message: string) {
    super(message);
  }
}

/** One worker thread for the region and node flows; replaced when a request timed out in it. */
class FlowWorker {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private get(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(workerPath);
    w.on('message', (m: WorkerReply) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if ('result' in m) p?.resolve(m.result);
      else p?.reject(new Failure('FAILED', m.error));
    });
    w.on('error', (e) => this.drop(w, `the flow worker failed: ${e.message}`));
    w.on('exit', (code) => this.drop(w, `the flow worker exited (${code})`));
    w.unref();
    this.worker = w;
    return w;
  }

  private drop(w: Worker, why: string): void {
    if (this.worker !== w) return;
    this.worker = undefined;
    for (const p of this.pending.values()) p.reject(new Failure('FAILED', why));
    this.pending.clear();
  }

  run(id: number, verb: FlowVerb, args: unknown): Promise<unknown> {
    const w = this.get();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.postMessage({ id, verb, args });
    });
  }

  /** A flow stuck in the kernel: leave that thread to it and start afresh for the next one. */
  abandon(): void {
    const w = this.worker;
    if (!w) return;
    this.drop(w, 'the flow worker was replaced after a request timed out in it');
    void w.terminate();
  }
}

const flows = new FlowWorker();

/** What a request's handler gets besides its arguments: a way to stream progress, and the signal that it was given up. */
interface Serving {
  progress: (p: unknown) => void;
  signal: AbortSignal;
}

async function handle(r: Request, s: Serving): Promise<unknown> {
  switch (r.verb) {
    case 'ping':
      return hello();
    case 'probe': {
      const { name, args } = r.args as Request<'probe'>['args'];
      if (!isProbeName(name)) throw new Failure('BAD_REQUEST', `unknown probe ${String(name)}`);
      try {
        return await runProbe(name, args as never);
      } catch (error) {
        if (error instanceof ProbeArgumentError) throw new Failure('BAD_REQUEST', error.message);
        throw error;
      }
    }
    case 'region.list':
    case 'region.online':
    case 'region.offline':
    case 'node.park':
    case 'node.unpark':
    case 'pmem.list':
    case 'pmem.labels':
    case 'pmem.online':
    case 'pmem.offline':
      return flows.run(r.id, r.verb, r.args);
    case 'capabilities':
      return capabilities();
    case 'generation.evidence':
      return generationEvidence();
    case 'repro.run':
      return runLoopChild(r.args as Request<'repro.run'>['args'], s.progress, s.signal);
  }
}

function serve(r: Request): void {
  const t0 = Date.now();
  let answered = false;
  const answer = (response: Response): void => {
    if (answered) return;
    answered = true;
    clearTimeout(timer);
    send(response);
  };
  const given = new AbortController();
  const timer = setTimeout(() => {
    if (isFlowVerb(r.verb)) flows.abandon();
    given.abort();
    answer({ id: r.id, ok: false, code: 'TIMED_OUT', error: `${r.verb} did not finish within ${r.timeoutMs} ms`, ms: Date.now() - t0 });
  }, r.timeoutMs);
  const progress = (p: unknown): void => {
    if (!answered) send({ id: r.id, progress: p as never });
  };
  handle(r, { progress, signal: given.signal }).then(
    (result) => answer({ id: r.id, ok: true, result: result as never, ms: Date.now() - t0 }),
    (error: unknown) => answer({
      id: r.id, ok: false, code: error instanceof Failure ? error.code : 'FAILED',
      error: error instanceof Error ? (error instanceof Failure ? error.message : (error.stack ?? error.message)) : String(error), ms: Date.now() - t0,
    }),
  );
}

try {
  writeFileSync('/proc/self/oom_score_adj', '-1000');
} catch {
  // not root: the agent is then as exposed as any process
}
keepChildrenWarm();

function serveChannel(input: Readable, output: Writable): void {
  out = output;
  const lines = createInterface({ input });
  lines.on('line', (line) => {
    if (!line.trim()) return;
    const r = parseRequest(line);
    if ('reason' in r) send({ id: r.id, ok: false, code: 'BAD_REQUEST', error: r.reason, ms: 0 });
    else serve(r);
  });
  // The host closed the channel: nothing is left to answer.
  lines.on('close', () => process.exit(0));
  send({ hello: hello() });
}

const listen = process.argv.indexOf('--listen');
if (listen < 0) {
  serveChannel(process.stdin, process.stdout);
} else {
  const path = process.argv[listen + 1]!;
  rmSync(path, { force: true });
  const server = createServer((socket) => {
    // One host, once: whoever comes later finds no socket and starts an agent of its own.
    server.close();
    rmSync(path, { force: true });
    rmSync(`${path}.pid`, { force: true });
    socket.on('error', () => process.exit(0));
    serveChannel(socket, socket);
  });
  server.listen(path);
}

/**
 * The host side of the guest agent (src/agent/main.ts): one long-lived channel, requests
 * multiplexed by id, each with the agent's own timeout plus a grace the host waits on top.
 * An agent that dies (OOM, crash, the connection) fails the requests it had with AGENT_LOST
 * and what it printed last; one that does not even answer its own timeout is AGENT_HUNG and
 * is killed. Either way the next request starts it again, once: a second death is final.
 */
import type { Readable, Writable } from 'node:stream';
import type { FailureCode, Hello, Line, ProgressOf, Request, Response, Verb, Verbs } from '../contract/agent-protocol.js';

/** The guest command that runs the agent. */
export const AGENT_COMMAND = ['node', '/opt/cxl-harness/dist/agent/main.js'];

/**
 * A guest shell command that kills the running agent (test aids: the fault suites). The bracket
 * keeps pkill from matching the shell that runs it; it succeeds whether or not an agent ran.
 */
export function killAgentCommand(signal: 'TERM' | 'KILL' = 'TERM'): string {
  return `pkill -${signal} -f '${AGENT_COMMAND.join(' ').replace(/main\.js$/, 'mai[n].js')}'; true`;
}

/** Where the agent the guest's init started listens (guest-scripts/init.sh), until it is taken; its pid in AGENT_SOCKET.pid. */
export const AGENT_SOCKET = '/run/cxlh-agent.sock';
/** What that agent prints (its stdout and stderr), as init redirects them. */
export const AGENT_LOG = '/run/cxlh-agent.log';

/** A running agent's pipes, whatever carries them (an ssh channel; a local child in tests). */
export interface AgentStream {
  input: Writable;
  output: Readable;
  errors: Readable;
  onClose(cb: () => void): void;
  kill(): void;
}

export type AgentFailureCode = FailureCode | 'AGENT_LOST' | 'AGENT_HUNG';

export type AgentAnswer<V extends Verb> =
  | { ok: true; result: Verbs[V]['result']; ms: number }
  | { ok: false; code: AgentFailureCode; error: string; ms: number };

export interface AgentOptions {
  /** How many agents may be started in all (the first and one restart). */
  maxStarts?: number;
  /** What the host waits beyond a request's own timeout before it calls the agent hung. */
  graceMs?: number;
  helloTimeoutMs?: number;
}

interface Pending {
  verb: Verb;
  started: number;
  resolve: (a: AgentAnswer<Verb>) => void;
  /** The request's progress lines, as they come (verbs that stream). */
  progress: ((p: unknown) => void) | undefined;
  timer: NodeJS.Timeout;
}

class Connection {
  readonly pending = new Map<number, Pending>();
  private stderr = '';
  private buffer = '';
  hello: Hello | undefined;
  closed = false;
  /** The closers have been told (after the streams drained). */
  private told = false;
  private onHello: ((h: Hello) => void) | undefined;
  private readonly closers: (() => void)[] = [];

  constructor(readonly stream: AgentStream) {
    stream.output.setEncoding('utf8');
    stream.output.on('data', (d: string) => this.data(d));
    stream.errors.setEncoding('utf8');
    stream.errors.on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-4000);
    });
    // An ssh channel may say 'close' before its streams have delivered their last data: what
    // a dying agent printed is read to the end (or for 200 ms) before anyone is told.
    const drained = Promise.all([stream.output, stream.errors].map((r) => new Promise<void>((resolve) => {
      if (r.readableEnded || r.destroyed) resolve();
      r.once('end', () => resolve());
      r.once('close', () => resolve());
    })));
    stream.onClose(() => {
      this.closed = true;
      void Promise.race([drained, new Promise((r) => setTimeout(r, 200))]).then(() => {
        this.told = true;
        for (const c of this.closers) c();
      });
    });
  }

  /** The last lines the agent wrote to stderr. */
  tail(): string {
    return this.stderr.trim().split('\n').slice(-3).join(' | ');
  }

  whenClosed(cb: () => void): void {
    if (this.told) cb();
    else this.closers.push(cb);
  }

  waitHello(timeoutMs: number): Promise<Hello> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no hello within ${timeoutMs} ms`)), timeoutMs);
      this.onHello = (h) => {
        clearTimeout(timer);
        resolve(h);
      };
      this.whenClosed(() => {
        clearTimeout(timer);
        reject(new Error(`it exited before saying hello${this.tail() ? `: ${this.tail()}` : ''}`));
      });
    });
  }

  private data(d: string): void {
    this.buffer += d;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      let parsed: Line;
      try {
        parsed = JSON.parse(line) as Line;
      } catch {
        this.stderr = (this.stderr + `[stdout] ${line}\n`).slice(-4000);
        continue;
      }
      if ('hello' in parsed) {
        this.hello = parsed.hello;
        this.onHello?.(parsed.hello);
        continue;
      }
      if ('progress' in parsed) {
        this.pending.get(parsed.id)?.progress?.(parsed.progress);
        continue;
      }
      const p = this.pending.get(parsed.id);
      if (!p) continue; // answered already (the host gave up on it)
      this.pending.delete(parsed.id);
      clearTimeout(p.timer);
      p.resolve(parsed as Response as AgentAnswer<Verb>);
    }
  }
}

export class GuestAgent {
  private conn: Connection | undefined;
  private starting: Promise<Connection> | undefined;
  private starts = 0;
  private nextId = 1;
  /** Why each agent that died went away, oldest first. */
  readonly deaths: string[] = [];
  private readonly maxStarts: number;
  private readonly graceMs: number;
  private readonly helloTimeoutMs: number;

  constructor(private readonly open: () => Promise<AgentStream>, options: AgentOptions = {}) {
    this.maxStarts = options.maxStarts ?? 2;
    this.graceMs = options.graceMs ?? 15_000;
    this.helloTimeoutMs = options.helloTimeoutMs ?? 90_000;
  }

  /** Whether an agent is running now, as far as the host has seen. */
  get running(): boolean {
    return this.conn !== undefined && !this.conn.closed;
  }

  /** The running agent's hello (pid, Node version), once one has started. */
  get hello(): Hello | undefined {
    return this.conn?.hello;
  }

  /** One request; `onProgress` gets a streaming verb's progress lines before the answer comes. */
  async request<V extends Verb>(verb: V, args: Verbs[V]['args'], timeoutMs: number, onProgress?: (p: ProgressOf<V>) => void): Promise<AgentAnswer<V>> {
    const started = Date.now();
    let conn: Connection;
    try {
      conn = await this.connection();
    } catch (error) {
      return { ok: false, code: 'AGENT_LOST', error: (error as Error).message, ms: Date.now() - started };
    }
    const id = this.nextId++;
    return new Promise<AgentAnswer<V>>((resolve) => {
      const timer = setTimeout(() => {
        if (!conn.pending.delete(id)) return;
        const why = `the agent did not answer ${verb} within ${timeoutMs + this.graceMs} ms (its own timeout was ${timeoutMs} ms): killed`;
        this.deaths.push(why);
        resolve({ ok: false, code: 'AGENT_HUNG', error: why, ms: Date.now() - started });
        conn.stream.kill();
      }, timeoutMs + this.graceMs);
      conn.pending.set(id, { verb, started, resolve: resolve as (a: AgentAnswer<Verb>) => void, progress: onProgress as ((p: unknown) => void) | undefined, timer });
      const request: Request<V> = { id, verb, args, timeoutMs };
      conn.stream.input.write(`${JSON.stringify(request)}\n`);
    });
  }

  /**
   * Start the agent now rather than on the first request, so its start-up overlaps what the
   * caller does meanwhile. A failure is not thrown: the first request reports it.
   */
  prestart(): void {
    this.connection().catch(() => undefined);
  }

  /** Stop the agent (it exits when its stdin closes). */
  close(): void {
    this.starts = this.maxStarts;
    this.conn?.stream.input.end();
    this.conn?.stream.kill();
  }

  private async connection(): Promise<Connection> {
    if (this.conn && !this.conn.closed) return this.conn;
    if (this.starting) return this.starting;
    if (this.starts >= this.maxStarts) {
      throw new Error(`the agent is gone and is not started again (${this.starts} started): ${this.deaths.at(-1) ?? 'closed by the harness'}`);
    }
    this.starts++;
    this.starting = (async () => {
      const conn = new Connection(await this.open());
      conn.whenClosed(() => this.lost(conn));
      try {
        await conn.waitHello(this.helloTimeoutMs);
      } catch (error) {
        conn.stream.kill();
        const why = `the agent did not start: ${(error as Error).message}`;
        this.deaths.push(why);
        throw new Error(why);
      }
      this.conn = conn;
      return conn;
    })().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private lost(conn: Connection): void {
    if (this.conn === conn) this.conn = undefined;
    if (conn.pending.size === 0) return;
    const why = `the agent${conn.hello ? ` (pid ${conn.hello.pid})` : ''} went away${conn.tail() ? `: ${conn.tail()}` : ''}`;
    this.deaths.push(why);
    for (const [id, p] of conn.pending) {
      clearTimeout(p.timer);
      conn.pending.delete(id);
      p.resolve({ ok: false, code: 'AGENT_LOST', error: `${why} (while ${p.verb} ran)`, ms: Date.now() - p.started });
    }
  }
}

/** A minimal QMP client over the VM's unix socket: capabilities handshake, commands, events. */
import { connect, type Socket } from 'node:net';
import { HarnessError } from '../errors.js';

export interface QmpEvent {
  event: string;
  data?: unknown;
  timestamp?: { seconds: number; microseconds: number };
}

export class Qmp {
  private buffer = '';
  private nextId = 1;
  private readonly pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly events: QmpEvent[] = [];
  private greeting?: (v: unknown) => void;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('close', () => {
      for (const p of this.pending.values()) p.reject(new HarnessError('QMP_CLOSED', 'QMP connection closed (QEMU exited?)'));
      this.pending.clear();
    });
  }

  static async connect(path: string, timeoutMs = 10_000): Promise<Qmp> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(path);
      const timer = setTimeout(() => { s.destroy(); reject(new HarnessError('QMP_TIMEOUT', `no QMP connection on ${path} after ${timeoutMs} ms`)); }, timeoutMs);
      s.once('connect', () => { clearTimeout(timer); resolve(s); });
      s.once('error', (e) => { clearTimeout(timer); reject(new HarnessError('QMP_CONNECT_FAILED', `cannot connect to QMP socket ${path}: ${e.message}`, { cause: e })); });
    });
    const qmp = new Qmp(socket);
    await new Promise((resolve) => { qmp.greeting = resolve; });
    await qmp.execute('qmp_capabilities');
    return qmp;
  }

  execute<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs = 30_000): Promise<T> {
    const id = `h${this.nextId++}`;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new HarnessError('QMP_TIMEOUT', `QMP command ${command} got no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => { clearTimeout(timer); resolve(v as T); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      this.socket.write(JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id }) + '\n');
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (!line) continue;
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      if ('QMP' in msg) {
        this.greeting?.(msg);
      } else if ('event' in msg) {
        this.events.push(msg as unknown as QmpEvent);
      } else if (typeof msg.id === 'string' && this.pending.has(msg.id)) {
        const p = this.pending.get(msg.id)!;
        this.pending.delete(msg.id);
        if ('error' in msg) {
          const err = msg.error as { class?: string; desc?: string };
          p.reject(new HarnessError('QMP_ERROR', `QMP error ${err.class ?? ''}: ${err.desc ?? JSON.stringify(err)}`, { context: { error: err } }));
        } else {
          p.resolve(msg.return);
        }
      }
    }
  }
}

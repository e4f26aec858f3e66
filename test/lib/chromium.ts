/**
 * Debian's chromium, headless, driven over the DevTools protocol on a pipe (--remote-debugging-pipe:
 * NUL-terminated JSON on fds 3 and 4, no port, no WebSocket library). It records every request
 * the page makes and every console message, error and CSP report, so a test can assert that a
 * page loaded whole from its file and asked nothing of the network.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { onPath } from '../../src/host/doctor.js';

/** The chromium binary, when Debian's package (or another) put one on PATH. */
export function findChromium(): string | undefined {
  return onPath('chromium') ?? onPath('chromium-browser');
}

interface Message {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
  sessionId?: string;
}

export interface PageVisit {
  /** Every URL the page asked for (the document itself included). */
  requests: string[];
  /** Console errors, uncaught exceptions and log entries of level error (CSP violations among them). */
  errors: string[];
  /** A JSON-serializable value computed in the page. */
  evaluate<T>(expression: string): Promise<T>;
  /** A PNG of the whole page (beyond the viewport), written to `path`. */
  screenshot(path: string): Promise<void>;
}

export class HeadlessChromium {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (m: Message) => void; reject: (e: Error) => void }>();
  private readonly listeners: ((m: Message) => void)[] = [];
  private readonly profile: string;
  private readonly child: ChildProcess;
  private stderr = '';

  private constructor(binary: string) {
    this.profile = mkdtempSync(join(tmpdir(), 'cxlh-chromium-'));
    const args = [
      '--headless=new', '--disable-gpu', '--no-first-run', '--no-default-browser-check', '--remote-debugging-pipe',
      // Any name the page would look up resolves to nothing: a request that slipped through could not reach anything either.
      '--host-resolver-rules=MAP * ~NOTFOUND',
      `--user-data-dir=${this.profile}`, '--window-size=1280,900',
      // As root (CI containers) chromium refuses to start with its sandbox.
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
      'about:blank',
    ];
    this.child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
    this.child.stderr!.on('data', (d: Buffer) => { this.stderr = (this.stderr + d.toString()).slice(-4000); });
    let buffered = '';
    (this.child.stdio[4] as Readable).on('data', (d: Buffer) => {
      buffered += d.toString('utf8');
      let end: number;
      while ((end = buffered.indexOf('\0')) !== -1) {
        const message = JSON.parse(buffered.slice(0, end)) as Message;
        buffered = buffered.slice(end + 1);
        this.dispatch(message);
      }
    });
    this.child.on('exit', (code, signal) => {
      for (const p of this.pending.values()) p.reject(new Error(`chromium exited (${code ?? signal}) before it answered: ${this.stderr}`));
      this.pending.clear();
    });
  }

  static launch(binary: string): HeadlessChromium {
    return new HeadlessChromium(binary);
  }

  private dispatch(m: Message): void {
    if (m.id !== undefined) {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.error) p?.reject(new Error(m.error.message));
      else p?.resolve(m);
      return;
    }
    for (const l of this.listeners) l(m);
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    const answer = new Promise<Message>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    (this.child.stdio[3] as Writable).write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
    return answer.then((m) => m.result ?? {});
  }

  /** Open `url` in a new tab and wait for its load event, recording what it asks for and what it reports. */
  async visit(url: string, timeoutMs = 30_000): Promise<PageVisit> {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = (await this.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
    const requests: string[] = [];
    const errors: string[] = [];
    let loaded!: () => void;
    const load = new Promise<void>((resolve) => { loaded = resolve; });
    this.listeners.push((m) => {
      if (m.sessionId !== sessionId) return;
      const p = m.params ?? {};
      if (m.method === 'Network.requestWillBeSent') requests.push(String((p.request as { url: string }).url));
      if (m.method === 'Runtime.consoleAPICalled' && p.type === 'error') errors.push(`console.error: ${JSON.stringify(p.args)}`);
      if (m.method === 'Runtime.exceptionThrown') errors.push(`exception: ${JSON.stringify(p.exceptionDetails)}`);
      if (m.method === 'Log.entryAdded') {
        const entry = p.entry as { level: string; text: string; url?: string };
        if (entry.level === 'error') errors.push(`${entry.text}${entry.url ? ` (${entry.url})` : ''}`);
      }
      if (m.method === 'Page.loadEventFired') loaded();
    });
    for (const domain of ['Page', 'Runtime', 'Log', 'Network']) await this.send(`${domain}.enable`, {}, sessionId);
    await this.send('Page.navigate', { url }, sessionId);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([load, new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${url} did not load within ${timeoutMs} ms`)), timeoutMs); })]);
    clearTimeout(timer);
    return {
      requests,
      errors,
      evaluate: async <T>(expression: string): Promise<T> => {
        const r = (await this.send('Runtime.evaluate', { expression, returnByValue: true }, sessionId)) as { result: { value: T }; exceptionDetails?: unknown };
        if (r.exceptionDetails) throw new Error(`${expression}: ${JSON.stringify(r.exceptionDetails)}`);
        return r.result.value;
      },
      screenshot: async (path: string): Promise<void> => {
        const metrics = (await this.send('Page.getLayoutMetrics', {}, sessionId)) as { cssContentSize: { width: number; height: number } };
        const { width, height } = metrics.cssContentSize;
        const shot = (await this.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true, clip: { x: 0, y: 0, width, height, scale: 1 } }, sessionId)) as { data: string };
        writeFileSync(path, Buffer.from(shot.data, 'base64'));
      },
    };
  }

  async close(): Promise<void> {
    await this.send('Browser.close').catch(() => undefined);
    if (this.child.exitCode === null && this.child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const kill = setTimeout(() => this.child.kill('SIGKILL'), 5000);
        this.child.once('exit', () => { clearTimeout(kill); resolve(); });
      });
    }
    rmSync(this.profile, { recursive: true, force: true });
  }
}

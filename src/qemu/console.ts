/**
 * Follows the serial console file QEMU writes (console.log in the results dir) and feeds
 * every line to the one console scanner (report/console-scan.ts), so the harness knows of a
 * panic the moment its line arrives, has the run's findings without reading the log again,
 * and can show the last lines in errors. The file itself is the record; this only reads it.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { ConsoleScanner } from '../report/console-scan.js';
import type { ConsoleFinding } from '../report/model.js';

export class ConsoleWatcher {
  private text = '';
  private fh?: FileHandle;
  private offset = 0;
  private timer?: NodeJS.Timeout;
  private readonly listeners: Array<(line: string) => void> = [];
  private partial = '';
  private readonly scanner = new ConsoleScanner();
  /** Polls run one after the other: two at once would both advance the offset and skip text. */
  private polling: Promise<void> = Promise.resolve();

  constructor(readonly path: string) {}

  start(intervalMs = 200): void {
    this.timer = setInterval(() => void this.poll(), intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.poll();
    // QEMU is gone: a last line without its newline is complete now.
    if (this.partial !== '') this.deliver(this.partial);
    this.partial = '';
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close().catch(() => undefined);
  }

  /** Call `listener` with every complete console line from now on; the answer unsubscribes it. */
  onLine(listener: (line: string) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** All console text read so far. */
  contents(): string {
    return this.text;
  }

  /** The kernel's reports (oops, WARN, panic, ...) in the console so far, with their steps. */
  findings(): ConsoleFinding[] {
    return this.scanner.findings();
  }

  /** The kernel's panic report, once its line has been read: the guest kernel is gone. */
  panic(): ConsoleFinding | undefined {
    return this.scanner.panic();
  }

  lastLines(n = 25): string {
    return this.text.trimEnd().split('\n').slice(-n).join('\n');
  }

  /** Read whatever is new now (after any poll already running). */
  poll(): Promise<void> {
    this.polling = this.polling.then(() => this.readNew()).catch(() => undefined);
    return this.polling;
  }

  private async readNew(): Promise<void> {
    try {
      this.fh ??= await open(this.path, 'r');
    } catch {
      return; // QEMU has not created it yet
    }
    const buf = Buffer.alloc(64 * 1024);
    for (;;) {
      const { bytesRead } = await this.fh.read(buf, 0, buf.length, this.offset);
      if (bytesRead <= 0) break;
      this.offset += bytesRead;
      const chunk = buf.toString('utf8', 0, bytesRead).replace(/\r/g, '');
      this.text += chunk;
      const parts = (this.partial + chunk).split('\n');
      this.partial = parts.pop() ?? '';
      for (const line of parts) this.deliver(line);
    }
  }

  private deliver(line: string): void {
    this.scanner.push(line);
    for (const l of this.listeners) l(line);
  }
}

/**
 * Follows the serial console file QEMU writes (console.log in the results dir), so the
 * harness can see a panic the moment it happens and show the last lines in errors.
 * The file itself is the record; this only reads it.
 */
import { open, type FileHandle } from 'node:fs/promises';

/** Lines that mean the guest kernel is gone. */
export const CRASH_PATTERN = /Kernel panic - not syncing|end Kernel panic/;

export class ConsoleWatcher {
  private text = '';
  private fh?: FileHandle;
  private offset = 0;
  private timer?: NodeJS.Timeout;
  private readonly listeners: Array<(line: string) => void> = [];
  private partial = '';
  private lineCount = 0;
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
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close().catch(() => undefined);
  }

  onLine(listener: (line: string) => void): void {
    this.listeners.push(listener);
  }

  /** All console text read so far. */
  contents(): string {
    return this.text;
  }

  /** Number of complete lines read so far (used to mark where a step starts). */
  lines(): number {
    return this.lineCount;
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
      for (const line of parts) {
        this.lineCount++;
        for (const l of this.listeners) l(line);
      }
    }
  }
}

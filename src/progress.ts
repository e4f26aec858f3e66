/**
 * One live status line at the bottom of a terminal for the long steps (a download, the root
 * tree, a kernel build, the image, a boot, a suite): what is running, how far it got, how long
 * it has taken. The harness's log lines still go out as they come; the live line is cleared
 * before each and drawn again after it. Off (every call a no-op) unless stderr is a terminal,
 * and off under CI or NO_COLOR: logs that are files keep the plain lines.
 *
 * Process-wide like the interruption (interrupt.ts): the steps that know their progress set it,
 * the command's log function writes through it, and nobody passes it around.
 */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Whether a live line goes to this stream under this environment. */
export function progressWanted(stream: ProgressStream, env: Record<string, string | undefined>): boolean {
  if (!stream.isTTY) return false;
  if (env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0') return false;
  return env.NO_COLOR === undefined || env.NO_COLOR === '';
}

export function formatElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

interface Step { label: string; detail: string; started: number }

export class Progress {
  /** The running steps, innermost last: a download inside the kernel step shows; once it ends the kernel step shows again. */
  private steps: Step[] = [];
  private shown = false;
  private timer: NodeJS.Timeout | undefined;
  private lastDraw = 0;

  constructor(private readonly stream: ProgressStream, readonly live: boolean, private readonly now: () => number = Date.now) {}

  /** A step begins: its label stays until its end(); the elapsed time ticks every second. */
  begin(label: string, detail = ''): void {
    if (!this.live) return;
    this.steps.push({ label, detail, started: this.now() });
    this.draw(true);
    if (!this.timer) {
      this.timer = setInterval(() => this.draw(true), 1000);
      this.timer.unref();
    }
  }

  /** How far the running step got ("12.3 of 110 MiB", "check 4 of 33: spm.move_pages"); drawn at most 10 times a second. */
  update(detail: string): void {
    const top = this.steps.at(-1);
    if (!this.live || !top) return;
    top.detail = detail;
    this.draw(false);
  }

  /** The innermost step is over: the one around it shows again, or the line goes away. */
  end(): void {
    if (!this.live) return;
    this.steps.pop();
    if (this.steps.length) {
      this.draw(true);
      return;
    }
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.erase();
  }

  /** A log line: the live line is cleared first and drawn again under it. */
  log(line: string): void {
    this.erase();
    this.stream.write(`${line}\n`);
    if (this.steps.length) this.draw(true);
  }

  private erase(): void {
    if (!this.shown) return;
    this.stream.write('\r\x1b[2K');
    this.shown = false;
  }

  private draw(force: boolean): void {
    const top = this.steps.at(-1);
    if (!top) return;
    const t = this.now();
    if (!force && t - this.lastDraw < 100) return;
    this.lastDraw = t;
    const text = `${top.label}${top.detail ? `: ${top.detail}` : ''} (${formatElapsed(t - top.started)})`;
    // A terminal that does not say its width (0 under script(1)) gets 100 columns.
    const width = Math.max(20, (this.stream.columns || 100) - 1);
    this.stream.write(`\r\x1b[2K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
    this.shown = true;
  }
}

/** The harness's live line on stderr. */
export const progress = new Progress(process.stderr, progressWanted(process.stderr, process.env));

/** Run `fn` as a step with a live line labelled `label`; the line goes away however it ends. */
export async function withProgress<T>(label: string, fn: () => Promise<T>): Promise<T> {
  progress.begin(label);
  try {
    return await fn();
  } finally {
    progress.end();
  }
}

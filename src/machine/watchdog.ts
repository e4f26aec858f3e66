/**
 * The one hang watchdog: it fires once when no progress was reported (kick) within its
 * bound. A check of a run has one without kicks (its bound is the check's); a repro boot
 * kicks it on every iteration line the kernel log shows.
 */
export class Watchdog {
  private last = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private hasFired = false;

  constructor(readonly boundMs: number, onHang: (idleMs: number) => void, tickMs = Math.min(1000, boundMs)) {
    this.timer = setInterval(() => {
      const idle = Date.now() - this.last;
      if (this.hasFired || idle < this.boundMs) return;
      this.hasFired = true;
      this.dispose();
      onHang(idle);
    }, tickMs);
    this.timer.unref();
  }

  /** It fired: no progress within the bound. */
  get fired(): boolean {
    return this.hasFired;
  }

  /** Progress: the bound starts again. */
  kick(): void {
    this.last = Date.now();
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

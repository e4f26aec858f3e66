/**
 * The one hang watchdog: it fires once when no progress was reported (kick) within its
 * bound. A check of a run has one without kicks (its bound is the check's); a repro boot
 * kicks it on every iteration line the kernel log shows.
 */
export class Watchdog {
  private last = Date.now();
  private timer: NodeJS.Timeout | undefined;
  fired = false;

  constructor(readonly boundMs: number, onHang: (idleMs: number) => void, tickMs = Math.min(1000, boundMs)) {
    this.timer = setInterval(() => {
      const idle = Date.now() - this.last;
      if (this.fired || idle < this.boundMs) return;
      this.fired = true;
      this.dispose();
      onHang(idle);
    }, tickMs);
    this.timer.unref();
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

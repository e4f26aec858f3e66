/** What the repro loop knows of one boot of its machine, shared by the loop, its chunks and its host sync. */
import type { StepEnd } from '../contract/markers.js';
import type { Boot } from '../machine/machine.js';
import type { Watchdog } from '../machine/watchdog.js';

/** One boot of the repro's machine, with what the loop knows of it. */
export interface BootState extends Boot {
  /** Iteration whose marker was seen last on this boot's console. */
  current?: number;
  ranOnBoot: number;
  /** The steps the kernel log says finished on this boot (markers.ts stepEndLine), for when the loop's own lines were lost. */
  consoleSteps: StepEnd[];
  /** Fired (no progress within the iteration bound): it stopped this boot as hung. */
  watchdog: Watchdog;
}

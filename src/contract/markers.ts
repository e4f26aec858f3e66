/**
 * The lines the harness writes into the guest's kernel log (/dev/kmsg), so the host sees them
 * live on the serial console: spelled here once, for the guest that writes them (the repro
 * loop, src/agent/repro/) and the host that writes or parses them (remote/session.ts mark(),
 * report/console-scan.ts, repro/loop.ts). Pure: no imports.
 *   "### cxl-harness step: <step>"                     a step (a check, a repro iteration) starts
 *   "cxl-harness repro: sync <token> <phase> <i> <n>"  a repro step needs the host (a QMP fault)
 *   "cxl-harness repro: step NNN <phase> <index> <do> ok|FAIL <ms> ms [code]"
 *                                                     a repro step of an iteration (or its cleanup) ended
 *   "cxl-harness repro: iter NNN ok|FAIL <ms> ms"       a repro iteration ended
 */

/** The start of a step marker line. */
export const STEP_MARKER_PREFIX = '### cxl-harness step: ';

export function formatStepMarker(step: string): string {
  return STEP_MARKER_PREFIX + step.replace(/[\r\n]+/g, ' ').trim();
}

const REPRO_PREFIX = 'cxl-harness repro: ';

/** A repro loop's line in the kernel log that is neither a marker, a sync nor an iteration end (a note for people). */
export function reproNote(text: string): string {
  return `${REPRO_PREFIX}${text}`;
}

const pad3 = (n: number): string => String(n).padStart(3, '0');

/** The step name of a repro iteration: its marker, its check id in the reports. */
export function iterationId(scenario: string, n: number): string {
  return `repro.${scenario}.iter.${pad3(n)}`;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const ITERATION_START = new RegExp(`${escape(STEP_MARKER_PREFIX)}repro\\.\\S+\\.iter\\.(\\d+)`);

/** The iteration whose marker this console line is, if it is one. */
export function parseIterationStart(line: string): number | undefined {
  const m = ITERATION_START.exec(line);
  return m ? Number(m[1]) : undefined;
}

/** A repro step's request for a host action; the host answers in SYNC_DIR/<token>. */
export interface SyncRequest {
  token: string;
  /** The phase and index of the step (in the scenario), and the iteration it runs for. */
  phase: string;
  index: number;
  iteration: number;
}

export function syncLine(s: SyncRequest): string {
  return `${REPRO_PREFIX}sync ${s.token} ${s.phase} ${s.index} ${s.iteration}`;
}

const SYNC = new RegExp(`${escape(REPRO_PREFIX)}sync (\\S+) (\\S+) (\\d+) (\\d+)`);

export function parseSyncLine(line: string): SyncRequest | undefined {
  const m = SYNC.exec(line);
  return m ? { token: m[1]!, phase: m[2]!, index: Number(m[3]), iteration: Number(m[4]) } : undefined;
}

/**
 * A finished step of an iteration, as the kernel log carries it: the loop's own line to the host
 * can lose the race with a kernel crash right after the step (sysrq c, a panic in the next
 * step), the kernel log cannot (the console is flushed on panic), so the host rebuilds finished
 * steps from these lines when the loop's lines did not arrive.
 */
export interface StepEnd {
  iteration: number;
  phase: 'iteration' | 'cleanup';
  index: number;
  do: string;
  /** Whether it turned out as the scenario expected. */
  passed: boolean;
  ms: number;
  /** Present when the step itself failed (ok false): its code. */
  code?: string;
}

export function stepEndLine(e: StepEnd): string {
  return `${REPRO_PREFIX}step ${pad3(e.iteration)} ${e.phase} ${e.index} ${e.do} ${e.passed ? 'ok' : 'FAIL'} ${e.ms} ms${e.code ? ` ${e.code}` : ''}`;
}

const STEP_END = new RegExp(`${escape(REPRO_PREFIX)}step (\\d+) (iteration|cleanup) (\\d+) (\\S+) (ok|FAIL) (\\d+) ms(?: (\\S+))?`);

export function parseStepEnd(line: string): StepEnd | undefined {
  const m = STEP_END.exec(line);
  if (!m) return undefined;
  return { iteration: Number(m[1]), phase: m[2] as StepEnd['phase'], index: Number(m[3]), do: m[4]!, passed: m[5] === 'ok', ms: Number(m[6]), ...(m[7] ? { code: m[7] } : {}) };
}

export interface IterationEnd {
  iteration: number;
  ok: boolean;
  ms: number;
}

export function iterationEndLine(e: IterationEnd): string {
  return `${REPRO_PREFIX}iter ${pad3(e.iteration)} ${e.ok ? 'ok' : 'FAIL'} ${e.ms} ms`;
}

const ITERATION_END = new RegExp(`${escape(REPRO_PREFIX)}iter (\\d+) (ok|FAIL) (\\d+) ms`);

export function parseIterationEnd(line: string): IterationEnd | undefined {
  const m = ITERATION_END.exec(line);
  return m ? { iteration: Number(m[1]), ok: m[2] === 'ok', ms: Number(m[3]) } : undefined;
}

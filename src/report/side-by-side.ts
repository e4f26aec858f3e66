/**
 * Runs of one suite on several kernels, side by side: one row per check, one column per run
 * (headed by the kernel's detected version and identity), each cell the verdict and what was
 * observed. What a reviewer of the next version of a series reads first: what changed in
 * userspace behaviour from one kernel to the next. Pure: summaries in, the table as data
 * (sideBySide, which the HTML pages draw too) and as Markdown out.
 */
import type { Outcome, RunSummary, Verdict } from './model.js';
import { enforceEvidence } from './verdict.js';

export interface SideBySideOptions {
  /** How much of an observed value a cell shows (characters of compact JSON). */
  observedWidth?: number;
}

/** One run's cell of a check's row: the check absent from that run, or its verdict with what it observed and why. */
export type SideBySideCell =
  | { verdict: 'not run' }
  | { verdict: Verdict; observed: string; reason?: string };

export interface SideBySideTable {
  columns: { heading: string; outcome: Outcome; exitCode: number }[];
  /** Every check of any run, in the order the runs first have them. */
  rows: { id: string; cells: SideBySideCell[] }[];
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\s*[\r\n]+\s*/g, ' ');

/** A run's column heading: its version, then what kernel it was (release, package or patch count). */
export function kernelHeading(s: RunSummary): string {
  const k = s.kernel;
  const what = k ? [k.release, k.package ?? (k.patches?.length ? `${k.patches.length} patches` : undefined)].filter(Boolean).join(', ') : 'kernel unknown';
  return `${s.generation?.name ?? 'generation unknown'} (${what})`;
}

function compact(v: unknown, width: number): string {
  if (v === undefined) return '';
  const text = JSON.stringify(v);
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

/** The table: a pass without evidence counts as the error it is, as in every report. */
export function sideBySide(runs: readonly RunSummary[], options: SideBySideOptions = {}): SideBySideTable {
  const width = options.observedWidth ?? 80;
  const ids: string[] = [];
  for (const s of runs) for (const c of s.checks) if (!ids.includes(c.id)) ids.push(c.id);
  return {
    columns: runs.map((s) => ({ heading: kernelHeading(s), outcome: s.outcome, exitCode: s.exitCode })),
    rows: ids.map((id) => ({
      id,
      cells: runs.map((s): SideBySideCell => {
        const found = s.checks.find((c) => c.id === id);
        if (!found) return { verdict: 'not run' };
        const c = enforceEvidence(found);
        return { verdict: c.verdict, observed: compact(c.observed, width), ...(c.reason !== undefined ? { reason: c.reason } : {}) };
      }),
    })),
  };
}

export function sideBySideMarkdown(runs: readonly RunSummary[], options: SideBySideOptions = {}): string {
  const table = sideBySide(runs, options);
  const lines = [
    `| check | ${table.columns.map((c) => cell(c.heading)).join(' | ')} |`,
    `|---|${table.columns.map(() => '---').join('|')}|`,
  ];
  for (const row of table.rows) {
    const cells = row.cells.map((c) => {
      if (c.verdict === 'not run') return 'not run';
      if (c.verdict === 'skip') return `skip: ${cell(c.reason ?? '')}`;
      return `**${c.verdict}**${c.observed ? ` ${cell(c.observed)}` : ''}${c.verdict !== 'pass' && c.reason ? `: ${cell(c.reason)}` : ''}`;
    });
    lines.push(`| \`${row.id}\` | ${cells.join(' | ')} |`);
  }
  lines.push(`| outcome | ${table.columns.map((c) => `${c.outcome} (exit ${c.exitCode})`).join(' | ')} |`);
  return lines.join('\n');
}

/**
 * Runs of one suite on several kernels, side by side: one row per check, one column per run
 * (headed by the kernel's detected version and identity), each cell the verdict and what was
 * observed. What a reviewer of the next version of a series reads first: what changed in
 * userspace behaviour from one kernel to the next. Pure: summaries in, Markdown out.
 */
import type { RunSummary } from './model.js';
import { enforceEvidence } from './verdict.js';

export interface SideBySideOptions {
  /** How much of an observed value a cell shows (characters of compact JSON). */
  observedWidth?: number;
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

export function sideBySideMarkdown(runs: readonly RunSummary[], options: SideBySideOptions = {}): string {
  const width = options.observedWidth ?? 80;
  const ids: string[] = [];
  for (const s of runs) for (const c of s.checks) if (!ids.includes(c.id)) ids.push(c.id);
  const lines = [
    `| check | ${runs.map((s) => cell(kernelHeading(s))).join(' | ')} |`,
    `|---|${runs.map(() => '---').join('|')}|`,
  ];
  for (const id of ids) {
    const cells = runs.map((s) => {
      const found = s.checks.find((c) => c.id === id);
      if (!found) return 'not run';
      const c = enforceEvidence(found);
      if (c.verdict === 'skip') return `skip: ${cell(c.reason ?? '')}`;
      const observed = compact(c.observed, width);
      return `**${c.verdict}**${observed ? ` ${cell(observed)}` : ''}${c.verdict !== 'pass' && c.reason ? `: ${cell(c.reason)}` : ''}`;
    });
    lines.push(`| \`${id}\` | ${cells.join(' | ')} |`);
  }
  lines.push(`| outcome | ${runs.map((s) => `${s.outcome} (exit ${s.exitCode})`).join(' | ')} |`);
  return lines.join('\n');
}

/**
 * What a person reads: the table at the end of a run (what was tested, one line per check with
 * its verdict and why, the console findings, where every log is, and the outcome with its exit
 * code), and a comparison of two runs. Plain text; colour only when asked (see shouldColor,
 * which honours NO_COLOR).
 */
import type { DirComparison, TimingChange } from './compare.js';
import type { RunSummary, Verdict } from './model.js';
import { reportSuites, type ReportCase } from './cases.js';
import { countVerdicts, enforceEvidence, type OutcomeOptions } from './verdict.js';
import { yamlValue } from './tap.js';

export interface RenderOptions extends OutcomeOptions {
  color?: boolean;
  /** Prefix for every path shown, e.g. the results dir as the user typed it. */
  resultsDir?: string;
}

/** Colour when FORCE_COLOR says so, never when NO_COLOR is set (https://no-color.org), else when stdout is a TTY. */
export function shouldColor(env: Record<string, string | undefined>, isTTY: boolean): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  return isTTY;
}

const SGR = { red: 31, green: 32, yellow: 33, bold: 1, dim: 2 } as const;
type Style = keyof typeof SGR;

const painter = (color: boolean | undefined) => (style: Style, s: string): string => (color ? `\u001b[${SGR[style]}m${s}\u001b[0m` : s);

const VERDICT_STYLE: Record<Verdict, Style> = { pass: 'green', fail: 'red', error: 'red', skip: 'yellow' };

const MAX_ID_WIDTH = 48;

function seconds(ms: number): string {
  if (ms <= 0) return '-';
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`;
}

function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

export function renderSummary(summary: RunSummary, options: RenderOptions = {}): string {
  const paint = painter(options.color);
  const path = (p: string): string => (options.resultsDir ? `${options.resultsDir.replace(/\/+$/, '')}/${p}` : p);
  const out: string[] = [];

  out.push(paint('bold', `cxl-harness ${summary.tool.version}  run ${summary.runId}`));
  const k = summary.kernel;
  if (k) {
    const bits = [k.package ?? k.release ?? k.sourceVersion ?? 'unknown release'];
    if (k.gitCommit) bits.push(k.gitCommit.slice(0, 12));
    if (k.patches?.length) bits.push(`${k.patches.length} patch${k.patches.length === 1 ? '' : 'es'}`);
    if (k.patchsetHash) bits.push(`patchset ${k.patchsetHash.slice(0, 12)}`);
    out.push(`kernel    ${k.origin} ${bits.join(', ')}`);
  }
  if (summary.topology) out.push(`topology  ${summary.topology.name}`);
  if (summary.suite) out.push(`suite     ${summary.suite}`);
  if (summary.generation) out.push(`detected  ${summary.generation.name}`);
  out.push('');

  const suites = reportSuites(summary, options);
  const all = suites.flatMap((s) => s.cases);
  const width = Math.min(MAX_ID_WIDTH, Math.max(5, ...all.map((c) => c.id.length)));
  const row = (c: ReportCase): string => {
    const verdict = paint(VERDICT_STYLE[c.verdict], c.verdict.toUpperCase().padEnd(7));
    const detail: string[] = [];
    if (c.finding) {
      detail.push(oneLine(c.finding.title));
      if (c.finding.step) detail.push(`(step ${c.finding.step})`);
      if (c.verdict === 'pass' && c.reason) detail.push(`[${c.reason}]`);
    } else {
      if (c.verdict !== 'pass' && c.reason) detail.push(oneLine(c.reason));
      if (c.verdict === 'fail' && (c.expected !== undefined || c.observed !== undefined)) {
        detail.push(`(expected ${yamlValue(c.expected)}, observed ${yamlValue(c.observed)})`);
      }
    }
    if (c.evidence.length > 0 && c.verdict !== 'skip') detail.push(`-> ${c.evidence.map(path).join(', ')}`);
    return `${verdict}  ${c.id.padEnd(width)}  ${seconds(c.durationMs).padStart(6)}  ${detail.join(' ')}`.trimEnd();
  };
  out.push(paint('dim', `${'VERDICT'.padEnd(7)}  ${'CHECK'.padEnd(width)}  ${'TIME'.padStart(6)}  DETAIL`));
  for (const suite of suites) for (const c of suite.cases) out.push(row(c));
  out.push('');

  out.push('logs');
  if (suites.some((s) => s.name === 'console')) out.push(`  ${'console'.padEnd(16)} ${path('console.log')}`);
  for (const s of summary.steps) {
    const status = s.status === 'failed' ? paint('red', 'failed') : s.status;
    const where = s.log ? path(s.log) : '(no log)';
    out.push(`  ${s.name.padEnd(16)} ${where}  ${status}${s.error ? `: ${oneLine(s.error)}` : ''}`);
  }
  out.push('');

  if (summary.error) {
    out.push(paint('red', `${summary.error.code}: ${oneLine(summary.error.message)}`));
    if (summary.error.hint) out.push(`  -> ${oneLine(summary.error.hint)}`);
    out.push('');
  }
  const n = countVerdicts(summary.checks.map(enforceEvidence));
  // The row the table shows for a run that did not complete is counted with the checks.
  if (all.some((c) => c.id === 'run.outcome')) n.error++;
  const failing = all.filter((c) => c.finding && c.verdict === 'fail').length;
  const counts = [`${n.pass} passed`, `${n.fail} failed`, `${n.skip} skipped`, `${n.error} error${n.error === 1 ? '' : 's'}`];
  if (failing > 0) counts.push(`${failing} console finding${failing === 1 ? '' : 's'}`);
  const style: Style = summary.outcome === 'pass' ? 'green' : summary.outcome === 'skip' ? 'yellow' : 'red';
  out.push(`${counts.join(', ')}  ->  ${paint(style, summary.outcome.toUpperCase())} (exit ${summary.exitCode})`);
  for (const o of summary.observations) out.push(paint('dim', `note: ${o.id}: ${oneLine(o.title)}${o.check ? ` (${o.check})` : ''}`));
  return out.join('\n') + '\n';
}

function duration(n: number): string {
  return n >= 10_000 ? `${(n / 1000).toFixed(0)} s` : n >= 1000 ? `${(n / 1000).toFixed(1)} s` : `${n} ms`;
}

function timing(t: TimingChange): string {
  const pct = Number.isFinite(t.ratio) ? `${t.ratio >= 1 ? '+' : ''}${Math.round((t.ratio - 1) * 100)}%` : 'from 0';
  return `${t.name}: ${duration(t.oldMs)} -> ${duration(t.newMs)} (${pct})`;
}

/** A comparison for people: one section per kind of change, empty sections left out. */
export function renderComparison(c: DirComparison, options: { color?: boolean } = {}): string {
  const paint = painter(options.color);
  const r = c.comparison;
  const out: string[] = [];
  out.push(`old  ${c.old.dir}  (run ${c.old.runId}, ${c.old.outcome})`);
  out.push(`new  ${c.new.dir}  (run ${c.new.runId}, ${c.new.outcome})`);
  out.push('');
  const section = (title: string, lines: string[], style?: Style): void => {
    if (lines.length === 0) return;
    out.push(style ? paint(style, `${title} (${lines.length})`) : `${title} (${lines.length})`);
    for (const l of lines) out.push(`  ${l}`);
    out.push('');
  };
  const verdict = (v: string | undefined): string => v ?? 'absent';
  section('new failures', r.newFailures.map((x) => `${x.id}: ${verdict(x.old)} -> ${verdict(x.new)}${x.reason ? `  (${x.reason.replace(/\s+/g, ' ')})` : ''}`), 'red');
  section('new console findings', r.newFindings.map((f) => `${f.kind}: ${f.title}  (${f.log ?? 'console.log'}:${f.line}${f.step ? `, step ${f.step}` : ''})`), 'red');
  section('fixed', r.fixed.map((x) => `${x.id}: ${verdict(x.old)} -> ${verdict(x.new)}`), 'green');
  section('gone console findings', r.goneFindings.map((f) => `${f.kind}: ${f.title}`), 'green');
  section('changed skips', r.changedSkips.map((x) => `${x.id}: ${verdict(x.old)} -> ${verdict(x.new)}${x.new === 'skip' && x.reason ? `  (${x.reason.replace(/\s+/g, ' ')})` : ''}`), 'yellow');
  section('missing in new', r.missing.map((x) => `${x.id} (was ${verdict(x.old)})`), 'yellow');
  section(`timing changes beyond ${Math.round(c.options.timingThreshold * 100)}%`, r.timingChanges.map(timing));
  const worse = r.outcome.old !== r.outcome.new ? `outcome ${r.outcome.old} -> ${r.outcome.new}` : `outcome ${r.outcome.new}`;
  out.push(r.isRegression ? paint('red', `REGRESSION: ${worse}`) : `no regression: ${worse}`);
  return out.join('\n') + '\n';
}

/**
 * A page over several results dirs: their outcomes over time, each check's verdict per run as
 * a grid, each check's time per run as lines, and, when the dirs are runs of one suite on
 * several kernels, the kernels side by side (report/side-by-side.ts's table). What `report
 * --html`, nightly's trend.html and `matrix --run`'s cross-kernel page are. Pure: summaries in,
 * one self-contained HTML document out.
 */
import type { RunSummary, Verdict } from '../model.js';
import { sideBySide, type SideBySideCell } from '../side-by-side.js';
import { countVerdicts, enforceEvidence } from '../verdict.js';
import { outcomesChart, timingsChart } from './charts.js';
import { checkHref, duration, esc, figure, htmlDocument, outcomeBadge, relativeHref, sections, verdictBadge, verdictClass, when, type Section } from './page.js';

export interface TrendRun {
  summary: RunSummary;
  /** The path of the run's own report.html, relative to the trend page (absent: the run is not linked). */
  page?: string;
}

/** The href of a run's report.html, when it has one the page can link to. */
const pageHref = (r: TrendRun): string | undefined => (r.page === undefined ? undefined : relativeHref(r.page));

/** How many checks the timings chart draws at most: beyond that the lines are a tangle. */
const MAX_TIMING_LINES = 15;

const LETTER: Record<Verdict, string> = { pass: 'P', fail: 'F', skip: 'S', error: 'E' };

/** What tells two kernels apart (not where their image lies: one kernel can sit in two caches). */
export function kernelKey(s: RunSummary): string {
  const k = s.kernel;
  return k ? [k.origin, k.release, k.package, k.sourceVersion, k.gitCommit, k.patchsetHash].map((x) => x ?? '').join('|') : '';
}

/** A run on the axes and in the tables: its place in time order and when it started. */
const runLabel = (s: RunSummary, i: number): string => `${i + 1}: ${s.startedAt.slice(5, 16).replace('T', ' ')}`;

function runsTable(runs: readonly TrendRun[]): Section {
  const rows = runs.map((run, i) => {
    const { summary: s } = run;
    const href = pageHref(run);
    const n = countVerdicts(s.checks.map(enforceEvidence));
    const wall = s.finishedAt ? Date.parse(s.finishedAt) - Date.parse(s.startedAt) : undefined;
    const k = s.kernel;
    const kernel = k ? `${esc(k.package ?? k.release ?? k.sourceVersion ?? '?')}${s.generation ? ` <span class="muted">(${esc(s.generation.name)})</span>` : ''}` : '<span class="muted">unknown</span>';
    return `<tr><td class="num">${i + 1}</td><td>${esc(when(s.startedAt))}</td><td>${href ? `<a href="${esc(href)}"><code class="nowrap">${esc(s.runId)}</code></a>` : `<code class="nowrap">${esc(s.runId)}</code>`}</td>`
      + `<td>${kernel}</td><td>${esc(s.suite ?? '')}</td><td>${outcomeBadge(s.outcome, s.exitCode)}</td>`
      + `<td class="num">${n.pass} / ${n.fail} / ${n.skip} / ${n.error}</td><td class="num">${esc(duration(wall))}</td></tr>`;
  });
  return {
    id: 'runs',
    title: 'Runs',
    body: `<table class="list"><tr><th class="num">#</th><th>started</th><th>run</th><th>kernel</th><th>suite</th><th>outcome</th><th class="num">pass / fail / skip / error</th><th class="num">time</th></tr>${rows.join('')}</table>`,
  };
}

function sideBySideCell(c: SideBySideCell): string {
  if (c.verdict === 'not run') return `<td>${verdictBadge('not run')}</td>`;
  const observed = c.observed ? ` <code>${esc(c.observed)}</code>` : '';
  const reason = c.reason && c.verdict !== 'pass' ? `<div class="reason">${esc(c.reason)}</div>` : '';
  return `<td>${verdictBadge(c.verdict)}${c.verdict === 'skip' ? '' : observed}${reason}</td>`;
}

/** The latest run of each kernel, side by side; undefined unless the runs are of one suite on several kernels. */
function kernels(runs: readonly TrendRun[]): Section | undefined {
  if (new Set(runs.map((r) => r.summary.suite)).size !== 1) return undefined;
  const latest = new Map<string, RunSummary>();
  for (const { summary } of runs) latest.set(kernelKey(summary), summary);
  if (latest.size < 2) return undefined;
  const columns = [...latest.values()];
  const table = sideBySide(columns);
  const head = table.columns.map((c) => `<th>${esc(c.heading)}<div>${outcomeBadge(c.outcome, c.exitCode)}</div></th>`).join('');
  const rows = table.rows.map((r) => `<tr><td><code>${esc(r.id)}</code></td>${r.cells.map(sideBySideCell).join('')}</tr>`);
  return {
    id: 'kernels',
    title: 'Kernels side by side',
    body: `<p class="muted">The latest run of each of ${columns.length} kernels: each check's verdict and what it observed.</p>`
      + `<div class="scroll"><table class="list side" style="min-width:${16 + 14 * columns.length}rem"><tr><th>check</th>${head}</tr>${rows.join('')}</table></div>`,
  };
}

function outcomes(runs: readonly TrendRun[]): Section {
  const points = runs.map(({ summary: s }, i) => ({ label: runLabel(s, i), outcome: s.outcome, counts: countVerdicts(s.checks.map(enforceEvidence)) }));
  return { id: 'outcomes', title: 'Outcomes over time', body: figure(outcomesChart(points), 'Each run\'s checks by verdict, oldest first, its outcome under its bar.') };
}

/** Check ids in the order the runs first have them. */
function checkIds(runs: readonly TrendRun[]): string[] {
  const ids: string[] = [];
  const seen = new Set<string>();
  for (const { summary } of runs) {
    for (const c of summary.checks) {
      if (seen.has(c.id)) continue;
      seen.add(c.id);
      ids.push(c.id);
    }
  }
  return ids;
}

function grid(runs: readonly TrendRun[], ids: readonly string[]): Section {
  const byRun = runs.map(({ summary }) => new Map(summary.checks.map((c) => [c.id, enforceEvidence(c)])));
  const hrefs = runs.map(pageHref);
  const head = runs.map(({ summary: s }, i) => `<th class="run">${hrefs[i] ? `<a href="${esc(hrefs[i]!)}">${esc(runLabel(s, i))}</a>` : esc(runLabel(s, i))}</th>`).join('');
  const rows = ids.map((id) => `<tr><td><code>${esc(id)}</code></td>${runs.map((_, i) => {
    const href = hrefs[i];
    const c = byRun[i]!.get(id);
    if (!c) return '<td class="cell v-not-run" title="not run">·</td>';
    const title = `${c.verdict}${c.reason ? `: ${c.reason}` : ''} (${duration(c.durationMs)})`;
    const mark = LETTER[c.verdict] ?? '?';
    const letter = href ? `<a href="${esc(checkHref(id, href))}">${mark}</a>` : mark;
    return `<td class="cell ${verdictClass(c.verdict)}" title="${esc(title)}">${letter}</td>`;
  }).join('')}</tr>`);
  return {
    id: 'grid',
    title: 'Verdicts per run',
    body: '<p class="muted">P pass, F fail, S skip, E error, · not run; a cell\'s title holds the reason and the time.</p>'
      + `<div class="scroll"><table class="grid"><tr><th>check</th>${head}</tr>${rows.join('')}</table></div>`,
  };
}

function timings(runs: readonly TrendRun[], ids: readonly string[]): Section | undefined {
  if (ids.length === 0) return undefined;
  const byRun = runs.map(({ summary }) => new Map(summary.checks.map((c) => [c.id, c.durationMs])));
  const lines = ids.map((id) => ({ id, ms: byRun.map((m) => m.get(id) ?? null) }));
  const slowest = (l: { ms: (number | null)[] }): number => Math.max(0, ...l.ms.map((m) => m ?? 0));
  const shown = lines.length > MAX_TIMING_LINES ? [...lines].sort((a, b) => slowest(b) - slowest(a)).slice(0, MAX_TIMING_LINES) : lines;
  const caption = shown.length < lines.length
    ? `The ${shown.length} slowest of ${lines.length} checks (by their slowest run), each one's time per run; every check's time is in its grid cell's title.`
    : 'Each check\'s time per run, oldest first.';
  return { id: 'timings', title: 'Check timings', body: figure(timingsChart(runs.map(({ summary }, i) => runLabel(summary, i)), shown), caption) };
}

export function trendPage(input: readonly TrendRun[]): string {
  const runs = [...input].sort((a, b) => a.summary.startedAt.localeCompare(b.summary.startedAt));
  const suites = [...new Set(runs.map((r) => r.summary.suite ?? 'run'))];
  const kernelCount = new Set(runs.map((r) => kernelKey(r.summary))).size;
  const ids = checkIds(runs);
  const first = runs[0]?.summary.startedAt;
  const last = runs.at(-1)?.summary.startedAt;
  const title = `${runs.length} run${runs.length === 1 ? '' : 's'} of ${suites.join(', ')} on ${kernelCount} kernel${kernelCount === 1 ? '' : 's'}`;
  const header = `<h1>${esc(title)}</h1><p class="muted">${esc(when(first))}${last !== first ? ` to ${esc(when(last))}` : ''}</p>`;
  const body = sections([runsTable(runs), kernels(runs), outcomes(runs), grid(runs, ids), timings(runs, ids)]);
  return htmlDocument(title, `${header}\n${body}`);
}

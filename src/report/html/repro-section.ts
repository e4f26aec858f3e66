/**
 * A repro dir's part of its report.html, from its repro.json: the scenario, the loop's counts
 * and times, the iteration times as a chart, the per-step times, and every failing iteration
 * linked to its folder (iterations/NNN: its console slice, kernel log, commands).
 */
import { iterationChart } from './charts.js';
import { duration, errorBanner, esc, facts, figure, fileLink, type Section } from './page.js';

export interface StatsView {
  count: number;
  min: number;
  median: number;
  max: number;
}

/**
 * What the page reads of repro.json (src/repro/report.ts ReproSummary, which is assignable to
 * it: the report layer cannot import the repro layer, and the page needs only these fields).
 */
export interface ReproView {
  scenario: { name: string; description: string };
  seed: number;
  outcome: string;
  skipReason?: string;
  error?: { code: string; message: string; hint?: string };
  requested: { iterations?: number; untilFail?: boolean; maxIterations: number; rebootEvery: number; stopOnFail: boolean; injectCrashAt?: number };
  iterationsRun: number;
  failures: number;
  crashes: number;
  firstFailure?: number;
  boots: number;
  timings: { iterationMs?: StatsView; stepMs: Record<string, StatsView>; bootMs?: StatsView; wallMs?: number };
  iterations: {
    iteration: number;
    ok: boolean;
    ms?: number;
    boot: number;
    failure?: { kind: string; reason: string; step?: string };
    folder?: string;
  }[];
}

/** The files a failing iteration's folder holds (src/repro/iteration-files.ts). */
const ITERATION_FILES = ['console.txt', 'dmesg.txt', 'commands.txt', 'iteration.json'];

const statsText = (s: StatsView | undefined): string | undefined =>
  s ? `${esc(duration(s.min))} min, ${esc(duration(s.median))} median, ${esc(duration(s.max))} max (${esc(s.count)})` : undefined;

function requested(r: ReproView['requested']): string {
  const bits = [r.untilFail ? `until a failure (at most ${r.maxIterations})` : `${r.iterations ?? r.maxIterations} iterations`];
  if (r.rebootEvery > 0) bits.push(`a reboot every ${r.rebootEvery}`);
  if (r.stopOnFail) bits.push('stop on the first failure');
  if (r.injectCrashAt !== undefined) bits.push(`a crash injected in iteration ${r.injectCrashAt}`);
  return esc(bits.join(', '));
}

function failures(repro: ReproView): string {
  const failed = repro.iterations.filter((i) => !i.ok);
  if (failed.length === 0) return '<p>No iteration failed.</p>';
  const rows = failed.map((it) => {
    const folder = it.folder
      ? `${fileLink(`${it.folder}/`, it.folder)}: ${ITERATION_FILES.map((f) => fileLink(`${it.folder}/${f}`, f)).join(', ')}`
      : '<span class="muted">no folder</span>';
    return `<tr id="iteration-${esc(it.iteration)}"><td class="num">${esc(it.iteration)}</td><td class="num">${esc(it.boot)}</td>`
      + `<td><span class="badge v-fail">${esc(it.failure?.kind ?? 'failed')}</span> ${esc(it.failure?.reason ?? '')}${it.failure?.step ? ` <span class="muted">(step ${esc(it.failure.step)})</span>` : ''}</td>`
      + `<td class="num">${esc(duration(it.ms))}</td><td>${folder}</td></tr>`;
  });
  return `<table class="list"><tr><th class="num">iteration</th><th class="num">boot</th><th>failure</th><th class="num">time</th><th>logs</th></tr>${rows.join('')}</table>`;
}

function stepTimes(stepMs: Record<string, StatsView>): string {
  const rows = Object.entries(stepMs).map(([name, s]) => `<tr><td><code>${esc(name)}</code></td><td class="num">${esc(s.count)}</td><td class="num">${esc(duration(s.min))}</td><td class="num">${esc(duration(s.median))}</td><td class="num">${esc(duration(s.max))}</td></tr>`);
  if (rows.length === 0) return '';
  return `<h3>Step times</h3><table class="list"><tr><th>step</th><th class="num">count</th><th class="num">min</th><th class="num">median</th><th class="num">max</th></tr>${rows.join('')}</table>`;
}

export function reproSection(repro: ReproView): Section {
  const head = facts([
    ['scenario', `<code>${esc(repro.scenario.name)}</code> <span class="muted">${esc(repro.scenario.description)}</span>`],
    ['outcome', `${esc(repro.outcome)}${repro.skipReason ? `: ${esc(repro.skipReason)}` : ''}`],
    ['asked for', requested(repro.requested)],
    ['seed', esc(repro.seed)],
    ['iterations', `${esc(repro.iterationsRun)} run, ${esc(repro.failures)} failed${repro.crashes ? `, ${esc(repro.crashes)} kernel crash${repro.crashes > 1 ? 'es' : ''}` : ''}`
      + `${repro.firstFailure !== undefined ? `, first failure: <a href="#iteration-${esc(repro.firstFailure)}">iteration ${esc(repro.firstFailure)}</a>` : ''}`],
    ['boots', esc(repro.boots)],
    ['iteration time (guest)', statsText(repro.timings.iterationMs)],
    ['boot time', statsText(repro.timings.bootMs)],
    ['whole loop', repro.timings.wallMs === undefined ? undefined : esc(duration(repro.timings.wallMs))],
  ]);
  const error = errorBanner(repro.error);
  const chart = repro.iterations.length
    ? figure(iterationChart(repro.iterations.map((i) => ({ iteration: i.iteration, ok: i.ok, boot: i.boot, ...(i.ms !== undefined ? { ms: i.ms } : {}) }))),
      'Each iteration\'s time in the guest, in order: red failed, a red triangle an iteration that never finished (a crash or a hang), a dashed line where the guest was booted again.')
    : '';
  return { id: 'repro', title: `Repro loop: ${repro.scenario.name}`, body: `${error}${head}${chart}<h3>Failing iterations</h3>${failures(repro)}${stepTimes(repro.timings.stepMs)}` };
}

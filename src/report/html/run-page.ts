/**
 * report.html of a results dir (a run, a repro, a merge): the outcome and why, the kernel and
 * the machine it ran on, where the time went, the nodes' free memory around each check, every
 * check with its evidence, the console findings with their lines, and for a repro its loop.
 * Pure: a summary (and a repro's repro.json) in, one self-contained HTML document out.
 */
import { booted } from '../cases.js';
import type { CheckResult, ConsoleFinding, RunSummary } from '../model.js';
import { countVerdicts, enforceEvidence, findingFailsRun } from '../verdict.js';
import { checkTimesChart, nodeMemoryChart, timelineChart, type NodeMemorySeries } from './charts.js';
import { checkAnchor, checkHref, duration, errorBanner, esc, facts, figure, fileLink, htmlDocument, jsonPre, mib, outcomeBadge, sections, verdictBadge, when, type Section } from './page.js';
import { reproSection, type ReproView } from './repro-section.js';
import { topologyDrawing } from './topology-drawing.js';

export interface RunPageOptions {
  /** The dir's repro.json, when it is a repro dir. */
  repro?: ReproView;
}

/** What the kernel was, in one line: the package, the release or the source version. */
function kernelName(s: RunSummary): string {
  const k = s.kernel;
  return k?.package ?? k?.release ?? k?.sourceVersion ?? 'an unknown kernel';
}

function header(s: RunSummary, checks: readonly CheckResult[]): string {
  const n = countVerdicts(checks);
  const failing = s.findings.filter((f) => findingFailsRun(f)).length;
  const counts = [`${n.pass} passed`, `${n.fail} failed`, `${n.skip} skipped`, `${n.error} error${n.error === 1 ? '' : 's'}`];
  if (failing) counts.push(`${failing} console finding${failing === 1 ? '' : 's'} failing the run`);
  const wall = s.finishedAt ? Date.parse(s.finishedAt) - Date.parse(s.startedAt) : undefined;
  const error = errorBanner(s.error);
  return `<h1>${esc(s.suite ?? 'run')} on ${esc(kernelName(s))}${s.generation ? ` <span class="muted">(${esc(s.generation.name)})</span>` : ''}</h1>`
    + `<p class="outcome">${outcomeBadge(s.outcome, s.exitCode)} ${esc(counts.join(', '))}</p>${error}`
    + facts([
      ['run', `<code>${esc(s.runId)}</code>`],
      ['started', esc(when(s.startedAt))],
      ['finished', s.finishedAt ? `${esc(when(s.finishedAt))} (${esc(duration(wall))})` : '<span class="muted">not finished</span>'],
    ]);
}

function kernel(s: RunSummary): Section {
  const k = s.kernel;
  const patches = k?.patches?.length
    ? `<table class="list"><tr><th>patch</th><th>sha256</th></tr>${k.patches.map((p) => `<tr><td>${esc(p.subject)}${p.file ? ` <span class="muted">${esc(p.file)}</span>` : ''}</td><td><code title="${esc(p.sha256)}">${esc(p.sha256.slice(0, 16))}</code></td></tr>`).join('')}</table>`
    : undefined;
  const caps = s.capabilities ? Object.entries(s.capabilities) : [];
  const capabilities = caps.length
    ? `${caps.filter(([, v]) => v).map(([c]) => `<code>${esc(c)}</code>`).join(' ')}${caps.some(([, v]) => !v) ? `<br><span class="muted">absent:</span> ${caps.filter(([, v]) => !v).map(([c]) => `<code>${esc(c)}</code>`).join(' ')}` : ''}`
    : undefined;
  return { id: 'kernel', title: 'Kernel', body: facts([
    ['origin', k ? esc(k.origin) : '<span class="muted">not resolved</span>'],
    ['release', k?.release ? `<code>${esc(k.release)}</code>` : undefined],
    ['package', k?.package ? `<code>${esc(k.package)}</code>` : undefined],
    ['source', k?.sourceVersion ? esc(k.sourceVersion) : undefined],
    ['git commit', k?.gitCommit ? `<code>${esc(k.gitCommit)}</code>` : undefined],
    ['image', k?.imagePath ? `<code>${esc(k.imagePath)}</code>` : undefined],
    ['patches', patches],
    ['patchset hash', k?.patchsetHash ? `<code>${esc(k.patchsetHash)}</code>` : k ? '<span class="muted">unpatched</span>' : undefined],
    ['generation', s.generation ? `<strong>${esc(s.generation.name)}</strong>${s.generation.evidence.length ? `<details><summary>why</summary><ul>${s.generation.evidence.map((e) => `<li>${esc(e)}</li>`).join('')}</ul></details>` : ''}` : undefined],
    ['capabilities', capabilities],
  ]) };
}

function machine(s: RunSummary): Section {
  const t = s.topology;
  return { id: 'machine', title: 'Machine', body: facts([
    ['topology', t ? `<strong>${esc(t.name)}</strong>${t.file ? ` <code>${esc(t.file)}</code>` : ''}` : undefined],
    ['QEMU', s.qemu?.version ? esc(s.qemu.version) : undefined],
    ['accelerator', s.qemu?.accel ? esc(s.qemu.accel) : undefined],
    ['command line', s.qemu?.argv ? `<details><summary>${esc(s.qemu.argv.length)} words</summary><pre>${esc(s.qemu.argv.join(' '))}</pre></details>` : undefined],
    ['harness', esc(`${s.tool.name} ${s.tool.version}`)],
  ]) + (t?.layout ? figure(topologyDrawing(t.layout), 'The CXL topology: fixed memory windows over the host bridges they interleave, then root ports, switches and the Type-3 devices.') : '') };
}

function time(s: RunSummary, checks: readonly CheckResult[], repro: boolean): Section | undefined {
  const t0 = Date.parse(s.startedAt);
  const parts: string[] = [];
  if (s.steps.length) {
    // A step that never finished (the run was stopped in it) lasted until the run's end.
    const until = (startedAt: string): number => (s.finishedAt ? Math.max(0, Date.parse(s.finishedAt) - Date.parse(startedAt)) : 0);
    const rows = s.steps.map((st) => ({ name: st.name, startMs: Math.max(0, Date.parse(st.startedAt) - t0), ms: st.durationMs ?? until(st.startedAt), status: st.status }));
    parts.push(figure(timelineChart(rows), 'The run\'s steps: when each started after the run did, and how long it took (red: the step failed; grey: it never finished).'));
  }
  // A repro's checks are its iterations: the loop's own chart shows them.
  if (checks.length && !repro) {
    parts.push(figure(checkTimesChart(checks), 'Each check\'s time, in the order they ran, coloured by verdict.'));
  }
  return parts.length ? { id: 'time', title: 'Where the time went', body: parts.join('') } : undefined;
}

/** MemFree per node before and after each check that recorded it; nothing when none did. */
function memory(checks: readonly CheckResult[]): Section | undefined {
  const framed = checks.filter((c) => c.nodeMemory);
  if (framed.length === 0) return undefined;
  const nodes = [...new Set(framed.flatMap((c) => [...Object.keys(c.nodeMemory!.before), ...Object.keys(c.nodeMemory!.after)]))].sort((a, b) => Number(a) - Number(b));
  const free = (m: Record<string, { freeKiB: number }>, node: string): number | null => (m[node] ? Math.round(m[node].freeKiB / 1024) : null);
  const series: NodeMemorySeries[] = nodes.map((node) => ({
    node,
    before: framed.map((c) => free(c.nodeMemory!.before, node)),
    after: framed.map((c) => free(c.nodeMemory!.after, node)),
  }));
  const rows = framed.map((c) => `<tr><td><a href="${esc(checkHref(c.id))}"><code>${esc(c.id)}</code></a></td>${nodes.map((node) => {
    const b = c.nodeMemory!.before[node];
    const a = c.nodeMemory!.after[node];
    return `<td class="num">${b ? esc(mib(b.freeKiB)) : '-'} → ${a ? esc(mib(a.freeKiB)) : '-'}</td>`;
  }).join('')}</tr>`);
  const totals = nodes.map((node) => {
    const t = framed.map((c) => c.nodeMemory!.after[node] ?? c.nodeMemory!.before[node]).find(Boolean);
    return `node ${node}: ${t ? mib(t.totalKiB) : '?'}`;
  });
  return {
    id: 'memory',
    title: 'Node memory',
    body: figure(nodeMemoryChart(framed.map((c) => c.id), series), `MemFree of every node before (dashed) and after (solid) each check; MemTotal ${totals.join(', ')}.`)
      + `<details><summary>the numbers</summary><table class="list"><tr><th>check</th>${nodes.map((n) => `<th class="num">node ${esc(n)} free</th>`).join('')}</tr>${rows.join('')}</table></details>`,
  };
}

/** The nodes whose free memory the check changed by 1 MiB or more. */
function memoryChange(c: CheckResult): string {
  if (!c.nodeMemory) return '';
  const { before, after } = c.nodeMemory;
  const moved = Object.keys(after).filter((n) => before[n] && Math.abs(after[n]!.freeKiB - before[n]!.freeKiB) >= 1024);
  if (moved.length === 0) return '';
  return `<div class="muted">free memory: ${moved.map((n) => {
    const d = Math.round((after[n]!.freeKiB - before[n]!.freeKiB) / 1024);
    return esc(`node ${n} ${d > 0 ? '+' : '−'}${Math.abs(d)} MiB`);
  }).join(', ')}</div>`;
}

function checkRow(c: CheckResult): string {
  const judged = c.verdict === 'fail' || c.verdict === 'error';
  const values = c.expected !== undefined || c.observed !== undefined
    ? `<details${judged ? ' open' : ''}><summary>expected and observed</summary><div class="pair"><div><h4>expected</h4>${jsonPre(c.expected)}</div><div><h4>observed</h4>${jsonPre(c.observed)}</div></div></details>`
    : '';
  const evidence = c.evidence.length ? `<div>evidence: ${c.evidence.map((e) => fileLink(e)).join(', ')}</div>` : '';
  return `<tr class="check" id="${esc(checkAnchor(c.id))}"><td>${verdictBadge(c.verdict)}</td>`
    + `<td><code>${esc(c.id)}</code>${c.informational ? ' <span class="muted">(identifies the kernel; judges nothing)</span>' : ''}<div class="muted">${esc(c.title)}</div>`
    + `${c.reason ? `<div class="reason">${esc(c.reason)}</div>` : ''}${values}${evidence}${memoryChange(c)}</td>`
    + `<td class="num">${esc(duration(c.durationMs))}</td></tr>`;
}

function checksSection(checks: readonly CheckResult[]): Section {
  const body = checks.length
    ? `<table class="list"><tr><th>verdict</th><th>check</th><th class="num">time</th></tr>${checks.map(checkRow).join('')}</table>`
    : '<p class="muted">No check ran.</p>';
  return { id: 'checks', title: 'Checks', body };
}

function finding(f: ConsoleFinding, i: number): string {
  const log = f.log ?? 'console.log';
  const fails = findingFailsRun(f);
  const status = fails ? '<span class="badge v-fail">fails the run</span>' : `<span class="badge v-skip">${f.expected ? 'expected' : 'informational'}</span>`;
  return `<article class="finding" id="finding-${i + 1}"><div><span class="badge v-error">${esc(f.kind)}</span> ${status} <strong>${esc(f.title)}</strong></div>`
    + `<div>${fileLink(log, `${log}:${f.line}`)}${f.step ? ` during <a href="${esc(checkHref(f.step))}"><code>${esc(f.step)}</code></a>` : ''}</div>`
    + `<details${fails ? ' open' : ''}><summary>${esc(f.lines.length)} lines</summary><pre>${esc(f.lines.join('\n'))}</pre></details></article>`;
}

function findings(s: RunSummary): Section | undefined {
  if (!booted(s)) return undefined;
  const body = s.findings.length
    ? s.findings.map(finding).join('')
    : '<p>The kernel console shows no panic, oops, BUG, WARNING, sanitizer report, lockup or stall.</p>';
  return { id: 'findings', title: 'Console findings', body };
}

function observations(s: RunSummary): Section | undefined {
  if (s.observations.length === 0) return undefined;
  return { id: 'observations', title: 'Observations', body: `<ul>${s.observations.map((o) => `<li><strong>${esc(o.title)}</strong> <code>${esc(o.id)}</code>${o.check ? ` (<a href="${esc(checkHref(o.check))}">${esc(o.check)}</a>)` : ''}<div>${esc(o.detail)}</div></li>`).join('')}</ul>` };
}

/** The files every results dir of this kind holds (a merge's console logs stay in its shards: the findings link them). */
function footer(s: RunSummary, repro: boolean): string {
  const files = ['summary.json', 'results.tap', 'junit.xml', 'kcidb.json', ...(repro ? ['repro.json', 'repro.tap'] : [])];
  return `<footer>This results dir: ${files.map((f) => fileLink(f)).join(', ')}. Written by ${esc(s.tool.name)} ${esc(s.tool.version)}; every path is relative to the dir.</footer>`;
}

export function runPage(summary: RunSummary, options: RunPageOptions = {}): string {
  const checks = summary.checks.map(enforceEvidence);
  const repro = options.repro;
  const body = sections([
    repro ? reproSection(repro) : undefined,
    kernel(summary),
    machine(summary),
    time(summary, checks, repro !== undefined),
    memory(checks),
    checksSection(checks),
    findings(summary),
    observations(summary),
  ]);
  return htmlDocument(`${summary.outcome}: ${summary.suite ?? 'run'} on ${kernelName(summary)} (${summary.runId})`, `${header(summary, checks)}\n${body}\n${footer(summary, repro !== undefined)}`);
}


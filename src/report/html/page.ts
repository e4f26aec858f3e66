/**
 * What every HTML page shares: escaping, links into a results dir, the document around the
 * body (its one stylesheet and a Content-Security-Policy that lets nothing be fetched), and the
 * small pieces the pages repeat (badges, durations, JSON blocks). The pages are single files a
 * CI artifact holds: no script, no request to anything outside them, so they work offline.
 */
import type { Outcome, Verdict } from '../model.js';

/** Text for element content and attribute values: summaries hold kernel output, which holds anything. */
export function esc(value: unknown): string {
  return String(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/**
 * The href of a path relative to the page (a file of the results dir, `../` allowed), or
 * undefined for anything else: an absolute path or a URL is shown as text, never followed.
 */
export function relativeHref(path: string): string | undefined {
  if (path === '' || path.startsWith('/') || path.includes('\\') || /^[A-Za-z][A-Za-z0-9+.-]*:/.test(path)) return undefined;
  const parts = path.split('/').map((p) => (p === '.' || p === '..' ? p : encodeURIComponent(p)));
  // "./" first: a first segment with a colon in it would otherwise read as a URL scheme.
  return parts[0] === '.' || parts[0] === '..' ? parts.join('/') : `./${parts.join('/')}`;
}

/** The element id of a check's row in report.html. */
export const checkAnchor = (id: string): string => `check-${id}`;

/** A link to a check's row: in this page, or in the report.html at `page`. */
export function checkHref(id: string, page = ''): string {
  return `${page}#${encodeURIComponent(checkAnchor(id))}`;
}

/** A link to a file of the results dir; `file:line` (evidence, console findings) links to the file. */
export function fileLink(path: string, text = path): string {
  const href = relativeHref(path.replace(/:\d+$/, ''));
  return href ? `<a href="${esc(href)}">${esc(text)}</a>` : `<span class="path">${esc(text)}</span>`;
}

/** A run's or a loop's error: its code, its message and the hint that names the fix. */
export function errorBanner(e: { code: string; message: string; hint?: string | undefined } | undefined): string {
  if (!e) return '';
  return `<div class="banner"><strong>${esc(e.code)}</strong>: <span class="message">${esc(e.message)}</span>${e.hint ? `<br><span class="muted">${esc(e.hint)}</span>` : ''}</div>`;
}

/** Milliseconds for people: 850 ms, 4.6 s, 2 min 5 s. */
export function duration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** MiB from KiB, as the node memory numbers are shown. */
export function mib(kib: number): string {
  return `${Math.round(kib / 1024)} MiB`;
}

/** An ISO time as UTC without the seconds' fraction: the same text wherever the page is opened. */
export function when(iso: string | undefined): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC') : '-';
}

/** The class a verdict is painted with (a summary read from disk may hold any word: escaped like the rest). */
export const verdictClass = (v: string): string => `v-${esc(v.replace(' ', '-'))}`;

export function verdictBadge(v: Verdict | 'not run'): string {
  return `<span class="badge ${verdictClass(v)}">${esc(v)}</span>`;
}

const OUTCOME_CLASS: Record<Outcome, string> = {
  pass: 'v-pass', fail: 'v-fail', skip: 'v-skip', 'kernel-crash': 'v-crash', hang: 'v-crash', 'infrastructure-error': 'v-error', interrupted: 'v-error',
};

export function outcomeBadge(o: Outcome, exitCode?: number): string {
  return `<span class="badge ${OUTCOME_CLASS[o] ?? 'v-error'}">${esc(o)}${exitCode === undefined ? '' : ` (exit ${esc(exitCode)})`}</span>`;
}

/** A value as pretty JSON in a <pre>. */
export function jsonPre(value: unknown): string {
  return `<pre>${esc(value === undefined ? '(none)' : JSON.stringify(value, null, 2))}</pre>`;
}

/** A two-column table of the rows whose value is set; values are HTML already. */
export function facts(rows: [string, string | undefined][]): string {
  const set = rows.filter((r): r is [string, string] => r[1] !== undefined && r[1] !== '');
  return `<table class="facts">${set.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`).join('')}</table>`;
}

/** A part of a page with its own heading; the page's navigation links to it by `id`. */
export interface Section {
  id: string;
  title: string;
  body: string;
}

/** The sections that are there, after a navigation bar that links to each. */
export function sections(parts: readonly (Section | undefined)[]): string {
  const present = parts.filter((p): p is Section => p !== undefined);
  const nav = `<nav>${present.map((p) => `<a href="#${esc(p.id)}">${esc(p.title)}</a>`).join('')}</nav>`;
  return [nav, ...present.map((p) => `<section id="${esc(p.id)}"><h2>${esc(p.title)}</h2>${p.body}</section>`)].join('\n');
}

/** A chart's SVG in its frame, with the words that say what it shows. */
export function figure(svg: string, caption: string): string {
  return `<figure>${svg}<figcaption>${esc(caption)}</figcaption></figure>`;
}

/**
 * Nothing may be fetched: no script, no font, no image but data: URIs, styles only inline.
 * Opened from a CI artifact offline, the page is whole; opened anywhere, it asks nothing.
 */
export const CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

const STYLE = `
:root { color-scheme: light; --pass: #1a7f37; --fail: #cf222e; --skip: #9a6700; --error: #8250df; --crash: #a40e26; --muted: #57606a; --line: #d0d7de; --bg2: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1200px; padding: 1rem 1.5rem 3rem; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; background: #fff; }
h1 { font-size: 1.5rem; margin: .5rem 0; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; padding-bottom: .25rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1rem; margin: 1rem 0 .25rem; }
code, pre, .path { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
pre { background: var(--bg2); border: 1px solid var(--line); border-radius: 4px; padding: .5rem; overflow-x: auto; white-space: pre-wrap; word-break: break-word; margin: .25rem 0; }
a { color: #0969da; }
nav { margin: .5rem 0 1rem; display: flex; flex-wrap: wrap; gap: .25rem 1rem; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { text-align: left; vertical-align: top; padding: .25rem .5rem; border-bottom: 1px solid var(--line); }
table.facts th { color: var(--muted); font-weight: 600; white-space: nowrap; }
table.list { width: 100%; }
table.list th { background: var(--bg2); }
td.num, th.num { text-align: right; white-space: nowrap; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 1rem; font-size: 12px; font-weight: 600; color: #fff; white-space: nowrap; }
.v-pass { background: var(--pass); } .v-fail { background: var(--fail); } .v-skip { background: var(--skip); }
.v-error { background: var(--error); } .v-crash { background: var(--crash); } .v-not-run { background: #8c959f; }
.outcome { font-size: 1.1rem; }
.message { white-space: pre-wrap; }
.banner { border-left: 4px solid var(--fail); background: #fff1f0; padding: .5rem 1rem; margin: .75rem 0; }
.muted { color: var(--muted); }
.reason { margin: .15rem 0; }
tr.check > td { padding-top: .4rem; padding-bottom: .4rem; }
tr.check:target { background: #fff8c5; }
details > summary { cursor: pointer; color: var(--muted); }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: .5rem; }
.pair h4 { margin: .25rem 0 0; font-size: 12px; color: var(--muted); }
article.finding { border: 1px solid var(--line); border-radius: 6px; padding: .5rem .75rem; margin: .5rem 0; }
article.finding:target { background: #fff8c5; }
figure { margin: .75rem 0; overflow-x: auto; }
figcaption { color: var(--muted); font-size: 12px; }
figure svg { display: block; max-width: none; }
table.grid td.cell { text-align: center; font-size: 11px; font-weight: 700; color: #fff; min-width: 1.6rem; border: 1px solid #fff; }
table.grid td.cell a { color: inherit; text-decoration: none; }
table.grid td.cell.v-not-run { background: #eaeef2; color: var(--muted); }
table.grid th.run { font-weight: 400; font-size: 11px; white-space: nowrap; }
table.side { table-layout: fixed; }
table.side th:first-child { width: 16rem; }
table.side code { overflow-wrap: anywhere; }
.scroll { overflow-x: auto; }
.nowrap { white-space: nowrap; }
footer { margin-top: 2rem; color: var(--muted); font-size: 12px; }
`;

/** A whole document: the policy first, one stylesheet, then the body. */
export function htmlDocument(title: string, body: string): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${esc(CONTENT_SECURITY_POLICY)}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    `<body>${body}</body>`,
    '</html>',
    '',
  ].join('\n');
}

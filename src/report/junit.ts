/**
 * JUnit XML in the structure Jenkins, GitLab and GitHub test reporters accept:
 * <testsuites> of <testsuite name tests failures errors skipped time> of
 * <testcase name classname time> with at most one of <skipped>/<error>/<failure>,
 * then <system-out> naming the evidence files. Everything is escaped, and characters
 * XML 1.0 forbids (console output can carry any byte) are replaced.
 */
import type { RunSummary } from './model.js';
import { reportSuites, type ReportCase, type ReportSuite } from './cases.js';
import { yamlValue } from './tap.js';
import type { OutcomeOptions } from './verdict.js';

/** Replace characters that are not allowed in XML 1.0 documents with U+FFFD. */
export function xmlSafe(text: string): string {
  // Allowed: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]; lone surrogates are not.
  return text.replace(
    /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu,
    '\uFFFD',
  );
}

/** Escape text for element content or a double- or single-quoted attribute. */
export function xmlEscape(text: string): string {
  return xmlSafe(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Attribute values also keep their newlines and tabs, which parsers would otherwise normalize to spaces. */
function attr(text: string): string {
  return xmlEscape(text).replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}

function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

function caseBody(c: ReportCase): string {
  const parts: string[] = [];
  if (c.reason !== undefined) parts.push(`reason: ${c.reason}`);
  if (c.expected !== undefined) parts.push(`expected: ${yamlValue(c.expected)}`);
  if (c.observed !== undefined) parts.push(`observed: ${yamlValue(c.observed)}`);
  if (c.finding) parts.push('', ...c.finding.lines);
  return parts.join('\n');
}

function systemOut(c: ReportCase): string {
  const lines = c.evidence.map((e) => `evidence: ${e}`);
  if (c.finding?.step) lines.push(`step: ${c.finding.step}`);
  return lines.length > 0 ? `      <system-out>${xmlEscape(lines.join('\n'))}</system-out>\n` : '';
}

function testcase(suite: ReportSuite, c: ReportCase): string {
  const open = `    <testcase name="${attr(c.id)}" classname="${attr(`cxl-harness.${suite.name}`)}" time="${seconds(c.durationMs)}"`;
  const message = attr(c.reason ?? c.title);
  let inner = '';
  switch (c.verdict) {
    case 'pass':
      break;
    case 'skip':
      inner = `      <skipped message="${message}"/>\n`;
      break;
    case 'fail':
      inner = `      <failure message="${message}" type="${c.finding ? `console.${c.finding.kind}` : 'check-failed'}">${xmlEscape(caseBody(c))}</failure>\n`;
      break;
    case 'error':
      inner = `      <error message="${message}" type="${c.id === 'run.outcome' ? 'run-aborted' : 'check-error'}">${xmlEscape(caseBody(c))}</error>\n`;
      break;
  }
  inner += systemOut(c);
  return inner === '' ? `${open}/>\n` : `${open}>\n${inner}    </testcase>\n`;
}

interface Tally {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  ms: number;
}

function tally(cases: readonly ReportCase[]): Tally {
  const t: Tally = { tests: 0, failures: 0, errors: 0, skipped: 0, ms: 0 };
  for (const c of cases) {
    t.tests += 1;
    t.ms += c.durationMs;
    if (c.verdict === 'fail') t.failures += 1;
    if (c.verdict === 'error') t.errors += 1;
    if (c.verdict === 'skip') t.skipped += 1;
  }
  return t;
}

function counts(t: Tally): string {
  return `tests="${t.tests}" failures="${t.failures}" errors="${t.errors}" skipped="${t.skipped}" time="${seconds(t.ms)}"`;
}

function properties(summary: RunSummary): [string, string][] {
  const props: [string, string][] = [
    ['run.id', summary.runId],
    ['run.outcome', summary.outcome],
    ['run.exit_code', String(summary.exitCode)],
  ];
  const k = summary.kernel;
  if (k) {
    props.push(['kernel.origin', k.origin]);
    if (k.release) props.push(['kernel.release', k.release]);
    if (k.package) props.push(['kernel.package', k.package]);
    if (k.gitCommit) props.push(['kernel.git_commit', k.gitCommit]);
    if (k.patchsetHash !== undefined) props.push(['kernel.patchset_hash', k.patchsetHash]);
  }
  if (summary.topology) props.push(['topology', summary.topology.name]);
  if (summary.qemu?.version) props.push(['qemu.version', summary.qemu.version]);
  return props;
}

/** The Ant/Jenkins schema's timestamp: `YYYY-MM-DDTHH:MM:SS`, no fraction and no zone (we write UTC). */
export function junitTimestamp(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '1970-01-01T00:00:00' : d.toISOString().slice(0, 19);
}

/** The summary as a JUnit XML document, ending with a newline. */
export function toJUnit(summary: RunSummary, options: OutcomeOptions = {}): string {
  const suites = reportSuites(summary, options);
  const all = tally(suites.flatMap((s) => s.cases));
  const props = properties(summary)
    .map(([n, v]) => `      <property name="${attr(n)}" value="${attr(v)}"/>\n`)
    .join('');
  let xml = '<?xml version="1.0" encoding="UTF-8"?>\n';
  xml += `<testsuites name="cxl-harness" ${counts(all)}>\n`;
  suites.forEach((suite, i) => {
    xml += `  <testsuite name="${attr(suite.name)}" id="${i}" package="cxl-harness" timestamp="${attr(junitTimestamp(summary.startedAt))}" hostname="localhost" ${counts(tally(suite.cases))}>\n`;
    xml += `    <properties>\n${props}    </properties>\n`;
    for (const c of suite.cases) xml += testcase(suite, c);
    xml += '  </testsuite>\n';
  });
  xml += '</testsuites>\n';
  return xml;
}

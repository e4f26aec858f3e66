/**
 * TAP version 14: one subtest per suite, one test point per check with its id first so a
 * script can grep `^\s*not ok .* - spm\.`, `# SKIP <reason>` on every skip, and a YAML
 * diagnostic block (expected, observed, evidence) under every failure and error.
 * YAML values are written as JSON, which is valid YAML and needs no YAML library.
 */
import type { RunSummary } from './model.js';
import { reportSuites, type ReportCase } from './cases.js';
import type { OutcomeOptions } from './verdict.js';

const INDENT = '    ';

/** A TAP description: one line, with `#` and `\` escaped so no directive is read into it. */
export function tapDescription(text: string): string {
  return text
    .replace(/[\r\n]+/g, ' ')
    .replace(/\\/g, '\\\\')
    .replace(/#/g, '\\#')
    .trim();
}

/** A directive reason: one line; `#` would start nothing here but keep it plain anyway. */
function directiveReason(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').trim();
}

/** A value as a one-line YAML scalar or flow collection (JSON is valid YAML). */
export function yamlValue(value: unknown): string {
  try {
    const json = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    return json === undefined ? JSON.stringify(String(value)) : json;
  } catch {
    return JSON.stringify(String(value));
  }
}

function diagnostics(c: ReportCase): string[] {
  const out: string[] = ['---'];
  if (c.reason !== undefined) out.push(`message: ${yamlValue(c.reason)}`);
  out.push(`severity: ${c.verdict === 'error' ? 'error' : 'fail'}`);
  if (c.expected !== undefined) out.push(`expected: ${yamlValue(c.expected)}`);
  if (c.observed !== undefined) out.push(`observed: ${yamlValue(c.observed)}`);
  if (c.evidence.length > 0) {
    out.push('evidence:');
    for (const e of c.evidence) out.push(`  - ${yamlValue(e)}`);
  } else {
    out.push('evidence: []');
  }
  if (c.finding) {
    const f = c.finding;
    out.push(`kind: ${yamlValue(f.kind)}`);
    out.push(`line: ${f.line}`);
    if (f.step !== undefined) out.push(`step: ${yamlValue(f.step)}`);
    out.push('report:');
    for (const l of f.lines) out.push(`  - ${yamlValue(l)}`);
  }
  out.push('...');
  return out;
}

function testPoint(n: number, c: ReportCase): string[] {
  const desc = `${c.id} - ${tapDescription(c.title)}`;
  switch (c.verdict) {
    case 'pass':
      return [`ok ${n} - ${desc}`];
    case 'skip':
      return [`ok ${n} - ${desc} # SKIP ${directiveReason(c.reason ?? 'no reason given')}`];
    case 'fail':
    case 'error':
      return [`not ok ${n} - ${desc}`, ...diagnostics(c).map((l) => `  ${l}`)];
  }
}

/** The summary as a TAP 14 document, ending with a newline. */
export function toTap(summary: RunSummary, options: OutcomeOptions = {}): string {
  const lines: string[] = ['TAP version 14'];
  lines.push(`# cxl-harness ${summary.tool.version} run ${tapDescription(summary.runId)}`);
  if (summary.kernel?.release) lines.push(`# kernel ${tapDescription(summary.kernel.release)}`);
  if (summary.topology) lines.push(`# topology ${tapDescription(summary.topology.name)}`);

  const suites = reportSuites(summary, options);
  suites.forEach((suite, i) => {
    lines.push(`# Subtest: ${tapDescription(suite.name)}`);
    lines.push(`${INDENT}1..${suite.cases.length}`);
    suite.cases.forEach((c, j) => {
      for (const l of testPoint(j + 1, c)) lines.push(INDENT + l);
    });
    const failed = suite.cases.some((c) => c.verdict === 'fail' || c.verdict === 'error');
    const allSkipped = suite.cases.length > 0 && suite.cases.every((c) => c.verdict === 'skip');
    const head = `${failed ? 'not ok' : 'ok'} ${i + 1} - ${tapDescription(suite.name)}`;
    lines.push(allSkipped ? `${head} # SKIP every check skipped` : head);
  });
  lines.push(`1..${suites.length}`);
  lines.push(`# outcome ${summary.outcome} exit ${summary.exitCode}`);
  return lines.join('\n') + '\n';
}

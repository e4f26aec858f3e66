/** The SPM check table rendered from the expectations themselves, for `cxl-harness checks` and the README. */
import { ROWS, type Row } from './expectations.js';

const cell = (s: string): string => s.replace(/\|/g, '\\|');

/** Markdown: one line per check, with what it proves and what stock and v2 kernels must show. */
export function checkTableMarkdown(): string {
  const lines = [
    '| check | what it proves | table row | unpatched kernel | v2-patched kernel |',
    '|---|---|---|---|---|',
  ];
  for (const row of Object.values(ROWS) as Row<unknown>[]) {
    const col = (gen: 'stock' | 'spm-v2'): string => row.expect[gen]?.expected ?? `skip: ${row.notApplicable?.[gen] ?? 'not encoded'}`;
    lines.push(`| \`${row.id}\` | ${cell(row.title)} | ${cell(row.tableRow)} | ${cell(col('stock'))} | ${cell(col('spm-v2'))} |`);
  }
  return lines.join('\n');
}

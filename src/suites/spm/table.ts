/** The SPM check table rendered from the versions' columns themselves, for `cxl-harness checks` and the README. */
import { GENERATIONS, lookup } from './generations/index.js';
import { ROWS, type RowName } from './rows.js';

const cell = (s: string): string => s.replace(/\|/g, '\\|');

/** Markdown: one line per check, with what it proves and what each version must show. */
export function checkTableMarkdown(): string {
  const lines = [
    `| check | what it proves | table row | ${GENERATIONS.map((g) => g.short).join(' | ')} |`,
    `|---|---|---|${GENERATIONS.map(() => '---').join('|')}|`,
  ];
  for (const key of Object.keys(ROWS) as RowName[]) {
    const row = ROWS[key];
    const col = GENERATIONS.map((g) => {
      const found = lookup(key, g);
      return cell(found.kind === 'expect' ? found.expectation.expected : g.unproven ? 'skip: no kernel of this version proved a column' : `skip: ${found.reason}`);
    });
    lines.push(`| \`${row.id}\` | ${cell(row.title)} | ${cell(row.tableRow)} | ${col.join(' | ')} |`);
  }
  return lines.join('\n');
}

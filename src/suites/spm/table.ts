/** The SPM check table rendered from the versions' columns themselves, for `cxl-harness checks` and the README. */
import { GENERATIONS, lookup } from './generations/index.js';
import { ROWS, type RowName } from './rows.js';

const cell = (s: string): string => s.replace(/\|/g, '\\|');

/** Each version's cell of a check: what it must show, or why the check skips there. */
export type TableCell = { expect: string } | { skip: string };

/** The check table as data, a line per check in the suite's order, a cell per version in GENERATIONS' order. */
export function checkTable() {
  return (Object.keys(ROWS) as RowName[]).map((key) => ({
    row: ROWS[key],
    cells: GENERATIONS.map((g): TableCell => {
      const found = lookup(key, g);
      return found.kind === 'expect' ? { expect: found.expectation.expected } : { skip: found.reason };
    }),
  }));
}

/** Markdown: one line per check, with what it proves and what each version must show. */
export function checkTableMarkdown(): string {
  const lines = [
    `| check | what it proves | table row | ${GENERATIONS.map((g) => g.short).join(' | ')} |`,
    `|---|---|---|${GENERATIONS.map(() => '---').join('|')}|`,
  ];
  for (const { row, cells } of checkTable()) {
    const col = cells.map((c, i) => cell('expect' in c ? c.expect : GENERATIONS[i]!.unproven ? 'skip: no kernel of this version proved a column' : `skip: ${c.skip}`));
    lines.push(`| \`${row.id}\` | ${cell(row.title)} | ${cell(row.tableRow)} | ${col.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** The README's SPM check table is the one the code judges with: it cannot drift. */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { checkTableMarkdown } from '../../src/suites/spm/table.js';
import { ROWS } from '../../src/suites/spm/rows.js';
import { GENERATIONS } from '../../src/suites/spm/generations/index.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

t.test('every row of the generated check table is in README.md, verbatim', async (t) => {
  const lines = checkTableMarkdown().split('\n');
  t.equal(lines[0], `| check | what it proves | table row | ${GENERATIONS.map((g) => g.short).join(' | ')} |`, 'one column per version');
  const rows = lines.slice(2);
  t.equal(rows.length, Object.keys(ROWS).length);
  for (const row of rows) t.ok(readme.includes(row), row.slice(0, 60));
});

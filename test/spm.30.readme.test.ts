/** The README's SPM check table is the one the code judges with: it cannot drift. */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { checkTableMarkdown } from '../src/suites/spm/table.js';
import { ROWS } from '../src/suites/spm/expectations.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

t.test('every row of the generated check table is in README.md, verbatim', async (t) => {
  const rows = checkTableMarkdown().split('\n').slice(2);
  t.equal(rows.length, Object.keys(ROWS).length);
  for (const row of rows) t.ok(readme.includes(row), row.slice(0, 60));
});

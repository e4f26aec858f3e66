/** `cxl-harness checks`: the SPM check table, rendered from the expectations the suite judges with. */
import { checkTableMarkdown } from '../suites/spm/table.js';
import { GENERATIONS } from '../suites/spm/generations/index.js';
import { parse } from './args.js';
import type { CommandTable } from './command.js';

export const CHECKS_HELP = `cxl-harness checks

Print every check of the SPM suite (suite spm): its id, what it proves, the row of the
interface table it encodes, and what each version of the series must show, one column per
version: stock, v1, v2, v3, v4, the latest tree (Markdown). A row that has no meaning for a
version skips with the reason; a version no kernel has proved yet skips every row.

Exit codes: 0 printed, 2 bad options.`;

export function checksCommands(): CommandTable {
  return {
    checks: {
      summary: 'print the SPM check table with its expectations per kernel generation',
      help: CHECKS_HELP,
      examples: ['cxl-harness checks > spm-checks.md'],
      run: async (argv) => {
        parse(argv, {}, CHECKS_HELP);
        process.stdout.write(`${checkTableMarkdown()}\n\nGenerations:\n${GENERATIONS.map((g) => `  ${g.short.padEnd(7)} ${g.id.padEnd(15)} ${g.title}`).join('\n')}\n`);
        return 0;
      },
    },
  };
}

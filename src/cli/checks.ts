/** `cxl-harness checks`: the SPM check table, rendered from the expectations the suite judges with. */
import { checkTableMarkdown } from '../suites/spm/table.js';
import { GENERATION_TITLES } from '../suites/spm/generation.js';
import { parse } from './args.js';
import type { CommandTable } from './command.js';

export const CHECKS_HELP = `cxl-harness checks

Print every check of the SPM suite (suite spm): its id, what it proves, the row of the
interface table it encodes, and what an unpatched and a v2-patched kernel must show (Markdown).
Generations without an encoded expectation skip with the reason.

Exit codes: 0 printed, 2 bad options.`;

export function checksCommands(): CommandTable {
  return {
    checks: {
      summary: 'print the SPM check table with its expectations per kernel generation',
      help: CHECKS_HELP,
      examples: ['cxl-harness checks > spm-checks.md'],
      run: async (argv) => {
        parse(argv, {}, CHECKS_HELP);
        process.stdout.write(`${checkTableMarkdown()}\n\nGenerations:\n${Object.entries(GENERATION_TITLES).map(([g, t]) => `  ${g.padEnd(15)} ${t}`).join('\n')}\n`);
        return 0;
      },
    },
  };
}

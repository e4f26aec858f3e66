/** `cxl-harness checks`: every suite's checks; the SPM suite's as its table, with what each version of the series must show. */
import { findSuite, suiteNames } from '../suites/index.js';
import { checkTableMarkdown } from '../suites/spm/table.js';
import { GENERATIONS } from '../suites/spm/generations/index.js';
import { parse } from './args.js';
import type { CommandTable } from './command.js';

export const CHECKS_HELP = `cxl-harness checks [--suite NAME]

Print the checks of every suite (or of --suite NAME), Markdown. The SPM suite (spm) is a table:
each check's id, what it proves, the row of the interface table it encodes, and what each version
of the series must show, one column per version: stock, v1, v2, v3, v4, the latest tree. A row
that has no meaning for a version skips with the reason; a version no kernel has proved yet
skips every row. The other suites list their checks in the order they run.

Exit codes: 0 printed, 2 bad options.`;

function suiteMarkdown(name: string): string {
  if (name === 'spm') {
    return `## spm\n\n${checkTableMarkdown()}\n\nGenerations:\n${GENERATIONS.map((g) => `  ${g.short.padEnd(7)} ${g.id.padEnd(15)} ${g.title}`).join('\n')}`;
  }
  const suite = findSuite(name);
  const checks = suite.checks?.length
    ? suite.checks.map((c) => `| \`${c.id}\` | ${c.title} |`).join('\n')
    : `| (${suite.checksAtRun ?? 'known when the suite runs'}) | |`;
  return `## ${name}\n\n${suite.description} (default topology ${suite.defaultTopology}).\n\n| check | what it proves |\n|---|---|\n${checks}`;
}

export function checksCommands(): CommandTable {
  return {
    checks: {
      summary: 'print every suite\'s checks (the SPM table with its expectations per kernel generation)',
      help: CHECKS_HELP,
      examples: ['cxl-harness checks > checks.md', 'cxl-harness checks --suite pmem'],
      run: async (argv) => {
        const { values } = parse(argv, { suite: { type: 'string' } }, CHECKS_HELP);
        const names = values.suite !== undefined ? [findSuite(values.suite).name] : suiteNames();
        process.stdout.write(`${names.map(suiteMarkdown).join('\n\n')}\n`);
        return 0;
      },
    },
  };
}

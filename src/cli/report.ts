/** Commands over results dirs: render a run's summary.json again in any format. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HarnessError } from '../errors.js';
import { toJUnit } from '../report/junit.js';
import { toKcidb } from '../report/kcidb.js';
import type { RunSummary } from '../report/model.js';
import { renderSummary } from '../report/render.js';
import { toTap } from '../report/tap.js';
import { parse } from './args.js';
import type { CommandTable } from './command.js';

export const REPORT_HELP = `cxl-harness report RESULTS_DIR [--tap | --junit | --kcidb | --json | --table]

Render a run's summary.json again: TAP 14, JUnit XML, KCIDB v5 JSON, the summary itself,
or the human table (default).`;

export async function readSummary(dir: string): Promise<RunSummary> {
  const file = join(dir, 'summary.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new HarnessError('RESULTS_MISSING', `${file} cannot be read`, { hint: 'pass a results dir made by cxl-harness run', cause });
  }
  try {
    return JSON.parse(text) as RunSummary;
  } catch (cause) {
    throw new HarnessError('RESULTS_CORRUPT', `${file} is not valid JSON`, { hint: 'summary.json is written atomically; a corrupt one was edited by hand', cause });
  }
}

export function reportCommands(_log: (line: string) => void): CommandTable {
  return {
    report: {
      summary: 'render a results dir again as TAP, JUnit, KCIDB or a table',
      help: REPORT_HELP,
      run: async (argv: string[]): Promise<number> => {
        const { values, positionals } = parse(argv, { tap: { type: 'boolean' }, junit: { type: 'boolean' }, kcidb: { type: 'boolean' }, json: { type: 'boolean' }, table: { type: 'boolean' } }, REPORT_HELP);
        if (positionals.length !== 1) throw new HarnessError('USAGE', REPORT_HELP);
        const summary = await readSummary(positionals[0]!);
        const out = values.tap ? toTap(summary)
          : values.junit ? toJUnit(summary)
            : values.kcidb ? JSON.stringify(toKcidb(summary, {}), null, 2) + '\n'
              : values.json ? JSON.stringify(summary, null, 2) + '\n'
                : renderSummary(summary, { resultsDir: positionals[0]! }) + '\n';
        process.stdout.write(out);
        return 0;
      },
    },
  };
}

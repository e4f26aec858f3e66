/** reproducer.sh: repeats the run with the same inputs, from any directory. */
import { chmod } from 'node:fs/promises';
import { packageRoot } from '../paths.js';
import { shellCommand } from '../proc.js';
import type { Results } from './results.js';

export async function writeReproducer(results: Results, argv: string[]): Promise<void> {
  const script = [
    '#!/bin/sh',
    `# Repeats cxl-harness run ${results.summary.runId} with the same inputs (kernel, topology, suite, options).`,
    '# A new results dir is made next to this one unless you pass --results DIR.',
    'set -e',
    `cd ${shellCommand([packageRoot])}`,
    `exec node dist/cli/main.js ${shellCommand(argv)} "$@"`,
    '',
  ].join('\n');
  await results.writeText('reproducer.sh', script);
  await chmod(results.path('reproducer.sh'), 0o755);
}

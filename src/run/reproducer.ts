/** reproducer.sh: repeats the run with the same inputs, from any directory. */
import { chmod } from 'node:fs/promises';
import { resolve } from 'node:path';
import { packageRoot } from '../paths.js';
import { shellCommand } from '../proc.js';
import type { Results } from '../results/results.js';

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

/** Options whose value is a path: made absolute so reproducer.sh works from any directory. */
const PATH_OPTIONS = new Set(['--kernel', '--modules', '--kernel-src', '--config-fragment', '--base-config', '--topology', '--patches']);

/**
 * The run's own argv (after `run`) for reproducer.sh: `run` first, paths made absolute against
 * `cwd`, the results location dropped (a repeat makes its own). A preset topology name and a
 * git range (A..B) for --patches are kept as they are.
 */
export function reproducerArgv(argv: readonly string[], cwd: string = process.cwd()): string[] {
  const out = ['run'];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [name, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (name === '--results' || name === '--results-base') {
      if (inline === undefined) i++;
      continue;
    }
    if (PATH_OPTIONS.has(name)) {
      const value = inline ?? argv[++i] ?? '';
      const keep = (name === '--topology' && !value.includes('/') && !value.endsWith('.json')) || (name === '--patches' && /\.\./.test(value) && !value.includes('/'));
      out.push(name, keep ? value : resolve(cwd, value));
      continue;
    }
    out.push(a);
  }
  return out;
}

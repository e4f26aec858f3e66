/** reproducer.sh: repeats the run with the same inputs, from any directory. */
import { chmod } from 'node:fs/promises';
import { resolve } from 'node:path';
import { namesAFile } from '../fields.js';
import { isGitRange } from '../kernel/patches.js';
import { packageRoot } from '../paths.js';
import { shellCommand } from '../exec.js';
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

export interface NormalizeOptions {
  /** Resolve relative paths against this (default: the current directory). */
  cwd?: string;
  /** Options (with their values) left out besides the results location, e.g. `--seed` when it is appended again. */
  drop?: readonly string[];
  /** Options that take no value, left out. */
  dropFlags?: readonly string[];
}

/**
 * A command's options made fit to be run again from anywhere: path options made absolute
 * against `cwd`, the results location and `drop` left out (a repeat makes its own).
 * Positionals are the caller's to add (it knows which they are). A preset topology name and a git range (A..B) for
 * --patches are kept as they are. Used for reproducer.sh (run, repro) and a bisect's steps.
 */
export function normalizeArgv(argv: readonly string[], o: NormalizeOptions = {}): string[] {
  const cwd = o.cwd ?? process.cwd();
  const drop = new Set(['--results', '--results-base', ...(o.drop ?? [])]);
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [name, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (drop.has(name)) {
      if (inline === undefined) i++;
      continue;
    }
    if (o.dropFlags?.includes(name)) continue;
    if (PATH_OPTIONS.has(name)) {
      const value = inline ?? argv[++i] ?? '';
      const keep = (name === '--topology' && !namesAFile(value)) || (name === '--patches' && isGitRange(value));
      out.push(name, keep ? value : resolve(cwd, value));
      continue;
    }
    out.push(a);
  }
  return out;
}

/** `run`'s argv for reproducer.sh (`o.drop`/`o.dropFlags`: the calling command's own options, when it is not `run`). */
export function reproducerArgv(argv: readonly string[], o: NormalizeOptions = {}): string[] {
  return ['run', ...normalizeArgv(argv, o)];
}

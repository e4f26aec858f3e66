/** Command-line parsing shared by the commands: node:util parseArgs plus typed conversions. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { HarnessError } from '../errors.js';

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, usage: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new HarnessError('USAGE', `${(e as Error).message}\n\n${usage}`, { hint: 'see --help' });
  }
}

export function seconds(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback * 1000;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new HarnessError('USAGE', `${name} takes a number of seconds > 0 (got "${value}")`);
  return n * 1000;
}

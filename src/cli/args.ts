/** Command-line parsing shared by the commands: node:util parseArgs plus typed conversions. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { KcidbOptions } from '../report/kcidb.js';
import { HarnessError } from '../errors.js';

/**
 * Parse a command's arguments. A bad flag, a missing value or a stray positional is one short
 * line naming it (never the whole help), with the command's --help as the hint. Commands that
 * take positionals (results dirs, a scenario) say so; for the others one is refused: `run
 * hotplug` must not quietly run the default suite.
 */
export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, usage: string, accepts: { positionals?: boolean } = {}) {
  const { command, hint } = commandOf(usage);
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new HarnessError('USAGE', `${command}: ${argumentProblem(e as Error & { code?: string })}`, { hint });
  }
  if (!accepts.positionals && parsed.positionals.length > 0) {
    const word = parsed.positionals[0]!;
    const asOption = Object.hasOwn(options, word) ? ` (did you mean --${word} ...?)` : ['spm', 'hotplug'].includes(word) ? ` (did you mean --suite ${word}?)` : '';
    throw new HarnessError('USAGE', `${command}: unexpected argument "${word}"${asOption}: it takes options only`, { hint });
  }
  return parsed;
}

function commandOf(usage: string): { command: string; hint: string } {
  const command = usage.split(/\s+/).slice(0, 2).join(' ');
  return { command, hint: `see ${command} --help` };
}

/** A command's refusal of its arguments, in the words every command uses: one line, --help as the hint. */
export function usageError(usage: string, problem: string, extraHint?: string): HarnessError {
  const { command, hint } = commandOf(usage);
  return new HarnessError('USAGE', `${command}: ${problem}`, { hint: extraHint ? `${extraHint}; ${hint}` : hint });
}

/** node:util's parse error in one line, said the way a user typed it. */
function argumentProblem(e: Error & { code?: string }): string {
  const first = e.message.split('\n')[0]!;
  const option = /'(-[^' ]+)/.exec(first)?.[1];
  if (/argument is ambiguous/.test(first) && option) return `${option} needs a value (a value that starts with "-" is written ${option}=VALUE)`;
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && /argument missing/.test(first) && option) return `${option} needs a value`;
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) return `unknown option ${option}`;
  return first.replace(/\.$/, '');
}

/** The values parse() gives for an options table (none has a default). */
export type OptionValues<T extends Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>> = {
  [K in keyof T]?: T[K] extends { multiple: true } ? string[] : T[K] extends { type: 'boolean' } ? boolean : string;
};

/** Option values as the command line that sets them, in the values' order (e.g. a matrix job's `run` arguments). */
export function argvOf(values: Readonly<Record<string, string | boolean | string[] | undefined>>): string[] {
  return Object.entries(values).flatMap(([name, v]) =>
    v === undefined || v === false ? [] : v === true ? [`--${name}`] : (Array.isArray(v) ? v : [v]).flatMap((x) => [`--${name}`, x]));
}

export function seconds(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback * 1000;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new HarnessError('USAGE', `${name} takes a number of seconds > 0 (got "${value}")`);
  return n * 1000;
}

/** KCIDB options from --origin / --artifacts-url values. */
export function kcidbOptionsFrom(values: { origin?: string | undefined; 'artifacts-url'?: string | undefined }): KcidbOptions {
  return { ...(values.origin ? { origin: values.origin } : {}), ...(values['artifacts-url'] ? { artifactsBaseUrl: values['artifacts-url'] } : {}) };
}

/**
 * Field validators for the harness's JSON inputs (topologies, scenarios): each names the
 * field and what is allowed, so the caller can wrap the FieldError into a HarnessError that
 * also names the file.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { HarnessError } from './errors.js';

export class FieldError extends Error {}

export function arr(v: unknown, field: string, min: number): unknown[] {
  if (!Array.isArray(v)) throw new FieldError(`${field} must be an array`);
  if (v.length < min) throw new FieldError(`${field} needs at least ${min} entr${min === 1 ? 'y' : 'ies'}`);
  return v;
}

export function str(v: unknown, field: string): string {
  if (typeof v !== 'string' || v === '') throw new FieldError(`${field} must be a non-empty string`);
  return v;
}

export function bool(v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') throw new FieldError(`${field} must be true or false (got ${JSON.stringify(v)})`);
  return v;
}

export function int(v: unknown, field: string, min: number, max: number, multipleOf = 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new FieldError(`${field} must be an integer (got ${JSON.stringify(v)})`);
  if (v < min || v > max) throw new FieldError(`${field} must be between ${min} and ${max} (got ${v})`);
  if (v % multipleOf !== 0) throw new FieldError(`${field} must be a multiple of ${multipleOf} (got ${v})`);
  return v;
}

export function oneOf<T extends string>(v: unknown, field: string, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new FieldError(`${field} must be one of ${allowed.join(', ')} (got ${JSON.stringify(v)})`);
  }
  return v as T;
}

/** A kind of JSON input file the harness ships presets of (topologies, scenarios). */
export interface JsonInputKind<T> {
  /** "topology", "scenario": in messages, and upper-cased in error codes (TOPOLOGY_UNKNOWN...). */
  noun: string;
  /** Where the presets are: NAME means DIR/NAME.json. */
  dir: string;
  /** How to name a file of one's own, for the unknown-name hint. */
  pathHint: string;
  /** Where the format is described, for the bad-field hint. */
  fieldHint: string;
  /** Validate parsed JSON, throwing FieldError for a bad field. */
  validate(data: unknown, file: string): T;
}

export function builtinNames(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => basename(f, '.json')).sort();
}

/** The one rule for an input given by name or by path (a topology, a scenario): a value with a / or ending in .json is a file. */
export function namesAFile(value: string): boolean {
  return value.includes('/') || value.endsWith('.json');
}

/** Load a preset by name or a file by path; every error names the file (and field) and the fix. */
export function loadJsonInput<T>(kind: JsonInputKind<T>, nameOrPath: string): T {
  const code = kind.noun.toUpperCase();
  const isPath = namesAFile(nameOrPath);
  const file = isPath ? nameOrPath : join(kind.dir, `${nameOrPath}.json`);
  if (!existsSync(file)) {
    throw new HarnessError(`${code}_UNKNOWN`, isPath ? `${kind.noun} file ${file} does not exist` : `unknown ${kind.noun} "${nameOrPath}"`, {
      hint: `use one of: ${builtinNames(kind.dir).join(', ')}, or ${kind.pathHint}`,
      context: { file },
    });
  }
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new HarnessError(`${code}_INVALID`, `${kind.noun} file ${file} is not valid JSON: ${(cause as Error).message}`, { hint: 'fix the JSON syntax', cause, context: { file } });
  }
  return validateJsonInput(kind, data, file);
}

/** Validate parsed JSON; a FieldError becomes a HarnessError naming the file and the field. */
export function validateJsonInput<T>(kind: JsonInputKind<T>, data: unknown, file: string): T {
  try {
    return kind.validate(data, file);
  } catch (e) {
    if (e instanceof FieldError) {
      throw new HarnessError(`${kind.noun.toUpperCase()}_INVALID`, `${kind.noun} file ${file}: ${e.message}`, { hint: kind.fieldHint, context: { file } });
    }
    throw e;
  }
}

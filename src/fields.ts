/**
 * Field validators for the harness's JSON inputs (topologies, scenarios): each names the
 * field and what is allowed, so the caller can wrap the FieldError into a HarnessError that
 * also names the file.
 */
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

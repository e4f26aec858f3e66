/**
 * File probes for sysfs, procfs, cgroupfs and debugfs. Reads and writes report errno as data,
 * because a refused write (EINVAL, EBUSY, EACCES) is often exactly what a check looks for.
 */
import { closeSync, openSync, readFileSync, readdirSync, writeSync, constants as fsConstants } from 'node:fs';
import { outcome, outcomeOfError, type ErrnoOutcome } from './errno.js';

export type ReadResult = (ErrnoOutcome & { ok: true; value: string }) | (ErrnoOutcome & { ok: false });

export function readText(path: string): ReadResult {
  try {
    return { ...outcome(0), ok: true, value: readFileSync(path, 'utf8') };
  } catch (error) {
    return { ...outcomeOfError(error), ok: false };
  }
}

/** The file's text, trimmed, or undefined when it cannot be read (absence is a fact too). */
export function readTrimmed(path: string): string | undefined {
  const r = readText(path);
  return r.ok ? r.value.trim() : undefined;
}

/**
 * Write `value` in one write(2), the way `echo value > path` does (kernel attribute handlers
 * see one buffer). Without `create`, the file is opened O_WRONLY and must already exist.
 */
export function writeText(path: string, value: string, create = false): ErrnoOutcome {
  let fd: number | undefined;
  try {
    fd = openSync(path, create ? 'w' : fsConstants.O_WRONLY);
    writeSync(fd, value);
    return outcome(0);
  } catch (error) {
    return outcomeOfError(error);
  } finally {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // close errors on attribute files carry no information the write did not already give
      }
    }
  }
}

export function listDir(path: string): string[] {
  try {
    return readdirSync(path).sort();
  } catch {
    return [];
  }
}

/** Parse "Key:   123 kB" lines (meminfo, per-node meminfo after its "Node N " prefix). */
export function parseMeminfo(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(?:Node \d+ )?([^:\s]+):\s+(\d+)(?: kB)?\s*$/.exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** Parse "key value" lines (/proc/vmstat, debugfs counters listed by name). */
export function parseKeyValues(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(-?\d+)$/.exec(line.trim());
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** One counter out of a "key value" file (vmstat, memory.events); undefined when absent. */
export function readKeyValue(path: string, key: string): number | undefined {
  const r = readText(path);
  return r.ok ? parseKeyValues(r.value)[key] : undefined;
}

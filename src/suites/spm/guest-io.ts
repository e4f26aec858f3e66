/**
 * Small typed reads and writes in the guest for the SPM checks: one sysfs/cgroup file at a
 * time through the probe runner, so every errno comes back as data and every call is logged.
 */
import { isProbeFailure } from '../../probe/isolate.js';
import { parseNodeList } from '../../probe/nodelist.js';
import type { GuestSession } from '../../remote/session.js';

export interface FileRead {
  exists: boolean;
  value?: string;
  code: string;
}

/**
 * Read one file with cat: reads are most of the suite's guest calls, and a shell read costs
 * tens of milliseconds where a Node probe start costs a second or more under TCG. Reading
 * never changes kernel state, so the errno from cat's message is enough.
 */
export async function readValue(guest: GuestSession, path: string): Promise<FileRead> {
  const r = await guest.run('cat', ['cat', '--', path]);
  if (r.exitCode === 0) return { exists: true, value: r.stdout.trim(), code: 'OK' };
  const code = /No such file or directory/.test(r.stderr) ? 'ENOENT'
    : /Permission denied/.test(r.stderr) ? 'EACCES'
      : /Invalid argument/.test(r.stderr) ? 'EINVAL'
        : r.exitCode === null ? 'NO_ANSWER' : 'EIO';
  if (code === 'NO_ANSWER') throw new Error(`reading ${path} got no answer from the guest (${r.timedOut ? 'timed out' : 'connection lost'})`);
  return { exists: code !== 'ENOENT', code };
}

/** A node list file (has_memory, cpuset.mems.*): [] when empty, undefined when the file does not exist. */
export async function readNodes(guest: GuestSession, path: string): Promise<number[] | undefined> {
  const r = await readValue(guest, path);
  return r.exists && r.value !== undefined ? parseNodeList(r.value) : undefined;
}

/** One write(2) of `value`; the errno name ('OK' on success, 'TIMED_OUT' when it never returned). */
export async function writeValue(guest: GuestSession, path: string, value: string, options: { create?: boolean; timeoutMs?: number } = {}): Promise<string> {
  const r = await guest.probe.run('write-file', { path, value, ...(options.create ? { create: true } : {}), timeoutMs: options.timeoutMs ?? 30_000 });
  if (isProbeFailure(r)) return r.timedOut ? 'TIMED_OUT' : r.code;
  return r.code;
}

/** Lines the kernel logged since `mark` (a line count returned by dmesgLines). */
export async function dmesgSince(guest: GuestSession, mark: number): Promise<string[]> {
  const r = await guest.run('dmesg', ['dmesg']);
  return r.stdout.split('\n').slice(mark).filter(Boolean);
}

export async function dmesgLines(guest: GuestSession): Promise<number> {
  const r = await guest.run('dmesg-count', 'dmesg | wc -l');
  return Number(r.stdout.trim()) || 0;
}

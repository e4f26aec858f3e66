/**
 * Runs one probe operation in a child node process, so that what the kernel does to it
 * (SIGBUS, the OOM killer, a write that never returns) becomes a result instead of a dead
 * runner. The child is the same program (child.ts/child.js next to this file, with the
 * parent's execArgv so a TypeScript loader carries over) and answers over the IPC channel.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { siblingModule } from './sibling.js';
import { readKeyValue, writeText } from './sysfs.js';

export interface IsolationOptions {
  timeoutMs?: number;
  /** cgroup v2 directory the child joins before running (writes 0 to its cgroup.procs). */
  cgroup?: string;
  /** uid (and gid) the child switches to before running. */
  asUid?: number;
  /** The child's oom_score_adj (default 0, whatever its parent's: the agent shields itself with -1000). */
  oomScoreAdj?: number;
}

/** The probe child died or misbehaved: what we know about how. */
export interface ProbeFailure {
  probe: string;
  ok: false;
  errno: 0;
  failure: true;
  /** SIGNALED/TIMED_OUT/CHILD_ERROR: the child (or remote command) died or failed; BAD_OUTPUT: unparseable answer. */
  code: 'SIGNALED' | 'TIMED_OUT' | 'CHILD_ERROR' | 'BAD_OUTPUT' | 'EXEC_FAILED';
  message: string;
  signal?: string;
  /** True when the kernel's oom_kill counter rose while the child ran and it died of SIGKILL. */
  oom?: boolean;
  timedOut?: boolean;
  exitCode?: number | null;
  stdout?: string;
  stderr: string;
}

export function isProbeFailure(r: unknown): r is ProbeFailure {
  return typeof r === 'object' && r !== null && (r as { failure?: unknown }).failure === true;
}

/** What the parent sends; child.ts reads it. */
export interface ChildRequest {
  op: string;
  args: unknown;
}

export type ChildReply = { result: unknown } | { error: string };

const childPath = fileURLToPath(siblingModule(import.meta.url, 'child'));

/** oom_kill counters: global (/proc/vmstat) and, when given, the cgroup's memory.events. */
function oomKills(cgroup: string | undefined): number {
  const global = readKeyValue('/proc/vmstat', 'oom_kill') ?? 0;
  const local = cgroup ? (readKeyValue(`${cgroup}/memory.events`, 'oom_kill') ?? 0) : 0;
  return global + local;
}

/**
 * Children started ahead of need, so that a probe does not wait for Node's start-up (1.5-2 s
 * under TCG). Only a long-lived caller turns this on (the agent): a one-shot command would
 * leave them behind. Each child still runs one operation and exits; a new one starts as soon
 * as one is taken, so start-ups overlap the operations and the host's turns. One is kept: with
 * two, the SPM suite took 68.6 s instead of 66.2 (start-ups are CPU, and 2 vCPUs are all).
 */
const WARM = 1;
const warm: { enabled: boolean; children: ChildProcess[] } = { enabled: false, children: [] };

export function keepChildrenWarm(): void {
  warm.enabled = true;
  refill();
}

function forkChild(creds: { uid?: number; gid?: number }): ChildProcess {
  const child = fork(childPath, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'json', ...creds });
  // Not the parent's value: a warm child waiting under the agent's -1000 would be one the OOM killer cannot take.
  if (child.pid !== undefined) writeText(`/proc/${child.pid}/oom_score_adj`, '0');
  return child;
}

function refill(): void {
  while (warm.enabled && warm.children.length < WARM) {
    const c = forkChild({});
    const gone = (): void => {
      warm.children = warm.children.filter((x) => x !== c);
    };
    c.once('exit', gone);
    c.once('error', gone);
    warm.children.push(c);
  }
}

/** The oldest warm child when one can serve (no other uid asked for), else a new one. */
function takeChild(creds: { uid?: number; gid?: number }): ChildProcess {
  const w = creds.uid === undefined ? warm.children.find((c) => c.exitCode === null && c.signalCode === null) : undefined;
  if (w) warm.children = warm.children.filter((c) => c !== w);
  const child = w ?? forkChild(creds);
  refill();
  return child;
}

export function runIsolated<R>(op: string, args: unknown, options: IsolationOptions = {}): Promise<R | ProbeFailure> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const oomBefore = oomKills(options.cgroup);
  return new Promise((resolve) => {
    // The child starts as asUid (libuv drops the groups and sets gid/uid before exec):
    // process.setuid() in the child is refused by Debian's Node with a system libuv
    // ("io_uring may be enabled", CVE-2024-22017).
    const creds = options.asUid === undefined ? {} : { uid: options.asUid, gid: options.asUid };
    const child = takeChild(creds);
    let stdout = '';
    let stderr = '';
    let reply: ChildReply | undefined;
    let timedOut = false;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('message', (m) => (reply = m as ChildReply));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const fail = (code: ProbeFailure['code'], message: string, extra: Partial<ProbeFailure> = {}): void =>
      resolve({ probe: op, ok: false, errno: 0, failure: true, code, message, stderr, ...(stdout ? { stdout } : {}), ...extra });
    child.on('error', (error) => {
      clearTimeout(timer);
      fail('EXEC_FAILED', `could not start the probe child ${childPath}: ${error.message}`);
    });
    child.on('exit', (exitCode, signal) => {
      clearTimeout(timer);
      if (timedOut) return fail('TIMED_OUT', `probe ${op} did not finish within ${timeoutMs} ms; killed`, { timedOut: true, signal: 'SIGKILL' });
      if (reply && 'result' in reply) return resolve(reply.result as R);
      if (signal) {
        const oom = signal === 'SIGKILL' && oomKills(options.cgroup) > oomBefore;
        return fail('SIGNALED', `probe ${op} was killed by ${signal}${oom ? ' (OOM killer)' : ''}`, { signal, oom });
      }
      const why = reply && 'error' in reply ? reply.error : `exited with code ${exitCode} without a result`;
      fail('CHILD_ERROR', `probe ${op} failed in its child: ${why}`, { exitCode });
    });
    // Set before the request is sent, so the child runs the operation with it.
    if (child.pid !== undefined) writeText(`/proc/${child.pid}/oom_score_adj`, String(options.oomScoreAdj ?? 0));
    // The parent (root) moves the child: an unprivileged child could not write cgroup.procs.
    if (options.cgroup !== undefined && child.pid !== undefined) {
      const joined = writeText(join(options.cgroup, 'cgroup.procs'), String(child.pid));
      if (!joined.ok) {
        clearTimeout(timer);
        child.kill('SIGKILL');
        resolve({ probe: op, ...joined, step: 'join-cgroup', cgroup: options.cgroup } as R);
        return;
      }
    }
    child.send({ op, args } satisfies ChildRequest);
  });
}

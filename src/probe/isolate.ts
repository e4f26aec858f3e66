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
  /** A pooled child (started as root) drops to this uid and gid before it runs the operation. */
  asUid?: number;
}

/** `reusable`: the child is clean after the operation and waits for another request. */
export type ChildReply = { result: unknown; reusable: boolean } | { error: string };

const childPath = fileURLToPath(siblingModule(import.meta.url, 'child'));

/** oom_kill counters: global (/proc/vmstat) and, when given, the cgroup's memory.events. */
function oomKills(cgroup: string | undefined): number {
  const global = readKeyValue('/proc/vmstat', 'oom_kill') ?? 0;
  const local = cgroup ? (readKeyValue(`${cgroup}/memory.events`, 'oom_kill') ?? 0) : 0;
  return global + local;
}

/**
 * Children kept ahead of need, so that a probe does not wait for Node's start-up (1.3 s for
 * `node -e 0` under TCG, 2-3 s with the probe modules). Only a long-lived caller turns this on
 * (the agent): a one-shot command would leave them behind. A child that ends an operation in
 * a clean state (its thread policy back to default, see child.ts) and joined no cgroup goes
 * back to the pool and serves the next one; a child that cannot is replaced in the background.
 * One is kept: with two fresh ones, the SPM suite took 72 s instead of 50 (start-ups are CPU,
 * and 2 vCPUs are all).
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

/** Into the pool, or told to go (it exits when its IPC channel closes) when the pool is full. */
function pool(c: ChildProcess): void {
  if (!warm.enabled || warm.children.length >= WARM || !c.connected) {
    if (c.connected) c.disconnect();
    return;
  }
  const gone = (): void => {
    warm.children = warm.children.filter((x) => x !== c);
  };
  c.once('exit', gone);
  c.once('error', gone);
  warm.children.push(c);
}

function refill(): void {
  while (warm.enabled && warm.children.length < WARM) {
    const c = forkChild({});
    // No process (EMFILE, EAGAIN): the next take forks again and reports it; no retry loop here.
    if (c.pid === undefined) return;
    pool(c);
  }
}

/**
 * A pooled child when one is ready, else a new one (started as the uid asked for; a pooled
 * one drops to it itself). A child that will not come back (it joins a cgroup or drops to
 * another uid) is replaced when it has exited: a hog in a cgroup is the very moment not to
 * start a Node process beside it (node 0 parked, 85 MiB free).
 */
function takeChild(creds: { uid?: number; gid?: number }): { child: ChildProcess; pooled: boolean } {
  const w = warm.children.find((c) => c.connected && c.exitCode === null && c.signalCode === null);
  if (!w) return { child: forkChild(creds), pooled: false };
  warm.children = warm.children.filter((c) => c !== w);
  w.removeAllListeners('exit').removeAllListeners('error');
  return { child: w, pooled: true };
}

export function runIsolated<R>(op: string, args: unknown, options: IsolationOptions = {}): Promise<R | ProbeFailure> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const oomBefore = oomKills(options.cgroup);
  return new Promise((resolve) => {
    // A new child starts as asUid (libuv drops the groups and sets gid/uid before exec); a
    // pooled one drops them itself. That needs a Node whose process.setuid() works: Debian's,
    // with a system libuv, refuses it ("io_uring may be enabled", CVE-2024-22017), and only
    // the agent, on the guest's official Node, keeps a pool.
    const creds = options.asUid === undefined ? {} : { uid: options.asUid, gid: options.asUid };
    const returns = warm.enabled && options.asUid === undefined && options.cgroup === undefined;
    const { child, pooled } = takeChild(creds);
    let stdout = '';
    let stderr = '';
    let reply: ChildReply | undefined;
    let timedOut = false;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('message', (m: ChildReply) => {
      reply = m;
      if (!('result' in m) || !m.reusable) return;
      // A child that does not come back is told to go, and answers when it has exited: until
      // then it is still in its cgroup, which the caller may want to remove.
      if (!returns) return void child.disconnect();
      // Clean and idle: answered now, and back to the pool.
      clearTimeout(timer);
      child.removeAllListeners('message').removeAllListeners('exit').removeAllListeners('error');
      child.stdout!.removeAllListeners('data');
      child.stderr!.removeAllListeners('data');
      resolve(m.result as R);
      pool(child);
    });
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
      refill();
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
    child.send({ op, args, ...(pooled && options.asUid !== undefined ? { asUid: options.asUid } : {}) } satisfies ChildRequest);
  });
}

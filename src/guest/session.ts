/**
 * A guest session of one run: every command goes through here, so each one is saved to
 * the results dir (commands/NNNN-label.txt) and counted as evidence of the check running it.
 */
import { createRemoteProber, type RemoteProber } from '../probe/remote.js';
import { shellCommand } from '../proc.js';
import { formatStepMarker } from '../report/console-scan.js';
import type { Results } from '../run/results.js';
import type { ExecResult, GuestSsh } from './ssh.js';

export interface CommandRecord extends ExecResult {
  /** The command's log, relative to the results dir. */
  log: string;
}

export type JsonResult<T> =
  | { ok: true; value: T; record: CommandRecord }
  | { ok: false; error: string; record: CommandRecord };

export class GuestSession {
  readonly probe: RemoteProber;
  /** The same probes, run with oom_score_adj 1000: for hogs that must be the OOM killer's choice. */
  readonly oomFirstProbe: RemoteProber;
  /** Where the logs of the commands run now are collected (the running check's evidence). */
  private collectors: string[][] = [];

  constructor(private readonly ssh: GuestSsh, readonly results: Results) {
    this.probe = createRemoteProber(async (argv) => this.run(`probe-${argv[2] ?? ''}`, argv, { timeoutMs: 180_000 }));
    this.oomFirstProbe = createRemoteProber(async (argv) => this.run(`probe-${argv[5] ?? ''}-oom-first`, argv, { timeoutMs: 180_000 }), {
      command: ['sh', '-c', 'echo 1000 > /proc/self/oom_score_adj && exec cxl-harness "$@"', 'sh'],
    });
  }

  get connected(): boolean {
    return !this.ssh.isClosed;
  }

  async run(label: string, command: string | readonly string[], options: { timeoutMs?: number; input?: string } = {}): Promise<CommandRecord> {
    const r = await this.ssh.exec(command, options);
    const log = await this.results.saveCommand(label, r);
    for (const c of this.collectors) c.push(log);
    return { ...r, log };
  }

  /** Run a command that prints one JSON document; garbage keeps the raw output and becomes an error. */
  async json<T>(label: string, command: string | readonly string[], options: { timeoutMs?: number } = {}): Promise<JsonResult<T>> {
    const record = await this.run(label, command, options);
    if (record.exitCode !== 0) {
      const why = record.timedOut ? 'timed out' : record.disconnected ? 'lost the connection' : `exited with ${record.exitCode ?? record.signal}`;
      return { ok: false, error: `${label} ${why}: ${record.stderr.trim().split('\n').slice(-2).join(' | ')}`, record };
    }
    try {
      return { ok: true, value: JSON.parse(record.stdout) as T, record };
    } catch {
      return { ok: false, error: `${label} printed something that is not JSON (kept in ${record.log})`, record };
    }
  }

  /** Put a step marker into the guest's kernel log, so console findings are attributed to it. */
  async mark(step: string): Promise<void> {
    await this.ssh.exec(`echo ${shellCommand([formatStepMarker(step)])} > /dev/kmsg`, { timeoutMs: 10_000 });
  }

  /** Collect the logs of commands run inside `fn`. */
  async collect<T>(fn: () => Promise<T>): Promise<{ value: T; logs: string[] } | { error: unknown; logs: string[] }> {
    const logs: string[] = [];
    this.collectors.push(logs);
    try {
      return { value: await fn(), logs };
    } catch (error) {
      return { error, logs };
    } finally {
      this.collectors = this.collectors.filter((c) => c !== logs);
    }
  }
}

/**
 * A guest session of one run: every command goes through here, so each one is saved to
 * the results dir (commands/NNNN-label.txt) and counted as evidence of the check running it.
 */
import type { ClientChannel } from 'ssh2';
import { formatStepMarker } from '../contract/markers.js';
import type { ProgressOf, Verb, Verbs } from '../contract/agent-protocol.js';
import type { NodesResult } from '../probe/nodes.js';
import { createRemoteProber, type RemoteProber } from '../probe/remote.js';
import type { NodeMemory } from '../report/model.js';
import { shellCommand } from '../exec.js';
import type { Results } from '../results/results.js';
import { AGENT_COMMAND, AGENT_LOG, AGENT_SOCKET, GuestAgent, type AgentAnswer, type AgentStream } from './agent.js';
import type { ExecResult, GuestSsh } from './ssh.js';

export interface CommandRecord extends ExecResult {
  /** The command's log, relative to the results dir. */
  log: string;
}

export type JsonResult<T> =
  | { ok: true; value: T; record: CommandRecord }
  | { ok: false; error: string; record: CommandRecord };

/**
 * Prints the pid of the agent init started once its socket is there to take (waiting while it
 * starts, up to 30 s); fails when there is none to take: taken already, dead, or never started.
 */
const INIT_AGENT_READY = [
  `s=${AGENT_SOCKET}`,
  'p=$(cat "$s.pid" 2>/dev/null) || exit 1',
  'i=0',
  'while [ ! -S "$s" ] && [ -e "$s.pid" ] && kill -0 "$p" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done',
  '[ -S "$s" ] && echo "$p"',
].join('\n');

/**
 * The agent's channel: the one init started when it is still there to take (its start-up then
 * overlapped the boot), else a new one over an exec channel (a restart, or a guest whose init
 * has none).
 */
async function openAgent(ssh: GuestSsh): Promise<AgentStream> {
  const ready = await ssh.exec(INIT_AGENT_READY, { timeoutMs: 60_000 });
  const pid = Number(ready.stdout.trim());
  if (ready.exitCode === 0 && pid > 0) {
    // Its output goes to its log: followed beside the socket, it is the agent's stderr to the
    // host (what a dying agent printed last), as an exec channel's would be.
    const [socket, log] = await Promise.all([
      ssh.connect(AGENT_SOCKET).catch(() => undefined),
      ssh.open(['tail', '-n', '+1', '-F', AGENT_LOG]).catch(() => undefined),
    ]);
    if (socket) {
      // sshd closes a stream-local channel only once both sides have ended: when the agent's
      // end comes (it exited, or was killed), end ours, so the channel closes and the host knows.
      socket.once('end', () => socket.end());
      socket.once('close', () => log?.close());
      // Closing the channel ends the agent (its input ends); a hung one is killed by pid as well.
      return { ...agentStream(socket, () => void ssh.exec(`kill -9 ${pid}`).catch(() => undefined)), ...(log ? { errors: log } : {}) };
    }
    log?.close();
  }
  const s = await ssh.open(AGENT_COMMAND);
  return agentStream(s, () => s.signal('KILL'));
}

function agentStream(s: ClientChannel, kill: () => void): AgentStream {
  return {
    input: s, output: s, errors: s.stderr,
    onClose: (cb) => s.once('close', cb),
    kill: () => {
      try {
        kill();
        s.close();
      } catch {
        // the channel is gone already
      }
    },
  };
}

/** How long a probe may take in all (its child has its own, shorter, timeoutMs). */
const PROBE_TIMEOUT_MS = 180_000;

export class GuestSession {
  /** The guest agent: probes and region flows go through it, started on first use. */
  readonly agent: GuestAgent;
  readonly probe: RemoteProber;
  /** The same probes, run with oom_score_adj 1000: for hogs that must be the OOM killer's choice. */
  readonly oomFirstProbe: RemoteProber;
  /** Where the logs of the commands run now are collected (the running check's evidence). */
  private collectors: string[][] = [];

  constructor(private readonly ssh: GuestSsh, readonly results: Results) {
    this.agent = new GuestAgent(() => openAgent(ssh));
    const prober = (suffix: string, defaults?: Record<string, unknown>): RemoteProber =>
      createRemoteProber(async (name, args, argv) => {
        const { answer } = await this.request(`probe-${name}${suffix}`, 'probe', { name, args }, PROBE_TIMEOUT_MS, { command: shellCommand(argv) });
        return answer.ok ? { ok: true, result: answer.result } : { ok: false, error: `${answer.code}: ${answer.error}`, timedOut: answer.code === 'TIMED_OUT' || answer.code === 'AGENT_HUNG' };
      }, defaults ? { defaults } : {});
    this.probe = prober('');
    this.oomFirstProbe = prober('-oom-first', { oomScoreAdj: 1000 });
  }

  /**
   * One agent request, saved to the command log like any command: `command` (default: the
   * verb and its arguments) as what ran, its progress lines and then its result as its stdout,
   * a failure as its stderr. `onProgress` gets each progress line as it comes.
   */
  async request<V extends Verb>(
    label: string, verb: V, args: Verbs[V]['args'], timeoutMs: number,
    options: { command?: string; onProgress?: (p: ProgressOf<V>) => void } = {},
  ): Promise<{ answer: AgentAnswer<V>; record: CommandRecord }> {
    const progress: string[] = [];
    const answer = await this.agent.request(verb, args, timeoutMs, (p) => {
      progress.push(`${JSON.stringify(p)}\n`);
      options.onProgress?.(p);
    });
    const r: ExecResult = {
      command: options.command ?? `agent ${verb} ${JSON.stringify(args)}`,
      stdout: progress.join('') + (answer.ok ? `${JSON.stringify(answer.result)}\n` : ''),
      stderr: answer.ok ? '' : `${answer.code}: ${answer.error}\n`,
      exitCode: answer.ok ? 0 : null,
      signal: undefined,
      timedOut: !answer.ok && (answer.code === 'TIMED_OUT' || answer.code === 'AGENT_HUNG'),
      disconnected: !answer.ok && answer.code === 'AGENT_LOST',
      durationMs: answer.ms,
    };
    return { answer, record: await this.keep(label, r) };
  }

  /** The agent's answer as a JsonResult (the shape command-line helpers return). */
  async requestJson<V extends Verb>(label: string, verb: V, args: Verbs[V]['args'], timeoutMs: number): Promise<JsonResult<Verbs[V]['result']>> {
    const { answer, record } = await this.request(label, verb, args, timeoutMs);
    return answer.ok ? { ok: true, value: answer.result, record } : { ok: false, error: `${label}: ${answer.code}: ${answer.error}`, record };
  }

  get connected(): boolean {
    return !this.ssh.isClosed;
  }

  async run(label: string, command: string | readonly string[], options: { timeoutMs?: number; input?: string } = {}): Promise<CommandRecord> {
    return this.keep(label, await this.ssh.exec(command, options));
  }

  /** Save one command's record to the command log and count it as the running check's evidence. */
  private async keep(label: string, r: ExecResult): Promise<CommandRecord> {
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

  /**
   * Every online node's MemTotal and MemFree, through the agent's nodes probe (a sysfs read in
   * the agent, no command log: it frames every check). Undefined when the guest does not answer.
   */
  async nodeMemory(): Promise<NodeMemory | undefined> {
    if (!this.connected) return undefined;
    const a = await this.agent.request('probe', { name: 'nodes', args: {} }, 15_000);
    if (!a.ok) return undefined;
    const r = a.result as Partial<NodesResult>;
    if (!Array.isArray(r.nodes)) return undefined;
    return Object.fromEntries(r.nodes.map((n) => [String(n.id), { totalKiB: n.meminfo.MemTotal ?? 0, freeKiB: n.meminfo.MemFree ?? 0 }]));
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

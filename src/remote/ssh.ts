/**
 * The one SSH layer to the guest (ssh2): key-only login as root, the host key pinned to
 * the one baked into the image, readiness waits with p-retry that give up at once when
 * QEMU exits, and exec with a timeout that returns a result instead of throwing.
 * A dropped connection fails the command that was running (never re-run: it may have had
 * effects); the next command reconnects first, and only while QEMU is still alive.
 */
import { readFile } from 'node:fs/promises';
import pRetry, { AbortError } from 'p-retry';
import { Client, type ClientChannel } from 'ssh2';
import { HarnessError } from '../errors.js';
import { shellCommand } from '../exec.js';

export interface ExecResult {
  command: string;
  stdout: string;
  stderr: string;
  /** null when the command did not exit normally (signal, timeout, dropped connection). */
  exitCode: number | null;
  signal: string | undefined;
  timedOut: boolean;
  /** The connection went away while the command ran. */
  disconnected: boolean;
  durationMs: number;
}

export interface ConnectOptions {
  port: number;
  privateKeyPath: string;
  /** "ssh-ed25519 AAAA... comment": the only host key accepted. */
  hostPub: string;
}

/**
 * The host key check: accept exactly the key blob of `hostPub` ("ssh-ed25519 AAAA... comment"),
 * nothing else. A guest presenting another key (another image, a man in the middle on the
 * forwarded port) is refused before any command runs.
 */
export function hostKeyVerifier(hostPub: string): (key: Buffer) => boolean {
  const [type, blob64] = hostPub.trim().split(/\s+/);
  const pinned = Buffer.from(blob64 ?? '', 'base64');
  // The blob starts with its own type string: a pinned key that does not is not a key at all.
  const typeLen = pinned.length >= 4 ? pinned.readUInt32BE(0) : -1;
  if (!type || typeLen <= 0 || pinned.toString('latin1', 4, 4 + typeLen) !== type) {
    throw new HarnessError('SSH_HOST_KEY_INVALID', `the pinned guest host key is not an OpenSSH public key: "${hostPub.slice(0, 40)}"`, {
      hint: 'remove the keys entry in the cache (keys/ed25519-v1) so that it is generated again',
    });
  }
  return (key: Buffer) => Buffer.isBuffer(key) && key.equals(pinned);
}

export interface ExecOptions {
  /** Kill the command after this long (default 60 s). */
  timeoutMs?: number;
  /** Written to the command's stdin, which is then closed. */
  input?: string;
  /** Each chunk of output as it arrives (the result still holds all of it, decoded whole). */
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
}

export class GuestSsh {
  private closed = false;
  /** Closed on purpose by close(): never reconnect. */
  private ended = false;
  /** How many times a dropped connection was replaced before a new command. */
  reconnects = 0;
  private readonly running = new Map<number, { command: string; started: number }>();
  private nextExec = 1;

  private constructor(private client: Client, readonly options: ConnectOptions, private readonly alive?: () => boolean) {
    this.watch(client);
  }

  private watch(client: Client): void {
    const gone = (): void => {
      if (this.client === client) this.closed = true;
    };
    client.on('close', gone);
    client.on('error', gone);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  static async connect(options: ConnectOptions, timeoutMs = 10_000, alive?: () => boolean): Promise<GuestSsh> {
    return new GuestSsh(await openClient(options, timeoutMs), options, alive);
  }

  /**
   * Wait until the guest answers over SSH. Gives up at once (AbortError) when `alive()`
   * turns false, i.e. QEMU exited, and after `timeoutMs` otherwise. `said()`: whether the
   * guest has said (on its console) that sshd is up.
   */
  static async waitReady(options: ConnectOptions, alive: () => boolean, timeoutMs: number, said?: () => boolean): Promise<GuestSsh> {
    const started = Date.now();
    const deadline = started + timeoutMs;
    return pRetry(
      async () => {
        if (!alive()) throw new AbortError('QEMU exited');
        const left = deadline - Date.now();
        if (left <= 0) throw new AbortError(`no SSH answer within ${Math.round(timeoutMs / 1000)} s`);
        // QEMU's forward accepts at once and then holds a connection the guest cannot take
        // yet, for the whole ready timeout: so no attempt until the guest says sshd is up
        // (for 30 s at most: a guest that never says it is tried all the same).
        if (said !== undefined && !said() && Date.now() - started < 30_000) throw new Error('the guest has not said that sshd is up');
        try {
          const ssh = await GuestSsh.connect(options, Math.min(left, 15_000), alive);
          const probe = await ssh.exec('true', { timeoutMs: Math.min(left, 15_000) });
          if (probe.exitCode !== 0) throw new Error(`guest shell did not run: ${probe.stderr}`);
          return ssh;
        } catch (e) {
          if (/host key|verif/i.test(String(e))) {
            throw new AbortError(`the guest's SSH host key does not match the pinned key: ${String(e)}`);
          }
          throw e;
        }
      },
      { retries: 1000, minTimeout: 200, maxTimeout: 500, factor: 1.3, maxRetryTime: timeoutMs },
    );
  }

  /**
   * Replace a dropped connection before a new command. Safe because no command is in flight:
   * the one that was running when the connection dropped has already been reported as
   * disconnected and is never re-run. Only while QEMU is alive, and for a few seconds at most.
   */
  private async reconnect(): Promise<string | undefined> {
    if (!this.closed) return undefined;
    if (this.ended) return 'the connection was closed by the harness';
    if (!this.alive?.()) return 'the connection was lost and QEMU is not running';
    try {
      const client = await pRetry(
        async () => {
          if (!this.alive?.()) throw new AbortError('QEMU exited');
          return openClient(this.options, 5000);
        },
        { retries: 5, minTimeout: 200, maxTimeout: 1000, maxRetryTime: 10_000 },
      );
      if (this.ended) {
        client.destroy();
        return 'the connection was closed by the harness';
      }
      this.client = client;
      this.watch(client);
      this.closed = false;
      this.reconnects++;
      return undefined;
    } catch (e) {
      return `the connection was lost and could not be opened again: ${(e as Error).message}`;
    }
  }

  /** Run a command (a shell string, or an argv that is quoted word by word). Never throws for the command's own failure. */
  async exec(command: string | readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const cmd = typeof command === 'string' ? command : shellCommand(command);
    const started = Date.now();
    const lost = await this.reconnect();
    if (lost !== undefined) {
      return { command: cmd, stdout: '', stderr: `not run: ${lost}`, exitCode: null, signal: undefined, timedOut: false, disconnected: true, durationMs: Date.now() - started };
    }
    const client = this.client;
    const execId = this.nextExec++;
    this.running.set(execId, { command: cmd, started });
    return new Promise<ExecResult>((resolve) => {
      // Chunks are kept as bytes and decoded once: a UTF-8 character split across two chunks stays whole.
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let stderr = '';
      let exitCode: number | null = null;
      let signal: string | undefined;
      let timedOut = false;
      let done = false;
      let stream: ClientChannel | undefined;
      const finish = (disconnected: boolean): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        client.removeListener('close', onClose);
        this.running.delete(execId);
        const stdout = Buffer.concat(out).toString('utf8');
        stderr = Buffer.concat(err).toString('utf8') + stderr;
        resolve({ command: cmd, stdout, stderr, exitCode, signal, timedOut, disconnected, durationMs: Date.now() - started });
      };
      const onClose = (): void => finish(true);
      client.once('close', onClose);
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          stream?.signal('KILL');
          stream?.close();
        } catch {
          // the channel may already be gone
        }
        setTimeout(() => finish(false), 1000);
      }, options.timeoutMs ?? 60_000);
      if (this.closed) {
        finish(true);
        return;
      }
      client.exec(cmd, (e, s) => {
        if (e) {
          stderr = `ssh exec failed: ${e.message}`;
          finish(true);
          return;
        }
        stream = s;
        s.on('data', (d: Buffer) => { out.push(d); options.onStdout?.(d); });
        s.stderr.on('data', (d: Buffer) => { err.push(d); options.onStderr?.(d); });
        s.on('exit', (code: number | null, sig?: string) => {
          exitCode = code;
          signal = sig ?? undefined;
        });
        // A channel that closes without an exit status lost its other end (sshd or the guest went away).
        s.on('close', () => finish(exitCode === null && signal === undefined && !timedOut));
        if (options.input !== undefined) s.end(options.input);
        else s.end();
      });
    });
  }

  /**
   * Start a long-lived command whose stdin and stdout the caller speaks over (the agent's
   * channel). Throws HarnessError SSH_LOST when there is no connection to open it on.
   */
  async open(command: string | readonly string[]): Promise<ClientChannel> {
    const cmd = typeof command === 'string' ? command : shellCommand(command);
    const lost = await this.reconnect();
    if (lost !== undefined) throw new HarnessError('SSH_LOST', `could not start \`${cmd}\` in the guest: ${lost}`);
    return new Promise((resolve, reject) => {
      this.client.exec(cmd, (e, s) => (e ? reject(new HarnessError('SSH_LOST', `could not start \`${cmd}\` in the guest: ${e.message}`)) : resolve(s)));
    });
  }

  /**
   * Connect to a unix socket in the guest through sshd (OpenSSH's direct-streamlocal channel):
   * a stream to a process already listening there, with no process started for it. Throws
   * HarnessError SSH_LOST without a connection, SSH_OPEN_FAILED when sshd could not connect.
   */
  async connect(socketPath: string): Promise<ClientChannel> {
    const lost = await this.reconnect();
    if (lost !== undefined) throw new HarnessError('SSH_LOST', `could not connect to ${socketPath} in the guest: ${lost}`);
    return new Promise((resolve, reject) => {
      this.client.openssh_forwardOutStreamLocal(socketPath, (e, s) =>
        (e ? reject(new HarnessError('SSH_OPEN_FAILED', `sshd could not connect to ${socketPath} in the guest: ${e.message}`)) : resolve(s)));
    });
  }

  /** The commands running now, oldest first, with how long they have run (for hang reports). */
  inFlight(): { command: string; runningMs: number }[] {
    return [...this.running.values()].map((r) => ({ command: r.command, runningMs: Date.now() - r.started }));
  }

  /** Write a file in the guest (through cat, so no sftp subsystem is needed). */
  async writeFile(path: string, content: string, mode = '0644'): Promise<void> {
    const r = await this.exec(`cat > ${shellCommand([path])} && chmod ${mode} ${shellCommand([path])}`, { input: content });
    if (r.exitCode !== 0) {
      throw new HarnessError('GUEST_WRITE_FAILED', `could not write ${path} in the guest: ${r.stderr.trim()}`);
    }
  }

  /** An interactive shell on this terminal; resolves with the shell's exit code. */
  shell(): Promise<number> {
    return new Promise((resolve, reject) => {
      const stdin = process.stdin;
      const tty = stdin.isTTY;
      this.client.shell({ term: process.env.TERM ?? 'xterm', rows: process.stdout.rows ?? 24, cols: process.stdout.columns ?? 80 }, (err, stream) => {
        if (err) return reject(new HarnessError('GUEST_SHELL_FAILED', `could not open a shell in the guest: ${err.message}`));
        let code = 0;
        if (tty) stdin.setRawMode(true);
        stdin.pipe(stream);
        stream.pipe(process.stdout);
        stream.stderr.pipe(process.stderr);
        stream.on('exit', (c: number | null) => { code = c ?? 0; });
        stream.on('close', () => {
          stdin.unpipe(stream);
          if (tty) stdin.setRawMode(false);
          stdin.pause();
          resolve(code);
        });
      });
    });
  }

  close(): void {
    this.closed = true;
    this.ended = true;
    this.client.end();
    this.client.destroy();
  }
}

async function openClient(options: ConnectOptions, timeoutMs: number): Promise<Client> {
  const privateKey = await readFile(options.privateKeyPath);
  const hostVerifier = hostKeyVerifier(options.hostPub);
  const client = new Client();
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    // ssh2 may emit several errors for one failed attempt; every one must have a listener.
    client.on('error', (e) => {
      client.destroy();
      reject(e);
    });
    client.connect({
      host: '127.0.0.1',
      port: options.port,
      username: 'root',
      privateKey,
      readyTimeout: timeoutMs,
      hostVerifier,
      keepaliveInterval: 5000,
      keepaliveCountMax: 6,
    });
  });
  return client;
}

/**
 * The one SSH layer to the guest (ssh2): key-only login as root, the host key pinned to
 * the one baked into the image, readiness waits with p-retry that give up at once when
 * QEMU exits, and exec with a timeout that returns a result instead of throwing.
 */
import { readFile } from 'node:fs/promises';
import pRetry, { AbortError } from 'p-retry';
import { Client, type ClientChannel } from 'ssh2';
import { HarnessError } from '../errors.js';
import { shellCommand } from '../proc.js';

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

export class GuestSsh {
  private closed = false;

  private constructor(private readonly client: Client, readonly options: ConnectOptions) {
    client.on('close', () => { this.closed = true; });
    client.on('error', () => { this.closed = true; });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  static async connect(options: ConnectOptions, timeoutMs = 10_000): Promise<GuestSsh> {
    const privateKey = await readFile(options.privateKeyPath);
    const pinned = Buffer.from(options.hostPub.split(/\s+/)[1] ?? '', 'base64');
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
        hostVerifier: (key: Buffer) => key.equals(pinned),
        keepaliveInterval: 5000,
        keepaliveCountMax: 6,
      });
    });
    return new GuestSsh(client, options);
  }

  /**
   * Wait until the guest answers over SSH. Gives up at once (AbortError) when `alive()`
   * turns false, i.e. QEMU exited, and after `timeoutMs` otherwise.
   */
  static async waitReady(options: ConnectOptions, alive: () => boolean, timeoutMs: number): Promise<GuestSsh> {
    const deadline = Date.now() + timeoutMs;
    return pRetry(
      async () => {
        if (!alive()) throw new AbortError('QEMU exited');
        const left = deadline - Date.now();
        if (left <= 0) throw new AbortError(`no SSH answer within ${Math.round(timeoutMs / 1000)} s`);
        try {
          const ssh = await GuestSsh.connect(options, Math.min(left, 15_000));
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
      { retries: 1000, minTimeout: 250, maxTimeout: 1000, factor: 1.3, maxRetryTime: timeoutMs },
    );
  }

  /** Run a command (a shell string, or an argv that is quoted word by word). Never throws for the command's own failure. */
  exec(command: string | readonly string[], options: { timeoutMs?: number; input?: string } = {}): Promise<ExecResult> {
    const cmd = typeof command === 'string' ? command : shellCommand(command);
    const started = Date.now();
    return new Promise((resolve) => {
      let stdout = '';
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
        this.client.removeListener('close', onClose);
        resolve({ command: cmd, stdout, stderr, exitCode, signal, timedOut, disconnected, durationMs: Date.now() - started });
      };
      const onClose = (): void => finish(true);
      this.client.once('close', onClose);
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
      this.client.exec(cmd, (err, s) => {
        if (err) {
          stderr = `ssh exec failed: ${err.message}`;
          finish(true);
          return;
        }
        stream = s;
        s.on('data', (d: Buffer) => { stdout += d.toString(); });
        s.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
        s.on('exit', (code: number | null, sig?: string) => {
          exitCode = code;
          signal = sig ?? undefined;
        });
        s.on('close', () => finish(false));
        if (options.input !== undefined) s.end(options.input);
        else s.end();
      });
    });
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
    this.client.end();
    this.client.destroy();
  }
}

/**
 * The results directory of one run, written as the run goes so a crash of the harness,
 * the guest or QEMU loses nothing already gathered: summary.json is rewritten atomically
 * after every step and check; every guest command's output lands in commands/ at once.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { HarnessError } from '../errors.js';
import type { CheckResult, RunSummary, StepRecord } from '../report/model.js';

export const TOOL_VERSION = '0.1.0';

export class Results {
  readonly summary: RunSummary;
  private commandCount = 0;
  private flushing: Promise<void> = Promise.resolve();

  private constructor(readonly dir: string, runId: string) {
    this.summary = {
      schema: 1,
      tool: { name: 'cxl-harness', version: TOOL_VERSION },
      runId,
      startedAt: new Date().toISOString(),
      outcome: 'pass',
      exitCode: 0,
      steps: [],
      checks: [],
      observations: [],
      findings: [],
      timings: {},
    };
  }

  /** Make `<base>/<timestamp>-<random>` (or exactly `dir` when given). */
  static async create(options: { base?: string; dir?: string } = {}): Promise<Results> {
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
    const runId = `${stamp}-${randomBytes(3).toString('hex')}`;
    const dir = resolve(options.dir ?? join(options.base ?? 'results', runId));
    await guard(dir, () => mkdir(join(dir, 'commands'), { recursive: true }));
    const r = new Results(dir, runId);
    await r.flush();
    return r;
  }

  path(rel: string): string {
    return join(this.dir, rel);
  }

  rel(abs: string): string {
    return relative(this.dir, abs);
  }

  /** Record a step around `fn`; its status and duration are in summary.json whatever happens. */
  async step<T>(name: string, fn: (record: StepRecord) => Promise<T>): Promise<T> {
    const record: StepRecord = { name, startedAt: new Date().toISOString(), status: 'running' };
    this.summary.steps.push(record);
    await this.flush();
    const t = Date.now();
    try {
      const value = await fn(record);
      record.status = 'ok';
      return value;
    } catch (e) {
      record.status = 'failed';
      record.error = e instanceof Error ? e.message.split('\n')[0] : String(e);
      throw e;
    } finally {
      record.durationMs = Date.now() - t;
      this.summary.timings[name] = record.durationMs;
      await this.flush();
    }
  }

  /** Save one guest command's record; returns its path relative to the results dir. */
  async saveCommand(label: string, record: {
    command: string; stdout: string; stderr: string; exitCode: number | null; signal?: string | undefined; timedOut?: boolean; disconnected?: boolean; durationMs: number;
  }): Promise<string> {
    const n = String(++this.commandCount).padStart(4, '0');
    const rel = join('commands', `${n}-${label.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80)}.txt`);
    const status = record.timedOut ? 'timed out' : record.disconnected ? 'connection lost' : record.signal ? `signal ${record.signal}` : `exit ${record.exitCode}`;
    const text = `$ ${record.command}\n# ${status} after ${record.durationMs} ms\n--- stdout\n${record.stdout}${record.stdout.endsWith('\n') || !record.stdout ? '' : '\n'}--- stderr\n${record.stderr}`;
    await this.writeText(rel, text);
    return rel;
  }

  async addCheck(check: CheckResult): Promise<void> {
    this.summary.checks.push(check);
    await this.flush();
  }

  /** Write a file in the results dir atomically (temp file + rename): never half a file. */
  async writeText(rel: string, text: string): Promise<void> {
    const target = join(this.dir, rel);
    const tmp = `${target}.tmp-${process.pid}`;
    await guard(target, async () => {
      await mkdir(join(target, '..'), { recursive: true });
      await writeFile(tmp, text);
      await rename(tmp, target);
    });
  }

  /** Rewrite summary.json; calls are serialized so an older state never overwrites a newer one. */
  flush(): Promise<void> {
    const snapshot = JSON.stringify(this.summary, null, 2) + '\n';
    this.flushing = this.flushing.then(() => this.writeText('summary.json', snapshot));
    return this.flushing;
  }
}

async function guard<T>(path: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EACCES' || code === 'EROFS') {
      throw new HarnessError('RESULTS_UNWRITABLE', `cannot write ${path}: ${code === 'ENOSPC' || code === 'EDQUOT' ? 'the disk is full' : 'permission denied'} (${code})`, {
        hint: 'free space or choose another results dir with --results DIR',
        cause: e,
        context: { path, code },
      });
    }
    throw e;
  }
}

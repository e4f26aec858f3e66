/**
 * The results directory of one run, written as the run goes so a crash of the harness,
 * the guest or QEMU loses nothing already gathered: summary.json is rewritten atomically
 * after every step and check; every guest command's output lands in commands/ at once.
 * A full disk is one clear error naming the file, and never leaves half a file behind.
 */
import { randomBytes } from 'node:crypto';
import { constants, existsSync, readFileSync } from 'node:fs';
import { access, mkdir, readdir, stat, statfs } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { HarnessError } from '../errors.js';
import { guard, writeAtomic } from './atomic.js';
import { packageRoot } from '../paths.js';
import type { CheckResult, RunSummary, StepRecord } from '../report/model.js';

/** The harness's version, as package.json says. */
export const TOOL_VERSION = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;

/** A fresh run id, also the default name of its results dir: `<UTC timestamp>-<random>`. */
export function newRunId(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

export class Results {
  readonly summary: RunSummary;
  private commandCount = 0;
  private flushing: Promise<void> = Promise.resolve();
  /** Checks the runner gave up on (hang, crash): a late answer from them is not recorded. */
  private readonly abandoned = new Set<string>();
  /** Set once the final summary is written: nothing may change it afterwards. */
  private sealed = false;

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

  /** Refuse, before anything else happens, a results location create() could not use. */
  static async check(options: { base?: string; dir?: string } = {}): Promise<void> {
    await assertCreatable(resolve(options.dir ?? join(options.base ?? 'results', 'new')));
  }

  /** Make `<base>/<runId>` (or exactly `dir` when given). */
  static async create(options: { base?: string; dir?: string } = {}): Promise<Results> {
    const runId = newRunId();
    const dir = resolve(options.dir ?? join(options.base ?? 'results', runId));
    await assertCreatable(dir);
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
    if (this.sealed || this.abandoned.has(check.id)) return;
    this.summary.checks.push(check);
    await this.flush();
  }

  /**
   * Record a check the runner stopped waiting for, or whose guest went away under it (hang,
   * crash, QEMU gone), as `check` (an error). A verdict the check reported itself is replaced
   * unless it was a pass: a fail seen through a dying connection is not evidence of a fail.
   * If the check's body answers later, that answer is dropped.
   */
  async abandonCheck(check: CheckResult): Promise<void> {
    if (this.sealed) return;
    this.abandoned.add(check.id);
    const i = this.summary.checks.findIndex((c) => c.id === check.id);
    if (i >= 0 && this.summary.checks[i]!.verdict === 'pass') return;
    if (i >= 0) {
      const own = this.summary.checks[i]!;
      this.summary.checks[i] = { ...check, evidence: [...new Set([...own.evidence, ...check.evidence])], ...(own.observed !== undefined ? { observed: own.observed } : {}) };
    } else {
      this.summary.checks.push(check);
    }
    await this.flush();
  }

  /** Write a file in the results dir atomically (temp file + rename): never half a file. */
  writeText(rel: string, text: string): Promise<void> {
    return writeAtomic(join(this.dir, rel), text);
  }

  /**
   * Rewrite summary.json; calls are serialized so an older state never overwrites a newer one.
   * A failed write is reported to this caller and does not block later flushes.
   */
  flush(): Promise<void> {
    if (this.sealed) return this.flushing;
    const snapshot = JSON.stringify(this.summary, null, 2) + '\n';
    const next = this.flushing.catch(() => undefined).then(() => this.writeText('summary.json', snapshot));
    this.flushing = next;
    return next;
  }

  /** Write the final summary; later flushes, checks and steps change nothing on disk. */
  async seal(): Promise<void> {
    await this.flush();
    this.sealed = true;
  }
}

/** Filesystems no results dir can live on (statfs magic numbers): mkdir -p loops on /proc in Node 20. */
const PSEUDO_FS: Record<number, string> = { 0x9fa0: 'procfs', 0x62656572: 'sysfs', 0x27e0eb: 'cgroupfs', 0x63677270: 'cgroup2', 0x64626720: 'debugfs', 0x74726163: 'tracefs' };

/**
 * Refuse, before anything is written, a results dir that already holds files (mixing two runs'
 * files would make the second one's evidence lie) or that cannot be made: its nearest existing
 * ancestor must be a writable directory on a real filesystem.
 */
async function assertCreatable(dir: string): Promise<void> {
  const fail = (why: string, hint: string): never => {
    throw new HarnessError(existsSync(dir) ? 'RESULTS_DIR_IN_USE' : 'RESULTS_UNWRITABLE', `results dir ${dir} ${why}`, { hint, context: { dir } });
  };
  if (existsSync(dir)) {
    if (!(await stat(dir)).isDirectory()) fail('exists and is not a directory', 'choose a new directory with --results DIR');
    const entries = await readdir(dir);
    if (entries.includes('summary.json')) fail('already holds a run (summary.json exists)', 'choose a new directory with --results DIR, or leave --results out for a fresh timestamped one');
    if (entries.length > 0) fail(`is not empty (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', ...' : ''}); a run never writes into a directory holding other files`, 'choose a new or empty directory with --results DIR, or leave --results out for a fresh timestamped one');
  }
  let ancestor = dir;
  while (!existsSync(ancestor)) ancestor = dirname(ancestor);
  const unwritable = (why: string): never => {
    throw new HarnessError('RESULTS_UNWRITABLE', `results dir ${dir} cannot be created: ${why}`, { hint: 'use --results DIR (or --results-base DIR) on a writable local filesystem', context: { dir, ancestor } });
  };
  if (!(await stat(ancestor)).isDirectory()) unwritable(`${ancestor} is not a directory`);
  const fs = PSEUDO_FS[(await statfs(ancestor)).type];
  if (fs) unwritable(`${ancestor} is on ${fs}, a kernel pseudo-filesystem`);
  await access(ancestor, constants.W_OK).catch(() => unwritable(`${ancestor} is not writable`));
}

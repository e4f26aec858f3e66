/**
 * What the MCP server's reading tools answer from a results dir: a run's state while it runs
 * and after, a check's verdict with its evidence files, the console's last lines, the guest's
 * kernel log. A results dir is read the way `report` reads it (results/report-files.ts), at any
 * time: summary.json is rewritten atomically after every step and check. Every file's text is
 * capped, saying how much was left out, so one answer never carries a whole console.
 */
import { existsSync } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { HarnessError } from '../errors.js';
import type { CheckResult } from '../report/model.js';
import { readReproView, readSummary } from '../results/report-files.js';
import type { HarnessChild, HarnessChildren } from './runs.js';

/** A piece of a file: its size, its text, and how many bytes of it the text leaves out. */
export interface FileText {
  bytes: number;
  text: string;
  omittedBytes: number;
}

/** Where a tool's `run` points: a results dir (a path, or a dir's name under the base) or a run id of this server's runs. */
export function locateRun(ref: string, children: HarnessChildren, where: { base: string; cwd: string }): { dir: string; child?: HarnessChild } {
  const child = children.find(ref);
  if (child) return { dir: child.dir, child };
  for (const dir of [resolve(where.cwd, ref), join(where.base, ref)]) {
    if (existsSync(join(dir, 'summary.json'))) return { dir };
  }
  throw new HarnessError('RESULTS_MISSING', `no run "${ref}": neither a results dir (with summary.json) nor a run id of a run this server started, nor a results dir in ${where.base}`, {
    hint: 'pass the resultsDir or runId start_run, start_repro or exec returned',
  });
}

/** At most `maxBytes` of a file, from its start (`head`) or its end (a cut end then starts at a line). */
export async function readCapped(path: string, maxBytes: number, from: 'head' | 'tail'): Promise<FileText> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const length = Math.min(size, maxBytes);
    const at = from === 'head' ? 0 : size - length;
    const buf = Buffer.alloc(length);
    await fh.read(buf, 0, length, at);
    let text = buf.toString('utf8');
    let omittedBytes = size - length;
    if (from === 'tail' && at > 0) {
      // A cut in the middle of a line (or of a UTF-8 character) is no line: start at the next.
      const nl = text.indexOf('\n');
      omittedBytes += Buffer.byteLength(text.slice(0, nl + 1));
      text = text.slice(nl + 1);
    }
    return { bytes: size, text, omittedBytes };
  } finally {
    await fh.close();
  }
}

/** The newest of a results dir's per-boot files: NAME, then boot2.NAME, boot3.NAME... */
async function lastBootFile(dir: string, name: string): Promise<string | undefined> {
  const entries = await readdir(dir);
  const boots = entries
    .map((f) => ({ f, n: f === name ? 1 : Number(new RegExp(`^boot(\\d+)\\.${name.replace('.', '\\.')}$`).exec(f)?.[1] ?? NaN) }))
    .filter((b) => Number.isFinite(b.n))
    .sort((a, b) => a.n - b.n);
  return boots.at(-1)?.f;
}

export type RunState = 'running' | 'finished' | 'unfinished';

/**
 * A run's state: `running` while this server's child runs it, `finished` once the child exited
 * or the summary is closed (finishedAt), `unfinished` for a dir that is neither (another process
 * runs it, or its harness was killed). The outcome is the summary's only once the run closed its
 * record: until then the summary's outcome is a placeholder.
 */
export async function runStatus(dir: string, child: HarnessChild | undefined) {
  const s = await readSummary(dir);
  const closed = s.finishedAt !== undefined;
  const state: RunState = child ? (child.running ? 'running' : 'finished') : closed ? 'finished' : 'unfinished';
  const exit = child?.exit ?? (closed ? { code: s.exitCode, signal: null } : undefined);
  return {
    resultsDir: dir,
    runId: s.runId,
    ...(child ? { kind: child.kind, pid: child.pid } : {}),
    state,
    ...(closed ? { outcome: s.outcome } : {}),
    ...(exit ? { exitCode: exit.code, ...(exit.signal ? { signal: exit.signal } : {}) } : {}),
    ...(state === 'finished' && !closed ? { note: 'the harness ended without closing its record (killed?): no outcome' } : {}),
    ...(s.error ? { error: s.error } : {}),
    ...(s.suite ? { suite: s.suite } : {}),
    ...(s.topology ? { topology: s.topology.name } : {}),
    ...(s.kernel?.release ? { kernel: s.kernel.release } : {}),
    startedAt: s.startedAt,
    ...(s.finishedAt ? { finishedAt: s.finishedAt } : {}),
    steps: s.steps.map((st) => ({ name: st.name, status: st.status, ...(st.durationMs !== undefined ? { durationMs: st.durationMs } : {}), ...(st.error ? { error: st.error.split('\n')[0] } : {}) })),
    checks: s.checks.map((c) => ({ id: c.id, verdict: c.verdict, ...(c.reason ? { reason: c.reason } : {}) })),
    findings: s.findings.map((f) => ({ kind: f.kind, title: f.title, ...(f.expected ? { expected: true } : {}) })),
    ...(await reproProgress(dir)),
    ...(child ? { log: child.stderr().text.trimEnd().split('\n').slice(-15) } : {}),
  };
}

/** A repro's counters so far (repro.json is rewritten after every chunk of iterations), read as `report` reads it. */
async function reproProgress(dir: string): Promise<{ repro?: Record<string, unknown> }> {
  const r = await readReproView(dir);
  if (!r) return {};
  const { scenario, seed, outcome, iterationsRun, failures, crashes, firstFailure, boots, skipReason } = r;
  const repro = { scenario: scenario.name, seed, outcome, iterationsRun, failures, crashes, firstFailure, boots, skipReason };
  return { repro: Object.fromEntries(Object.entries(repro).filter(([, v]) => v !== undefined)) };
}

/** Evidence paths inside the results dir only: a summary is data, never a way out of its dir. */
function inside(dir: string, rel: string): string {
  const abs = resolve(dir, rel);
  if (abs !== dir && !abs.startsWith(dir + sep)) throw new HarnessError('RESULTS_CORRUPT', `evidence path ${rel} leaves the results dir ${dir}`);
  return abs;
}

/** At most this many evidence files in one answer (a repro iteration's folder holds a few). */
const EVIDENCE_FILES = 50;

/** A check's verdict, what it expected and observed, and its evidence files (a folder: each file in it), each capped at `maxBytes`. */
export async function checkEvidence(dir: string, id: string, maxBytes: number) {
  const s = await readSummary(dir);
  const check: CheckResult | undefined = s.checks.find((c) => c.id === id);
  if (!check) {
    const ids = s.checks.map((c) => c.id);
    throw new HarnessError('CHECK_UNKNOWN', `run ${s.runId} has no check "${id}"${ids.length ? ` (it has ${ids.join(', ')})` : ' (no check has reported yet)'}`, { hint: 'run_status lists the checks done so far' });
  }
  const files: string[] = [];
  for (const rel of check.evidence) {
    const abs = inside(dir, rel);
    if (!existsSync(abs)) continue;
    if ((await stat(abs)).isDirectory()) {
      const below = (await readdir(abs, { recursive: true })).sort().map((f) => join(abs, f));
      for (const f of below) if ((await stat(f)).isFile()) files.push(f);
    } else files.push(abs);
  }
  const read = await Promise.all(files.slice(0, EVIDENCE_FILES).map(async (f) => ({ path: relative(dir, f), ...(await readCapped(f, maxBytes, 'head')) })));
  return {
    resultsDir: dir,
    id: check.id,
    title: check.title,
    verdict: check.verdict,
    ...(check.reason ? { reason: check.reason } : {}),
    expected: check.expected,
    observed: check.observed,
    ...(check.nodeMemory ? { nodeMemory: check.nodeMemory } : {}),
    evidence: read,
    ...(files.length > EVIDENCE_FILES ? { evidenceNotRead: files.slice(EVIDENCE_FILES).map((f) => relative(dir, f)) } : {}),
  };
}

/** The last `lines` lines of the newest boot's console (console.log, or bootN.console.log after a reboot). */
export async function consoleTail(dir: string, lines: number): Promise<FileText & { path: string }> {
  const file = await lastBootFile(dir, 'console.log');
  if (!file) throw new HarnessError('RESULTS_MISSING', `${dir} has no console.log yet: the guest has not booted`, { hint: 'run_status shows the steps: the console starts with the boot step' });
  // Console lines are short: 512 bytes a line is room enough, and bounds what is read.
  const t = await readCapped(join(dir, file), lines * 512, 'tail');
  // Back from the end over `lines` line ends (the file's last newline ends its last line).
  let cut = t.text.length - (t.text.endsWith('\n') ? 1 : 0);
  for (let n = 0; n < lines && cut >= 0; n++) cut = cut > 0 ? t.text.lastIndexOf('\n', cut - 1) : -1;
  const text = t.text.slice(cut + 1);
  return { path: file, bytes: t.bytes, text, omittedBytes: t.bytes - Buffer.byteLength(text) };
}

/** The guest's kernel log as the run saved it at its end (the newest boot's), its last `maxBytes`. */
export async function dmesgText(dir: string, maxBytes: number): Promise<FileText & { path: string }> {
  const file = await lastBootFile(dir, 'dmesg.txt');
  if (!file) throw new HarnessError('RESULTS_MISSING', `${dir} has no dmesg.txt: the run saves the guest's kernel log when it ends`, { hint: 'while it runs, console_tail shows the kernel\'s lines as they come' });
  return { path: file, ...(await readCapped(join(dir, file), maxBytes, 'tail')) };
}

/**
 * KCIDB I/O schema v5 export: one checkout (the kernel source, when known), one build
 * (the kernel image we booted), and one test per check and console finding, plus the
 * root test (path "") carrying the run's outcome. Ids are `<origin>:<our id>`, test
 * paths are the check ids with any character KCIDB forbids replaced by `_`.
 * Definitions follow kernelci/kcidb-io's schema v5.0 (kcidb_io/schema/v05_00.py).
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { Outcome, RunSummary, Verdict } from './model.js';
import { reportSuites } from './cases.js';
import type { OutcomeOptions } from './verdict.js';

export type KcidbStatus = 'FAIL' | 'ERROR' | 'MISS' | 'PASS' | 'DONE' | 'SKIP';

export interface KcidbResource {
  name: string;
  url: string;
}

export interface KcidbCheckout {
  id: string;
  origin: string;
  tree_name?: string;
  git_repository_url?: string;
  git_commit_hash?: string;
  git_commit_name?: string;
  patchset_hash?: string;
  start_time?: string;
  comment?: string;
  valid?: boolean;
  misc?: Record<string, unknown>;
}

export interface KcidbBuild {
  id: string;
  checkout_id: string;
  origin: string;
  start_time?: string;
  architecture?: string;
  comment?: string;
  status?: KcidbStatus;
  misc?: Record<string, unknown>;
}

export interface KcidbTest {
  id: string;
  build_id: string;
  origin: string;
  path: string;
  comment?: string;
  status: KcidbStatus;
  waived?: boolean;
  start_time?: string;
  duration?: number;
  log_url?: string;
  log_excerpt?: string;
  output_files?: KcidbResource[];
  misc?: Record<string, unknown>;
}

export interface KcidbData {
  version: { major: 5; minor: number };
  checkouts: KcidbCheckout[];
  builds: KcidbBuild[];
  tests: KcidbTest[];
}

export interface KcidbOptions extends OutcomeOptions {
  /** The CI system's name, `[a-z0-9_]+`. */
  origin?: string;
  /** Where the results directory is published; evidence files become URLs under it. */
  artifactsBaseUrl?: string;
  /** Target architecture of the build (`[a-z0-9_]*`), e.g. x86_64. */
  architecture?: string;
  treeName?: string;
  gitRepositoryUrl?: string;
}

export const KCIDB_ORIGIN = 'cxl_harness';
const LOG_EXCERPT_MAX = 16384;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * The KCIDB patchset hash: sha256 over the patches' sha256 hex digests, each followed by a
 * newline, in order of application (`sha256sum *.patch | cut -c-64 | sha256sum`);
 * the empty string when no patches were applied.
 */
export function patchsetHash(patchSha256s: readonly string[]): string {
  if (patchSha256s.length === 0) return '';
  const h = createHash('sha256');
  for (const p of patchSha256s) {
    const hex = p.trim().toLowerCase();
    if (!SHA256_HEX.test(hex)) throw new TypeError(`not a sha256 hex digest: ${JSON.stringify(p)}`);
    h.update(`${hex}\n`);
  }
  return h.digest('hex');
}

/** A string usable as a KCIDB test path component: `[a-zA-Z0-9_-]+`. */
function pathComponent(s: string): string {
  const clean = s.replace(/[^a-zA-Z0-9_-]/g, '_');
  return clean === '' ? '_' : clean;
}

/** A dotted id as a KCIDB test path (`^([a-zA-Z0-9_-]+(\.[a-zA-Z0-9_-]+)*)?$`). */
export function kcidbTestPath(id: string): string {
  if (id === '') return '';
  return id.split('.').map(pathComponent).join('.');
}

const VERDICT_STATUS: Record<Verdict, KcidbStatus> = { pass: 'PASS', fail: 'FAIL', error: 'ERROR', skip: 'SKIP' };

/** The root test's status: crashes and failures are the code's fault; hangs unknown; the harness's own failures are MISS. */
const OUTCOME_STATUS: Record<Outcome, KcidbStatus> = {
  pass: 'PASS',
  fail: 'FAIL',
  skip: 'SKIP',
  'kernel-crash': 'FAIL',
  hang: 'ERROR',
  'infrastructure-error': 'MISS',
  interrupted: 'MISS',
};

/** A finding that fails the run is FAIL; one the suite expected is PASS; an informational one (OOM) is DONE. */
function findingStatus(verdict: Verdict, expected: boolean): KcidbStatus {
  if (verdict === 'fail') return 'FAIL';
  return expected ? 'PASS' : 'DONE';
}

function excerpt(text: string): string {
  if (text.length <= LOG_EXCERPT_MAX) return text;
  const marker = '\n[... truncated]';
  return text.slice(0, LOG_EXCERPT_MAX - marker.length) + marker;
}

function resources(evidence: readonly string[], base: string | undefined): KcidbResource[] | undefined {
  if (!base || evidence.length === 0) return undefined;
  const root = base.replace(/\/+$/, '');
  return evidence.map((e) => {
    const path = e.replace(/:\d+$/, ''); // console.log:123 names a line; the file is the resource
    return { name: posix.basename(path) || path, url: `${root}/${path.split('/').map(encodeURIComponent).join('/')}` };
  });
}

function definedOnly<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as T;
}

/** The summary as KCIDB v5 I/O data. */
export function toKcidb(summary: RunSummary, options: KcidbOptions = {}): KcidbData {
  const origin = options.origin ?? KCIDB_ORIGIN;
  if (!/^[a-z0-9_]+$/.test(origin)) throw new TypeError(`KCIDB origin must match [a-z0-9_]+: ${origin}`);
  const runId = summary.runId;
  const k = summary.kernel;
  const checkoutId = `${origin}:${runId}`;
  const buildId = `${origin}:${runId}`;

  const patchHash =
    k?.patchsetHash ?? (k?.patches ? patchsetHash(k.patches.map((p) => p.sha256)) : k?.origin === 'source' ? '' : undefined);
  const checkout = definedOnly<KcidbCheckout>({
    id: checkoutId,
    origin,
    tree_name: options.treeName,
    git_repository_url: options.gitRepositoryUrl,
    git_commit_hash: k?.gitCommit && /^[0-9a-f]{40}$/.test(k.gitCommit) ? k.gitCommit : undefined,
    git_commit_name: k?.sourceVersion,
    patchset_hash: patchHash,
    start_time: summary.startedAt,
    comment: k?.package ?? k?.release ?? k?.sourceVersion,
    valid: true,
    misc: definedOnly({ kernel_origin: k?.origin, patches: k?.patches?.map((p) => p.subject) }),
  });

  const build = definedOnly<KcidbBuild>({
    id: buildId,
    checkout_id: checkoutId,
    origin,
    start_time: summary.startedAt,
    architecture: options.architecture,
    comment: k?.release,
    misc: definedOnly({ image: k?.imagePath, package: k?.package }),
  });

  const tests: KcidbTest[] = [];
  const runMs = summary.finishedAt ? Date.parse(summary.finishedAt) - Date.parse(summary.startedAt) : NaN;
  tests.push(
    definedOnly<KcidbTest>({
      id: `${origin}:${runId}:`,
      build_id: buildId,
      origin,
      path: '',
      comment: summary.error ? `${summary.outcome}: ${summary.error.message}` : `cxl-harness run ${summary.outcome}`,
      status: OUTCOME_STATUS[summary.outcome],
      start_time: summary.startedAt,
      duration: Number.isFinite(runMs) && runMs >= 0 ? runMs / 1000 : undefined,
      misc: definedOnly({
        outcome: summary.outcome,
        exit_code: summary.exitCode,
        topology: summary.topology?.name,
        suite: summary.suite,
        error_code: summary.error?.code,
      }),
    }),
  );

  for (const suite of reportSuites(summary, options)) {
    if (suite.name === 'run') continue; // the root test carries the run's outcome
    for (const c of suite.cases) {
      const f = c.finding;
      tests.push(
        definedOnly<KcidbTest>({
          id: `${origin}:${runId}:${c.id}`,
          build_id: buildId,
          origin,
          path: kcidbTestPath(c.id),
          comment: c.title,
          status: f ? findingStatus(c.verdict, f.expected === true) : VERDICT_STATUS[c.verdict],
          start_time: summary.startedAt,
          duration: f ? undefined : c.durationMs / 1000,
          log_excerpt: f ? excerpt(f.lines.join('\n')) : c.reason !== undefined ? excerpt(c.reason) : undefined,
          output_files: resources(c.evidence, options.artifactsBaseUrl),
          misc: definedOnly({
            reason: c.reason,
            expected: c.expected,
            observed: c.observed,
            evidence: c.evidence,
            step: f?.step,
            line: f?.line,
          }),
        }),
      );
    }
  }
  return { version: { major: 5, minor: 0 }, checkouts: [checkout], builds: [build], tests };
}

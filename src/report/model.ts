/**
 * The data every report format is made from. A run's summary.json is exactly a RunSummary.
 * Verdict rules live in verdict.ts; formats (TAP, JUnit, KCIDB) only render this model.
 */

/** A check's verdict. `error` = the check could not establish its precondition or its evidence. */
export type Verdict = 'pass' | 'fail' | 'skip' | 'error';

/**
 * How the run as a whole ended. Anything but `pass`/`fail`/`skip` means the verdicts are incomplete.
 * - skip: the run finished, but every check that judges the kernel skipped: nothing was judged;
 * - kernel-crash: panic/oops ended the guest; hang: a watchdog bound expired;
 * - infrastructure-error: QEMU/ssh/host failure; interrupted: SIGINT/SIGTERM.
 */
export type Outcome = 'pass' | 'fail' | 'skip' | 'kernel-crash' | 'hang' | 'infrastructure-error' | 'interrupted';

/** A console finding's kind (see console scanner). */
export type FindingKind =
  | 'panic'
  | 'oops'
  | 'bug'
  | 'warning'
  | 'kasan'
  | 'ubsan'
  | 'kfence'
  | 'lockdep'
  | 'hung-task'
  | 'rcu-stall'
  | 'soft-lockup'
  | 'hard-lockup'
  | 'oom';

export interface ConsoleFinding {
  kind: FindingKind;
  /** The first line of the report, e.g. "WARNING: CPU: 0 PID: 1 at mm/foo.c:12 bar+0x1/0x2". */
  title: string;
  /** The report's lines, call trace included. */
  lines: string[];
  /** 1-based line number in console.log (or in `log` when set). */
  line: number;
  /** The console log the line number refers to, relative to the results dir; console.log when absent. */
  log?: string;
  /** The step that was running when it appeared, when known. */
  step?: string;
  /** True when the suite declared this finding expected (it then does not fail the run). */
  expected?: boolean;
}

export interface CheckResult {
  /** Stable dotted id a script can grep, e.g. "spm.cpuset.mems_sysram_file". */
  id: string;
  /** One line for people: what the check proves. */
  title: string;
  verdict: Verdict;
  /** Why it was skipped, errored or failed, in one line. */
  reason?: string;
  expected?: unknown;
  observed?: unknown;
  /** Paths of evidence files, relative to the results dir. */
  evidence: string[];
  durationMs: number;
  /** The check identifies the environment and judges no kernel behaviour (it never makes a run green alone). */
  informational?: boolean;
  /** Every node's memory just before and just after the check ran (absent for a skip, or when the guest did not answer). */
  nodeMemory?: { before: NodeMemory; after: NodeMemory };
}

/** MemTotal and MemFree (kB) of every online node, by node id, from nodeN/meminfo. */
export type NodeMemory = Record<string, { totalKiB: number; freeKiB: number }>;

/** A known oddity observed (reported at its own level, never changes a verdict). */
export interface Observation {
  id: string;
  title: string;
  detail: string;
  check?: string;
}

export interface PatchIdentity {
  subject: string;
  sha256: string;
  file?: string;
}

export interface KernelIdentity {
  /** distro | prebuilt | source */
  origin: 'distro' | 'prebuilt' | 'source';
  /** uname -r style release, when known. */
  release?: string;
  /** Package name and version for distro kernels. */
  package?: string;
  /** Source version (Makefile VERSION.PATCHLEVEL.SUBLEVEL-EXTRAVERSION) and git commit. */
  sourceVersion?: string;
  gitCommit?: string;
  patches?: PatchIdentity[];
  /** KCIDB-style patchset hash (sha256 over the patches' sha256s), '' when unpatched. */
  patchsetHash?: string;
  imagePath?: string;
}

/** A topology as reports draw it: each host bridge's root ports in bus order, what hangs below them, the windows over the bridges. */
export interface TopologyLayout {
  hostBridges: { id: string; rootPorts: LayoutPort[] }[];
  windows: { targets: string[]; sizeMiB: number; granularity?: number }[];
}

/** A root port or a switch's downstream port: a device below it, a switch, or nothing. */
export interface LayoutPort {
  id: string;
  device?: { id: string; kind: 'volatile' | 'dcd' | 'persistent'; sizeMiB: number };
  switch?: { id: string; ports: LayoutPort[] };
}

export interface StepRecord {
  name: string;
  startedAt: string;
  durationMs?: number;
  status: 'running' | 'ok' | 'failed';
  /** Log file relative to the results dir. */
  log?: string;
  error?: string;
}

export interface RunSummary {
  schema: 1;
  tool: { name: 'cxl-harness'; version: string };
  runId: string;
  startedAt: string;
  finishedAt?: string;
  outcome: Outcome;
  exitCode: number;
  /** The harness's one-paragraph explanation when the outcome is not pass/fail. */
  error?: { code: string; message: string; hint?: string };
  kernel?: KernelIdentity;
  qemu?: { version?: string; argv?: string[]; accel?: string };
  topology?: { name: string; file?: string; layout?: TopologyLayout };
  suite?: string;
  /** Detected kernel generation and the evidence for it. */
  generation?: { name: string; evidence: string[] };
  /** What the booted kernel can do, capability -> present (found before the suite). */
  capabilities?: Record<string, boolean>;
  steps: StepRecord[];
  checks: CheckResult[];
  observations: Observation[];
  findings: ConsoleFinding[];
  timings: Record<string, number>;
}

/**
 * cgroup v2 cpuset probes, in plain TypeScript: cgroupfs is file I/O, and node:fs reports the
 * errno of every refused mkdir/write/rmdir exactly. The probe records each step as data, so
 * a kernel that rejects a write (EINVAL) or lacks a file (ENOENT) is a result, not a crash.
 */
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { once } from 'node:events';
import { join } from 'node:path';
import { firstFailure, outcome, outcomeOfError, type ErrnoOutcome } from './errno.js';
import { parseHexMask, parseNodeList } from './nodelist.js';
import { listDir, readText, writeText } from './sysfs.js';

export interface CgroupFile extends ErrnoOutcome {
  value?: string;
  /** Parsed node (or CPU) list, for files holding one. */
  list?: number[];
}

export interface ProcStatusNodes extends ErrnoOutcome {
  probe: 'proc-status';
  pid: number;
  /** Which naming the kernel uses: stock (and v3) `Mems_allowed`, SPM v2 `Sysram_nodes`, v1 `Mems_default`, or none of them. */
  field: 'Mems_allowed' | 'Sysram_nodes' | 'Mems_default' | null;
  /** Parsed node set of the list line (or the mask line when there is no list). */
  nodes: number[];
  /** Every status line about memory nodes, verbatim: Mems_allowed, Mems_allowed_list, Sysram_nodes... */
  lines: Record<string, string>;
}

export interface CpusetArgs {
  root?: string;
  cgroup: string;
  mems?: string;
  cpus?: string;
  enable: boolean;
  moveProcess: boolean;
  remove: boolean;
}

export interface CpusetResult extends ErrnoOutcome {
  probe: 'cpuset';
  /** The cgroup v2 mount used; null when there is none. */
  root: string | null;
  path: string | null;
  controllers: string[];
  enable?: ErrnoOutcome;
  create?: ErrnoOutcome & { existed: boolean };
  writeMems?: ErrnoOutcome & { value: string };
  writeCpus?: ErrnoOutcome & { value: string };
  /** Every cpuset.* file of the root cgroup (cpuset.mems.sysram shows up here on SPM v2). */
  rootFiles: Record<string, CgroupFile>;
  /** Every cpuset.* file of the child, after the writes. */
  files: Record<string, CgroupFile>;
  move?: ErrnoOutcome & { pid: number; status: ProcStatusNodes };
  remove?: ErrnoOutcome;
}

/** The cgroup v2 mount: /sys/fs/cgroup when it is v2, else the first cgroup2 mount (hybrid hosts). */
export function findCgroup2Root(): string | null {
  const r = readText('/proc/self/mountinfo');
  if (!r.ok) return null;
  const mounts = r.value
    .split('\n')
    .map((line) => line.split(' - '))
    .filter((parts) => parts[1]?.startsWith('cgroup2 '))
    .map((parts) => parts[0]!.split(' ')[4]!);
  return mounts.includes('/sys/fs/cgroup') ? '/sys/fs/cgroup' : (mounts[0] ?? null);
}

const statusField = /^(Mems_allowed|Mems_allowed_list|Sysram_nodes|Sysram_nodes_list|Mems_default|Mems_default_list|[A-Za-z_]*(?:[Nn]odes|[Mm]ems)[A-Za-z_]*):\s*(.*)$/;

export function procStatusProbe(pid: number = process.pid): ProcStatusNodes {
  const r = readText(`/proc/${pid}/status`);
  if (!r.ok) return { probe: 'proc-status', ...r, pid, field: null, nodes: [], lines: {} };
  const lines: Record<string, string> = {};
  for (const line of r.value.split('\n')) {
    const m = statusField.exec(line);
    if (m) lines[m[1]!] = m[2]!.trim();
  }
  const field = (['Sysram_nodes', 'Mems_default', 'Mems_allowed'] as const).find((f) => f in lines) ?? null;
  let nodes: number[] = [];
  if (field) {
    const list = lines[`${field}_list`];
    nodes = list !== undefined ? parseNodeList(list) : parseHexMask(lines[field]!);
  }
  return { probe: 'proc-status', ...outcome(0), pid, field, nodes, lines };
}

function readCgroupFiles(dir: string): Record<string, CgroupFile> {
  const out: Record<string, CgroupFile> = {};
  for (const name of listDir(dir).filter((f) => f.startsWith('cpuset.'))) {
    const r = readText(join(dir, name));
    if (!r.ok) {
      out[name] = { ok: r.ok, errno: r.errno, code: r.code };
      continue;
    }
    const value = r.value.trim();
    const file: CgroupFile = { ...outcome(0), value };
    // cpuset.mems*, cpuset.cpus* hold lists; partition and others do not.
    if (/^cpuset\.(mems|cpus)/.test(name) && /^[\d,-]*$/.test(value)) file.list = parseNodeList(value);
    out[name] = file;
  }
  return out;
}

function tryStep(step: () => void): ErrnoOutcome {
  try {
    step();
    return outcome(0);
  } catch (error) {
    return outcomeOfError(error);
  }
}

/** rmdir, retried briefly on EBUSY: a killed member can take a moment to leave the cgroup. */
async function removeCgroup(path: string): Promise<ErrnoOutcome> {
  let r = tryStep(() => rmdirSync(path));
  for (let attempt = 0; attempt < 20 && r.code === 'EBUSY'; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    r = tryStep(() => rmdirSync(path));
  }
  return r;
}

/**
 * Start a process that only sleeps, move it into `dir`, read its node lines, then end it.
 * cgroup v2 migrates a moved task's memory to the new mems, shared pages included (MOVE_ALL):
 * a dynamically linked sleeper would drag the libc every process maps onto the new node (on
 * emulated CXL, 100x slower for the whole guest). So the sleeper is a private copy of a
 * static busybox where there is one, else /bin/sleep.
 */
async function moveSleeper(dir: string): Promise<NonNullable<CpusetResult['move']>> {
  const copy = privateStaticSleeper();
  const child = copy ? spawn(copy.path, ['sleep', '3600'], { stdio: 'ignore' }) : spawn('sleep', ['3600'], { stdio: 'ignore' });
  await once(child, 'spawn');
  const pid = child.pid!;
  try {
    const moved = writeText(join(dir, 'cgroup.procs'), `${pid}\n`);
    return { ...moved, pid, status: procStatusProbe(pid) };
  } finally {
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
    copy?.remove();
  }
}

const STATIC_BUSYBOX = '/usr/bin/busybox';

/** A copy of the static busybox in a temp dir (named busybox, so its applets work), or undefined. */
function privateStaticSleeper(): { path: string; remove(): void } | undefined {
  if (!existsSync(STATIC_BUSYBOX)) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'cxl-probe-sleeper-'));
  const path = join(dir, 'busybox');
  copyFileSync(STATIC_BUSYBOX, path);
  chmodSync(path, 0o755);
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function cpusetProbe(args: CpusetArgs): Promise<CpusetResult> {
  const root = args.root ?? findCgroup2Root();
  const empty = { probe: 'cpuset' as const, root, path: null, controllers: [], rootFiles: {}, files: {} };
  if (root === null) return { ...outcome(2 /* ENOENT */), ...empty };
  const controllersFile = readText(join(root, 'cgroup.controllers'));
  if (!controllersFile.ok) return { ...empty, ...controllersFile };
  const path = join(root, args.cgroup);
  const result: CpusetResult = {
    ...empty, ...outcome(0), path, controllers: controllersFile.value.trim().split(/\s+/).filter(Boolean),
  };
  if (args.enable) result.enable = writeText(join(root, 'cgroup.subtree_control'), '+cpuset');
  const created = tryStep(() => mkdirSync(path));
  result.create = created.code === 'EEXIST' ? { ...outcome(0), existed: true } : { ...created, existed: false };
  if (result.create.ok) {
    if (args.mems !== undefined) result.writeMems = { ...writeText(join(path, 'cpuset.mems'), args.mems), value: args.mems };
    if (args.cpus !== undefined) result.writeCpus = { ...writeText(join(path, 'cpuset.cpus'), args.cpus), value: args.cpus };
    result.files = readCgroupFiles(path);
    if (args.moveProcess) result.move = await moveSleeper(path);
    if (args.remove) result.remove = await removeCgroup(path);
  }
  result.rootFiles = readCgroupFiles(root);
  return { ...result, ...firstFailure([result.enable, result.create, result.writeMems, result.writeCpus, result.move, result.remove]) };
}

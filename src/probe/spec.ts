/**
 * The probe catalogue: names, arguments and their types. Pure data plus parsing, shared by
 * the guest command (argv -> args), the host client (args -> argv) and the local API (checks),
 * so all three accept exactly the same things. Nothing here loads the addon.
 */
import { formatNodeList, parseNodeList } from './nodelist.js';
import { modeFlagNames, modeNames, moveFlagNames } from './policy.js';

export type ArgSpec =
  | { type: 'int'; help: string; min?: number; max?: number; default?: number; required?: boolean }
  | { type: 'nodes'; help: string; default?: number[]; required?: boolean }
  | { type: 'enum'; help: string; values: readonly string[]; default?: string }
  | { type: 'set'; help: string; values: readonly string[]; default?: string[] }
  | { type: 'mode'; help: string }
  | { type: 'string'; help: string; default?: string; required?: boolean }
  | { type: 'bool'; help: string; default?: boolean };

export interface ProbeSpec {
  help: string;
  /** Runs in a child process (it changes the task's policy, touches memory or may hang). */
  isolated: boolean;
  args: Record<string, ArgSpec>;
}

/** Probe misuse: a wrong argument. Thrown, never returned; the message names the argument. */
export class ProbeArgumentError extends Error {
  override readonly name = 'ProbeArgumentError';
}

const isolation: Record<string, ArgSpec> = {
  timeoutMs: { type: 'int', min: 1, default: 60_000, help: 'kill the probe child after this long (a hang becomes timedOut)' },
  cgroup: { type: 'string', help: 'cgroup v2 directory the probe child joins first (e.g. for a memory.max limit)' },
  asUid: { type: 'int', min: 0, help: 'run the probe child as this uid (and gid), e.g. 65534 to drop CAP_SYS_NICE' },
  oomScoreAdj: { type: 'int', min: -1000, max: 1000, default: 0, help: "the probe child's oom_score_adj (1000: a hog the OOM killer must choose first)" },
};

const mapping: Record<string, ArgSpec> = {
  pages: { type: 'int', min: 1, max: 1 << 20, default: 256, help: 'pages to map and fault (CXL memory is ~100x slower under emulation: keep it small)' },
  backing: { type: 'enum', values: ['anon', 'shmem', 'file'], default: 'anon', help: 'anonymous memory, memfd (shmem), or an unlinked file in --dir (page cache)' },
  dir: { type: 'string', default: '/tmp', help: 'directory for --backing file' },
  fill: { type: 'enum', values: ['zero', 'pattern', 'random'], default: 'pattern', help: 'page contents (random does not compress; zero pages never reach zswap)' },
  seed: { type: 'int', min: 0, max: 2 ** 32 - 1, default: 1, help: 'seed of the pattern/random contents' },
  policy: { type: 'mode', help: 'set_mempolicy mode for the faults only: ' + modeNames.join('|') + ' or a number' },
  policyFlags: { type: 'set', values: modeFlagNames, default: [], help: 'mode flags for --policy' },
  policyNodes: { type: 'nodes', help: 'node list for --policy' },
  mbind: { type: 'mode', help: 'mbind mode applied to the mapping' },
  mbindFlags: { type: 'set', values: modeFlagNames, default: [], help: 'mode flags for --mbind' },
  mbindNodes: { type: 'nodes', help: 'node list for --mbind' },
  mbindMove: { type: 'set', values: moveFlagNames, default: [], help: 'MPOL_MF_* flags for --mbind' },
  mbindAfterFill: { type: 'bool', default: false, help: 'mbind after faulting (so MPOL_MF_MOVE has pages to move)' },
  stopOnNode: { type: 'int', min: 0, max: 1023, help: 'stop faulting at the first page the kernel puts on this node (a hog that proves fallback without filling the node; no --policy)' },
};

export const probeSpecs = {
  nodes: {
    help: 'node facts: online/possible/has_* lists, per-node meminfo, memory tiers, demotion state and pgdemote counters',
    isolated: false,
    args: {},
  },
  mempolicy: {
    help: 'set_mempolicy (when --mode is given), then get_mempolicy readback and MPOL_F_MEMS_ALLOWED',
    isolated: true,
    args: {
      mode: { type: 'mode', help: modeNames.join('|') + ' or a raw number; omit to only read' },
      flags: { type: 'set', values: modeFlagNames, default: [], help: 'mode flags' },
      nodes: { type: 'nodes', default: [], help: 'node list, e.g. 0-1,3' },
      ...isolation,
    },
  },
  place: {
    help: 'map and fault pages (optionally under a policy or mbind) and count them per node (move_pages and get_mempolicy)',
    isolated: true,
    args: { ...mapping, ...isolation },
  },
  'move-pages': {
    help: 'place pages, then move_pages them to --to; per-page status and the placement after',
    isolated: true,
    args: {
      ...mapping,
      to: { type: 'int', min: 0, max: 65535, required: true, help: 'target node' },
      moveAll: { type: 'bool', default: false, help: 'MPOL_MF_MOVE_ALL instead of MPOL_MF_MOVE' },
      ...isolation,
    },
  },
  'migrate-pages': {
    help: 'place pages, then migrate_pages(self, --from, --to); the placement before and after',
    isolated: true,
    args: {
      ...mapping,
      from: { type: 'nodes', required: true, help: 'old nodes' },
      to: { type: 'nodes', required: true, help: 'new nodes' },
      ...isolation,
    },
  },
  'migrate-pid': {
    help: 'migrate_pages(--pid, --from, --to) on another (small) process; its anon pages per node from /proc/PID/numa_maps before and after. Migrating the probe itself would move a whole Node process, which takes minutes on emulated CXL',
    isolated: true,
    args: {
      pid: { type: 'int', min: 1, required: true, help: 'the process whose pages move' },
      from: { type: 'nodes', required: true, help: 'old nodes' },
      to: { type: 'nodes', required: true, help: 'new nodes' },
      ...isolation,
    },
  },
  cpuset: {
    help: 'cgroup v2 cpuset: create a child, enable +cpuset, write cpuset.mems/cpus, read every cpuset.* file, move a process in, read its status',
    isolated: false,
    args: {
      root: { type: 'string', help: 'cgroup v2 mount (default: found in /proc/self/mountinfo)' },
      cgroup: { type: 'string', default: 'cxl-probe', help: 'child cgroup name under the root' },
      mems: { type: 'string', help: 'value written to cpuset.mems (verbatim, so invalid input can be tried)' },
      cpus: { type: 'string', help: 'value written to cpuset.cpus' },
      enable: { type: 'bool', default: true, help: 'write +cpuset to the root cgroup.subtree_control first' },
      moveProcess: { type: 'bool', default: true, help: 'start a sleeping process, move it in, read its /proc status' },
      remove: { type: 'bool', default: true, help: 'remove the child cgroup afterwards' },
    },
  },
  'proc-status': {
    help: 'node lines of /proc/PID/status (Mems_allowed*; Sysram_nodes* on SPM v2 kernels, Mems_default* on v1)',
    isolated: false,
    args: { pid: { type: 'int', min: 1, help: 'process id (default: the probe process)' } },
  },
  zswap: {
    help: 'configure zswap, make sure swap exists, push random pages through swap and report every zswap counter before/during/after',
    isolated: false,
    args: {
      enable: { type: 'bool', default: true, help: 'write Y to /sys/module/zswap/parameters/enabled' },
      compressor: { type: 'string', help: 'zswap compressor (e.g. lzo, zstd)' },
      maxPoolPercent: { type: 'int', min: 0, max: 100, help: 'zswap max_pool_percent' },
      swap: { type: 'enum', values: ['auto', 'zram', 'file', 'none'], default: 'auto', help: 'set up swap when none is active (auto: zram if available, else a file)' },
      swapMiB: { type: 'int', min: 1, max: 65536, default: 64, help: 'size of the swap set up' },
      swapFile: { type: 'string', default: '/var/tmp/cxl-probe.swap', help: 'path of the swap file' },
      pages: { type: 'int', min: 1, max: 1 << 20, default: 256, help: 'pages pushed through swap' },
      fill: { type: 'enum', values: ['zero', 'pattern', 'random'], default: 'random', help: 'page contents' },
      pressure: { type: 'enum', values: ['pageout', 'reclaim'], default: 'pageout', help: 'MADV_PAGEOUT, or memory.reclaim of a child memcg' },
      swapIn: { type: 'bool', default: true, help: 'read the pages back (swap-in) and verify their contents' },
      keepSwap: { type: 'bool', default: true, help: 'leave the swap set up by the probe active' },
      timeoutMs: isolation.timeoutMs!,
    },
  },
  'read-file': {
    help: 'read one file (sysfs, procfs, cgroupfs, debugfs); errno when it cannot be read',
    isolated: false,
    args: { path: { type: 'string', required: true, help: 'file to read' } },
  },
  'write-file': {
    help: 'write one value in one write(2), in a child with a timeout (some sysfs writes never return)',
    isolated: true,
    args: {
      path: { type: 'string', required: true, help: 'file to write' },
      value: { type: 'string', required: true, help: 'text written as is (add \\n yourself if needed)' },
      create: { type: 'bool', default: false, help: 'create the file (O_CREAT) instead of requiring it' },
      ...isolation,
    },
  },
} satisfies Record<string, ProbeSpec>;

export type ProbeName = keyof typeof probeSpecs;
export const probeNames = Object.keys(probeSpecs) as ProbeName[];

export function isProbeName(name: string): name is ProbeName {
  return Object.hasOwn(probeSpecs, name);
}

type ArgValue = number | number[] | string | string[] | boolean;

/** Check one typed value against its spec; throws ProbeArgumentError naming the argument. */
function checkValue(probe: string, key: string, spec: ArgSpec, value: unknown): ArgValue {
  const bad = (what: string): never => {
    throw new ProbeArgumentError(`probe ${probe}: --${key} ${what} (got ${JSON.stringify(value)})`);
  };
  switch (spec.type) {
    case 'int':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) return bad('must be an integer');
      if (spec.min !== undefined && value < spec.min) return bad(`must be >= ${spec.min}`);
      if (spec.max !== undefined && value > spec.max) return bad(`must be <= ${spec.max}`);
      return value;
    case 'nodes':
      if (!Array.isArray(value) || !value.every((n) => Number.isSafeInteger(n) && n >= 0 && n <= 65535))
        return bad('must be a list of node numbers 0..65535');
      return value as number[];
    case 'enum':
      if (typeof value !== 'string' || !spec.values.includes(value)) return bad(`must be one of ${spec.values.join('|')}`);
      return value;
    case 'set':
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && spec.values.includes(v)))
        return bad(`must be a list of ${spec.values.join('|')}`);
      return value as string[];
    case 'mode':
      if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
      if (typeof value === 'string' && (modeNames as string[]).includes(value)) return value;
      return bad(`must be one of ${modeNames.join('|')} or a non-negative number`);
    case 'string':
      if (typeof value !== 'string') return bad('must be a string');
      return value;
    case 'bool':
      if (typeof value !== 'boolean') return bad('must be true or false');
      return value;
  }
}

/** Validate an args object and fill in defaults. Unknown keys and missing required ones throw. */
export function resolveArgs(probe: ProbeName, args: Record<string, unknown>): Record<string, ArgValue> {
  const specs: Record<string, ArgSpec> = probeSpecs[probe].args;
  const out: Record<string, ArgValue> = {};
  for (const key of Object.keys(args)) {
    if (!Object.hasOwn(specs, key)) throw new ProbeArgumentError(`probe ${probe}: unknown argument --${key}`);
  }
  for (const [key, spec] of Object.entries(specs)) {
    const value = args[key];
    if (value === undefined) {
      if ('required' in spec && spec.required) throw new ProbeArgumentError(`probe ${probe}: --${key} is required`);
      if ('default' in spec && spec.default !== undefined) out[key] = spec.default;
      continue;
    }
    out[key] = checkValue(probe, key, spec, value);
  }
  return out;
}

/** Parse one command-line word into the typed value its spec wants. */
function parseWord(probe: string, key: string, spec: ArgSpec, word: string): ArgValue {
  const bad = (what: string): never => {
    throw new ProbeArgumentError(`probe ${probe}: --${key} ${what} (got ${JSON.stringify(word)})`);
  };
  switch (spec.type) {
    case 'int':
      return /^-?\d+$/.test(word) ? Number(word) : bad('must be an integer');
    case 'nodes':
      try {
        return parseNodeList(word);
      } catch {
        return bad('must be a node list like 0-1,3');
      }
    case 'set':
      return word === '' ? [] : word.split(',');
    case 'mode':
      return /^\d+$/.test(word) ? Number(word) : word;
    case 'bool':
      if (['true', '1', 'yes', 'y'].includes(word)) return true;
      if (['false', '0', 'no', 'n'].includes(word)) return false;
      return bad('must be true or false');
    case 'enum':
    case 'string':
      return word;
  }
}

/** argv after the probe name (`--key value`, `--flag`) into validated, defaulted args. */
export function parseProbeArgv(probe: ProbeName, argv: readonly string[]): Record<string, ArgValue> {
  const specs: Record<string, ArgSpec> = probeSpecs[probe].args;
  const raw: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    const m = /^--([A-Za-z][A-Za-z0-9-]*)(?:=(.*))?$/s.exec(word);
    if (!m) throw new ProbeArgumentError(`probe ${probe}: unexpected word ${JSON.stringify(word)} (arguments are --key value)`);
    const key = m[1]!;
    const spec = specs[key];
    if (!spec) throw new ProbeArgumentError(`probe ${probe}: unknown argument --${key}`);
    let value = m[2];
    if (value === undefined) {
      const next = argv[i + 1];
      // A bare boolean flag means true; everything else needs its value.
      if (spec.type === 'bool' && (next === undefined || next.startsWith('--'))) value = 'true';
      else if (next === undefined) throw new ProbeArgumentError(`probe ${probe}: --${key} needs a value`);
      else value = argv[++i]!;
    }
    raw[key] = parseWord(probe, key, spec, value);
  }
  return resolveArgs(probe, raw);
}

/** Typed args into argv words, the inverse of parseProbeArgv (for the host-side client). */
export function formatProbeArgv(probe: ProbeName, args: Record<string, unknown>): string[] {
  const resolved = resolveArgs(probe, args);
  const argv: string[] = [];
  for (const [key, value] of Object.entries(args)) {
    if (value === undefined) continue;
    const v = resolved[key]!;
    const spec: ArgSpec = (probeSpecs[probe].args as Record<string, ArgSpec>)[key]!;
    const word = spec.type === 'nodes' ? formatNodeList(v as number[]) : Array.isArray(v) ? v.join(',') : String(v);
    argv.push(`--${key}=${word}`);
  }
  return argv;
}

/** Human-readable catalogue for `cxl-harness probe --list`. */
export function describeProbes(): string {
  const lines: string[] = [];
  for (const name of probeNames) {
    const spec: ProbeSpec = probeSpecs[name];
    lines.push(`${name}${spec.isolated ? ' (runs in a child process)' : ''}: ${spec.help}`);
    for (const [key, arg] of Object.entries(spec.args)) {
      const type = arg.type === 'enum' || arg.type === 'set' ? `${arg.type}:${arg.values.join('|')}` : arg.type;
      const dflt = 'default' in arg && arg.default !== undefined ? ` [default ${JSON.stringify(arg.default)}]` : '';
      const req = 'required' in arg && arg.required ? ' (required)' : '';
      lines.push(`  --${key} <${type}>${req}${dflt}  ${arg.help}`);
    }
  }
  return lines.join('\n');
}

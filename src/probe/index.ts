/**
 * The probe API. Every probe resolves to a typed result carrying `{ok, errno, code}` (the
 * kernel's answer as data) or, for probes run in a child, a ProbeFailure when that child was
 * killed (signal, OOM), hung (timedOut) or misbehaved. Only misuse throws (ProbeArgumentError).
 */
import { readText } from './sysfs.js';
import { cpusetProbe, procStatusProbe, type CpusetArgs, type CpusetResult, type ProcStatusNodes } from './cpuset.js';
import { runIsolated, type IsolationOptions } from './isolate.js';
import type { MempolicyResult } from './mempolicy.js';
import { nodesProbe, type NodesResult } from './nodes.js';
import type { WriteFileResult } from './operations.js';
import type { MigratePagesResult, MigratePidResult, MovePagesResult, PlacementResult } from './placement.js';
import { probeSpecs, resolveArgs, type ProbeName } from './spec.js';
import type { ProbeArgs, ProbeOutput, ProbeResults } from './types.js';
import { zswapProbe, type ZswapArgs, type ZswapResult } from './zswap.js';

export type { ProbeArgs, ProbeOutput, ProbeResults, ReadFileResult } from './types.js';

/** Arguments validated and defaulted by spec.ts, hence the casts below. */
type Resolved = Record<string, unknown>;

/** Probes that run in this process (they only read files, or manage their own children). */
const inProcess: { [N in ProbeName]?: (args: Resolved) => ProbeResults[N] | Promise<ProbeResults[N]> } = {
  nodes: () => nodesProbe(),
  cpuset: (args) => cpusetProbe(args as unknown as CpusetArgs),
  'proc-status': (args) => procStatusProbe(args.pid as number | undefined),
  zswap: (args) => zswapProbe(args as unknown as ZswapArgs),
  'read-file': (args) => {
    const path = args.path as string;
    const r = readText(path);
    return { probe: 'read-file', ok: r.ok, errno: r.errno, code: r.code, path, ...(r.ok ? { value: r.value } : {}) };
  },
};

/** Run one probe by name. Throws ProbeArgumentError for bad arguments, nothing else. */
export async function runProbe<N extends ProbeName>(name: N, args: ProbeArgs[N] = {} as ProbeArgs[N]): Promise<ProbeOutput<N>> {
  const resolved = resolveArgs(name, args as Record<string, unknown>);
  if (!probeSpecs[name].isolated) return (await inProcess[name]!(resolved)) as ProbeResults[N];
  const { timeoutMs, cgroup, asUid, oomScoreAdj, ...probeArgs } = resolved;
  const isolation: IsolationOptions = {
    ...(timeoutMs !== undefined ? { timeoutMs: timeoutMs as number } : {}),
    ...(cgroup !== undefined ? { cgroup: cgroup as string } : {}),
    ...(asUid !== undefined ? { asUid: asUid as number } : {}),
    ...(oomScoreAdj !== undefined ? { oomScoreAdj: oomScoreAdj as number } : {}),
  };
  return runIsolated<ProbeResults[N]>(name, probeArgs, isolation);
}

export const probeNodes = (): Promise<ProbeOutput<'nodes'>> => runProbe('nodes');
export const probeMempolicy = (args: ProbeArgs['mempolicy'] = {}): Promise<ProbeOutput<'mempolicy'>> => runProbe('mempolicy', args);
export const probePlace = (args: ProbeArgs['place'] = {}): Promise<ProbeOutput<'place'>> => runProbe('place', args);
export const probeMovePages = (args: ProbeArgs['move-pages']): Promise<ProbeOutput<'move-pages'>> => runProbe('move-pages', args);
export const probeMigratePages = (args: ProbeArgs['migrate-pages']): Promise<ProbeOutput<'migrate-pages'>> =>
  runProbe('migrate-pages', args);
export const probeCpuset = (args: ProbeArgs['cpuset'] = {}): Promise<ProbeOutput<'cpuset'>> => runProbe('cpuset', args);
export const probeProcStatus = (args: ProbeArgs['proc-status'] = {}): Promise<ProbeOutput<'proc-status'>> =>
  runProbe('proc-status', args);
export const probeZswap = (args: ProbeArgs['zswap'] = {}): Promise<ProbeOutput<'zswap'>> => runProbe('zswap', args);
export const probeReadFile = (args: ProbeArgs['read-file']): Promise<ProbeOutput<'read-file'>> => runProbe('read-file', args);
export const probeWriteFile = (args: ProbeArgs['write-file']): Promise<ProbeOutput<'write-file'>> => runProbe('write-file', args);

export { isProbeFailure, type ProbeFailure, type IsolationOptions } from './isolate.js';
export { ProbeArgumentError, describeProbes, formatProbeArgv, isProbeName, parseProbeArgv, probeNames, probeSpecs, resolveArgs, type ProbeName } from './spec.js';
export { formatNodeList, parseHexMask, parseNodeList } from './nodelist.js';
export { modes, modeFlags, moveFlags, type Mode, type ModeName, type ModeFlagName, type MoveFlagName } from './policy.js';
export { findCgroup2Root } from './cpuset.js';
export type { CpusetResult, ProcStatusNodes, NodesResult, MempolicyResult, PlacementResult, MovePagesResult, MigratePagesResult, MigratePidResult, ZswapResult, WriteFileResult };
export type { PageCounts } from './placement.js';
export type { ZswapSnapshot, ZswapConsumerResult } from './zswap.js';
export { checkProbeResult, createRemoteProber, type ProbeAnswer, type ProbeTransport, type RemoteProber } from './remote.js';

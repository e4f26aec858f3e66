/** The probe catalogue's types: what each probe takes and answers (shared by the local API and the remote client). */
import type { CpusetArgs, CpusetResult, ProcStatusNodes } from './cpuset.js';
import type { ErrnoOutcome } from './errno.js';
import type { IsolationOptions, ProbeFailure } from './isolate.js';
import type { MempolicyArgs, MempolicyResult } from './mempolicy.js';
import type { NodesResult } from './nodes.js';
import type { WriteFileArgs, WriteFileResult } from './operations.js';
import type { MappingArgs, MigratePagesResult, MigratePidResult, MovePagesResult, PlacementResult } from './placement.js';
import type { ProbeName } from './spec.js';
import type { ZswapArgs, ZswapResult } from './zswap.js';

export interface ReadFileResult extends ErrnoOutcome {
  probe: 'read-file';
  path: string;
  value?: string;
}

/** Arguments each probe takes (all optional but the required ones; defaults come from spec.ts). */
export interface ProbeArgs {
  nodes: Record<string, never>;
  mempolicy: MempolicyArgs & IsolationOptions;
  place: Partial<MappingArgs> & IsolationOptions;
  'move-pages': Partial<MappingArgs> & { to: number; moveAll?: boolean } & IsolationOptions;
  'migrate-pages': Partial<MappingArgs> & { from: number[]; to: number[] } & IsolationOptions;
  'migrate-pid': { pid: number; from: number[]; to: number[] } & IsolationOptions;
  cpuset: Partial<CpusetArgs>;
  'proc-status': { pid?: number };
  zswap: Partial<ZswapArgs>;
  'read-file': { path: string };
  'write-file': WriteFileArgs & IsolationOptions;
}

export interface ProbeResults {
  nodes: NodesResult;
  mempolicy: MempolicyResult;
  place: PlacementResult;
  'move-pages': MovePagesResult;
  'migrate-pages': MigratePagesResult;
  'migrate-pid': MigratePidResult;
  cpuset: CpusetResult;
  'proc-status': ProcStatusNodes;
  zswap: ZswapResult;
  'read-file': ReadFileResult;
  'write-file': WriteFileResult;
}

export type ProbeOutput<N extends ProbeName> = ProbeResults[N] | ProbeFailure;

/** What a probe child can run (isolate.ts sends the name, child.ts looks it up here). */
import { mempolicyProbe, type MempolicyArgs } from './mempolicy.js';
import { migratePagesProbe, migratePidProbe, movePagesProbe, placeProbe, type MappingArgs } from './placement.js';
import { writeText } from './sysfs.js';
import { zswapConsumer } from './zswap.js';

export interface WriteFileArgs {
  path: string;
  value: string;
  create?: boolean;
}

export interface WriteFileResult {
  probe: 'write-file';
  ok: boolean;
  errno: number;
  code: string;
  path: string;
  value: string;
}

export function writeFileProbe(args: WriteFileArgs): WriteFileResult {
  return { probe: 'write-file', ...writeText(args.path, args.value, args.create ?? false), path: args.path, value: args.value };
}

/** Arguments arrive over IPC already validated by spec.ts (resolveArgs) in the parent. */
type Operation = (args: unknown) => unknown;

export const operations: Record<string, Operation | undefined> = {
  mempolicy: (args) => mempolicyProbe(args as MempolicyArgs),
  place: (args) => placeProbe(args as MappingArgs),
  'move-pages': (args) => movePagesProbe(args as MappingArgs & { to: number; moveAll?: boolean }),
  'migrate-pages': (args) => migratePagesProbe(args as MappingArgs & { from: number[]; to: number[] }),
  'migrate-pid': (args) => migratePidProbe(args as { pid: number; from: number[]; to: number[] }),
  'write-file': (args) => writeFileProbe(args as WriteFileArgs),
  'zswap-consumer': (args) => zswapConsumer(args as Parameters<typeof zswapConsumer>[0]),
};

/**
 * Loads build/Release/cxl_probe.node once, relative to this module, which sits two levels
 * below the package root both as src/probe/*.ts (tests) and dist/probe/*.js (host and guest:
 * /opt/cxl-harness/dist/probe next to /opt/cxl-harness/build/Release).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** An opaque handle to a mapping owned by the addon (unmapped on unmap() or garbage collection). */
export type MapHandle = { readonly __mapHandle: unique symbol };

export interface StatusReply {
  errno: number;
  /** Per page: the node it is on, or a negative errno (-ENOENT: not present, -EFAULT...). */
  status: number[];
}

export interface NativeProbes {
  maxnode(): number;
  setMempolicy(modeAndFlags: number, nodes: readonly number[] | null): number;
  getMempolicy(flags: number, map: MapHandle | null, page: number): { errno: number; mode: number; nodes: number[] };
  mbind(map: MapHandle, modeAndFlags: number, nodes: readonly number[] | null, flags: number): number;
  mapPages(pages: number, backing: number, dir: string): { errno: number; pageSize: number; map?: MapHandle };
  fill(map: MapHandle, fill: number, seed: number, modeAndFlags?: number, nodes?: readonly number[] | null): number;
  fillUntilNode(map: MapHandle, fill: number, seed: number, node: number, every: number): number;
  verify(map: MapHandle, fill: number, seed: number): number;
  /** Where the first `pages` pages are (all of them when omitted). */
  locate(map: MapHandle, pages?: number): StatusReply;
  move(map: MapHandle, node: number, flags: number): StatusReply;
  migrate(pid: number, from: readonly number[], to: readonly number[]): { errno: number; notMigrated: number };
  unmap(map: MapHandle): void;
  pageout(map: MapHandle): number;
  swapon(path: string, flags: number): number;
  swapoff(path: string): number;
  mountDebugfs(target: string): number;
}

const symbols: ReadonlyArray<keyof NativeProbes> = [
  'maxnode', 'setMempolicy', 'getMempolicy', 'mbind', 'mapPages', 'fill', 'fillUntilNode', 'verify', 'locate',
  'move', 'migrate', 'unmap', 'pageout', 'swapon', 'swapoff', 'mountDebugfs',
];

export const addonPath = fileURLToPath(new URL('../../build/Release/cxl_probe.node', import.meta.url));

let loaded: NativeProbes | undefined;

export function native(): NativeProbes {
  if (loaded) return loaded;
  if (!existsSync(addonPath)) {
    throw new Error(`probe addon not found at ${addonPath}; build it with \`npm run build:native\``);
  }
  const addon = createRequire(import.meta.url)(addonPath) as Partial<NativeProbes>;
  for (const name of symbols) {
    if (typeof addon[name] !== 'function') {
      throw new Error(`probe addon ${addonPath} has no function ${name}(); it is stale, rebuild it with \`npm run build:native\``);
    }
  }
  loaded = addon as NativeProbes;
  return loaded;
}

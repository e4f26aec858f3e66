/**
 * The churn thread of the repro loop (steps/pages.ts churn-start): moves its pages to the CXL
 * node and back (move_pages, or move_pages there and migrate_pages back) until told to stop,
 * counting rounds in the shared buffer, then reports errors by errno and corruption.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { native } from '../../probe/native.js';
import { fills } from '../../probe/placement.js';
import { moveFlags } from '../../probe/policy.js';
import type { ChurnKind } from '../../contract/repro-protocol.js';
import type { ChurnStats } from './state.js';
import { errnoOf, pagesWhere } from './where.js';

export interface ChurnJob {
  kind: ChurnKind;
  pages: number;
  node: number;
  /** Int32 [0]: set to 1 to stop; [1]: rounds done. */
  stop: SharedArrayBuffer;
}

const PATTERN_SEED = 7;

function churn({ kind, pages, node, stop }: ChurnJob): ChurnStats {
  const a = native();
  const flag = new Int32Array(stop);
  const m = a.mapPages(pages, 0, '/tmp');
  if (!m.map) throw new Error(`mmap of ${pages} pages failed: ${errnoOf(m.errno)}`);
  a.fill(m.map, fills.pattern, PATTERN_SEED);
  const errors: Record<string, number> = {};
  const pageErrors: Record<string, number> = {};
  const count = (table: Record<string, number>, key: string): void => {
    table[key] = (table[key] ?? 0) + 1;
  };
  let rounds = 0;
  let moves = 0;
  while (Atomics.load(flag, 0) === 0) {
    const to = a.move(m.map, node, moveFlags.move);
    if (to.errno) count(errors, `move_pages:${errnoOf(to.errno)}`);
    for (const s of to.status) if (s < 0) count(pageErrors, errnoOf(s));
    if (kind === 'migrate_pages') {
      const back = a.migrate(process.pid, [node], [0]);
      if (back.errno) count(errors, `migrate_pages:${errnoOf(back.errno)}`);
    } else {
      const back = a.move(m.map, 0, moveFlags.move);
      if (back.errno) count(errors, `move_pages:${errnoOf(back.errno)}`);
    }
    rounds++;
    moves += 2;
    Atomics.store(flag, 1, rounds);
    Atomics.notify(flag, 1);
  }
  const corruptPages = a.verify(m.map, fills.pattern, PATTERN_SEED);
  const placed = pagesWhere(a.locate(m.map).status);
  a.unmap(m.map);
  return { rounds, moves, errors, pageErrors, corruptPages, placed };
}

parentPort?.postMessage(churn(workerData as ChurnJob));

/**
 * Page steps: pages held on the CXL node (bound there, filled with a pattern) and released
 * (where they are now, are they intact), and a churn thread moving pages to the node and back
 * while other steps run (a worker thread of this process: no process start per cycle).
 */
import { Worker } from 'node:worker_threads';
import { native } from '../../../probe/native.js';
import { fills } from '../../../probe/placement.js';
import { modes } from '../../../probe/policy.js';
import { siblingModule } from '../../../probe/sibling.js';
import type { ChurnJob } from '../churn-worker.js';
import { pick } from '../prng.js';
import { noRegion, type ChurnEnd, type StepHandlers } from '../state.js';
import { errnoOf, pagesWhere } from '../where.js';

const churnWorker = siblingModule(import.meta.url, '../churn-worker');

export const pageSteps: StepHandlers<'hold' | 'release' | 'churn-start' | 'churn-stop'> = {
  hold: (step, st, ctx) => {
    if (st.node === undefined) return noRegion('no CXL node: run create-region first');
    const a = native();
    const pages = pick(step.pages ?? 256, ctx.rand);
    const m = a.mapPages(pages, 0, '/tmp');
    if (m.errno || !m.map) return { ok: false, code: errnoOf(m.errno), error: 'mmap failed' };
    const mb = a.mbind(m.map, modes.bind, [st.node], 0);
    if (mb) {
      a.unmap(m.map);
      return { ok: false, code: errnoOf(mb), error: `mbind to node ${st.node} failed: ${errnoOf(mb)}` };
    }
    const seed = Math.floor(ctx.rand() * 2 ** 31);
    const f = a.fill(m.map, fills.pattern, seed);
    const where = pagesWhere(a.locate(m.map).status);
    st.holds.push({ map: m.map, pages, seed, node: st.node });
    const onNode = where[`node${st.node}`] ?? 0;
    return { ok: f === 0 && onNode === pages, ...(onNode === pages ? {} : { code: 'NOT_PLACED', error: `${onNode}/${pages} pages landed on node ${st.node}` }), pages, node: st.node, placed: where };
  },

  release: (step, st) => {
    if (!st.holds.length) return { ok: false, code: 'NOTHING_HELD', error: 'no held pages: run hold first' };
    const a = native();
    const holds = [];
    let ok = true;
    let error: string | undefined;
    for (const h of st.holds.splice(0)) {
      const where = pagesWhere(a.locate(h.map).status);
      const corrupt = a.verify(h.map, fills.pattern, h.seed);
      a.unmap(h.map);
      holds.push({ pages: h.pages, boundTo: h.node, placed: where, corruptPages: corrupt });
      if (corrupt !== 0) {
        ok = false;
        error = `${corrupt} page(s) corrupt after the offline`;
      }
      const stillOnNode = where[`node${h.node}`] ?? 0;
      if (step.expectMoved && stillOnNode > 0) {
        ok = false;
        error ??= `${stillOnNode} page(s) still on node ${h.node}`;
      }
    }
    return { ok, ...(ok ? {} : { code: 'PAGES_BAD', error }), holds };
  },

  'churn-start': (step, st, ctx) => {
    if (st.node === undefined) return noRegion('no CXL node: run create-region first');
    const kind = step.kind ?? 'move_pages';
    const pages = step.pages ?? 64;
    const stop = new SharedArrayBuffer(8);
    const worker = new Worker(churnWorker, { workerData: { kind, pages, node: st.node, stop } satisfies ChurnJob });
    const done = new Promise<ChurnEnd>((resolve) => {
      worker.once('message', resolve);
      worker.once('error', (e) => resolve({ crashed: String(e) }));
      worker.once('exit', (code) => resolve({ exited: code }));
    });
    st.churn = { stop, done, kind };
    // Concurrent means concurrent: return only once the mover has finished a first round.
    const shared = new Int32Array(stop);
    const started = Date.now();
    while (Atomics.load(shared, 1) === 0 && Date.now() - started < ctx.timeoutMs) Atomics.wait(shared, 1, 0, 50);
    const rounds = Atomics.load(shared, 1);
    return { ok: rounds > 0, ...(rounds > 0 ? {} : { code: 'NOT_STARTED', error: 'the mover thread did not complete a round' }), kind, pages, node: st.node, startMs: Date.now() - started };
  },

  'churn-stop': async (_step, st) => {
    if (!st.churn) return { ok: false, code: 'NO_CHURN', error: 'no churn running: run churn-start first' };
    Atomics.store(new Int32Array(st.churn.stop), 0, 1);
    const stats = await st.churn.done;
    const { kind } = st.churn;
    st.churn = undefined;
    if (!('rounds' in stats)) return { ok: false, code: 'CHURN_BAD', error: 'crashed' in stats ? stats.crashed : 'the mover made no round', kind, ...stats };
    const ok = stats.corruptPages === 0 && stats.rounds > 0;
    return { ok, ...(ok ? {} : { code: 'CHURN_BAD', error: stats.corruptPages ? `${stats.corruptPages} corrupt page(s)` : 'the mover made no round' }), kind, ...stats };
  },
};

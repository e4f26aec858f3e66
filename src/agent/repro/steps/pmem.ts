/**
 * Persistent-memory steps: a pmem region, its devdax namespace and its memory online as system
 * RAM, and all of it taken down (the agent's flows, src/agent/cxl/pmem.ts). The region, dax
 * device, node and blocks go into the loop's state, so the memory steps (offline-memory,
 * online-memory) work on pmem memory too.
 */
import * as cxl from '../../cxl/index.js';
import { recorder, type SubStep } from '../io.js';
import type { StepResult } from '../../../contract/repro-protocol.js';
import { noRegion, type StepHandlers } from '../state.js';

export const pmemSteps: StepHandlers<'pmem-online' | 'pmem-offline'> = {
  'pmem-online': (step, st, ctx): StepResult => {
    const sub: SubStep[] = [];
    const on = cxl.onlinePmem({ ...(step.memdev ? { memdev: step.memdev } : {}), timeoutMs: ctx.timeoutMs }, recorder(sub));
    st.region = on.region;
    st.dax = on.dax;
    st.node = on.node;
    st.blocks = on.ok ? on.blocks : undefined;
    const { ok, code, error, region, namespace, dax, node } = on;
    return { ok, ...(ok ? {} : { code, error }), region, namespace, dax, node, blocks: st.blocks?.length ?? 0, ...(node !== undefined ? { nodeFacts: cxl.nodeMemory(node) } : {}), sub };
  },

  'pmem-offline': (_step, st, ctx): StepResult => {
    const region = st.region;
    if (!region) return noRegion('no pmem region to take down: run pmem-online first');
    const sub: SubStep[] = [];
    const r = cxl.offlinePmem({ region, timeoutMs: ctx.timeoutMs }, recorder(sub));
    // Its memory would not go offline: the region stays, as it was.
    if (!r.ok && (r.code === 'OFFLINE_FAILED' || r.code === 'DEVDAX_FAILED')) return { ok: false, code: r.code, error: r.error, region, sub };
    st.region = undefined;
    st.dax = undefined;
    st.blocks = undefined;
    return { ok: r.ok, ...(r.ok ? {} : { code: r.code, error: r.error }), region, node: r.node, left: r.left, ...(r.node !== undefined ? { nodeFacts: cxl.nodeMemory(r.node) } : {}), sub };
  },
};

/**
 * Region steps: a region made (ndctl or the manual sysfs flow, optionally isolated as the kernel's generation does it) and
 * onlined as system RAM, its memory blocks offlined and onlined, kmem bound, the region
 * destroyed. The flows are the agent's (src/agent/cxl/); a step keeps their commands and
 * writes as `sub`.
 */
import { join } from 'node:path';
import * as cxl from '../../cxl/index.js';
import { recorder, writeAttr, type SubStep } from '../io.js';
import type { StepResult } from '../../../contract/repro-protocol.js';
import { noRegion, type StepHandlers } from '../state.js';

const { DAX, MEMORY, blockStates, nodeMemory, offlineBlocksBounded, read, setBlocks } = cxl;

export const regionSteps: StepHandlers<'create-region' | 'destroy-region' | 'offline-memory' | 'online-memory' | 'bind-kmem'> = {
  'create-region': (step, st, ctx) => {
    const sub: SubStep[] = [];
    const record = recorder(sub);
    const { decoder, memdevs } = cxl.pickTargets({ memdev: step.memdev });
    if (!decoder || !memdevs.length) return { ok: false, code: 'NO_TARGET', error: `no root decoder with a free memdev for each of its interleave positions${step.memdev ? ` (wanted ${step.memdev})` : ''}` };
    const isolate = step.isolate ? ctx.isolation : step.spm !== undefined ? { kind: 'bit' as const, attr: 'spm_node', value: String(step.spm) } : undefined;
    if (step.isolate && !isolate) return { ok: false, code: 'NO_ISOLATION', error: 'the kernel\'s generation has no way to isolate a node (the host gave the loop none)' };
    const made = cxl.createRegion({ decoder, memdevs, method: step.method ?? 'ndctl', ...(isolate ? { isolate } : {}) }, record);
    st.region = made.region;
    if (!made.ok || !made.region) return { ok: false, code: made.code, error: made.error, ...(made.region ? { region: made.region } : {}), sub };
    const region = made.region;
    // Probing is synchronous with the bind: a dax device still without a driver after a few
    // seconds was refused (e.g. kmem's "memory add failed" on a node-type conflict).
    const on = cxl.onlineMemoryOf(region, { timeoutMs: ctx.timeoutMs, driverTimeoutMs: Math.min(ctx.timeoutMs, 5000), blockSize: ctx.blockSize }, record);
    if (!on.dax) return { ok: false, code: 'NO_DAX', error: `${region} got no dax device`, region, sub };
    // With a dax device, onlineMemoryOf always names its node.
    const node = on.node!;
    st.dax = on.dax;
    st.node = node;
    if (on.code === 'NOT_KMEM') return { ok: false, code: on.code, error: on.error, region, dax: on.dax, node, sub };
    st.blocks = on.blocks ?? [];
    return {
      ok: on.ok, ...(on.ok ? {} : { code: 'NOT_ONLINE', error: `blocks of ${on.dax} did not all come online` }),
      region, dax: on.dax, node, blocks: st.blocks.length, daxAttrs: cxl.isolationAttrs(join(DAX, on.dax)), nodeFacts: nodeMemory(node), sub,
    };
  },

  'destroy-region': (_step, st, ctx) => {
    const region = st.region;
    if (!region) return noRegion('no region to destroy');
    const sub: SubStep[] = [];
    const r = cxl.destroyRegion(region, { offline: 'blocks', force: true, timeoutMs: ctx.timeoutMs, node: st.node, blockSize: ctx.blockSize }, recorder(sub));
    // Offlining or disabling refused: the region stays, as it was.
    if (!r.ok && r.code !== 'DESTROY_FAILED') return { ok: false, code: r.code, error: r.error, region, sub };
    st.region = undefined;
    st.dax = undefined;
    st.blocks = undefined;
    const nf = r.nodeFacts && { node: r.nodeFacts.node, memTotalKiB: r.nodeFacts.memTotalKiB, memFreeKiB: r.nodeFacts.memFreeKiB, hasMemory: r.nodeFacts.hasMemory };
    return { ok: r.ok, ...(r.ok ? {} : { code: r.code, error: r.error }), region, node: r.node, nodeFacts: nf, sub };
  },

  'offline-memory': (step, st, ctx) => {
    if (!st.blocks?.length || st.node === undefined) return noRegion('no online region: run create-region first');
    const results = step.timeoutS
      ? offlineBlocksBounded(step.order === 'reverse' ? [...st.blocks].reverse() : st.blocks, step.timeoutS)
      : setBlocks(st.blocks, 'offline', step.order ?? 'forward', ctx.rand);
    const failed = results.filter((r) => !r.ok);
    return {
      ok: failed.length === 0 && blockStates(st.blocks).every((s) => s === 'offline'),
      ...(failed.length ? { code: failed[0]!.code, error: `${failed.length} block(s) refused offline: ${[...new Set(failed.map((f) => f.code))].join(',')}` } : {}),
      node: st.node, blocks: results, nodeFacts: nodeMemory(st.node),
    };
  },

  'online-memory': (step, st, ctx) => {
    if (!st.blocks?.length || st.node === undefined) return noRegion('no region: run create-region first');
    const results = setBlocks(st.blocks, step.zone ?? 'online_movable', step.order ?? 'forward', ctx.rand);
    const failed = results.filter((r) => !r.ok);
    return {
      ok: failed.length === 0 && blockStates(st.blocks).every((s) => s === 'online'),
      ...(failed.length ? { code: failed[0]!.code, error: `${failed.length} block(s) refused online: ${failed[0]!.code}` } : {}),
      node: st.node, blocks: results, zones: [...new Set(st.blocks.map((b) => read(join(MEMORY, `memory${b}`, 'valid_zones'))))], nodeFacts: nodeMemory(st.node),
    };
  },

  'bind-kmem': (_step, st): StepResult => {
    if (!st.dax) return noRegion('no dax device: run create-region first');
    const w = writeAttr('/sys/bus/dax/drivers/kmem/bind', st.dax);
    return { ...w, ...(w.ok ? {} : { error: `binding ${st.dax} to kmem: ${w.code}` }), dax: st.dax, driver: cxl.driverOf(join(DAX, st.dax)), daxAttrs: cxl.isolationAttrs(join(DAX, st.dax)) };
  },
};

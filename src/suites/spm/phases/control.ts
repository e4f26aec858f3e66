/**
 * Phase 2: the control node C, hot-added with `cxl create-region` and no bit, an ordinary
 * SysRAM node on every kernel; then the version's region/dax bit as C's devices show it.
 */
import { isProbeFailure } from '../../../probe/isolate.js';
import { onlineRegion } from '../../../remote/region.js';
import type { CheckApi, SuiteContext } from '../../check.js';
import type { Nodes } from '../rows.js';
import { readNodes, readValue, writeValue } from '../guest-io.js';
import { CG, CXL, DAX, NODE, PAGES, bitOf, type Phase, type SpmState } from '../state.js';

/** The root's cpuset file of ordinary nodes, where the version has one (v1 cpuset.mems.default, v2/v3 cpuset.mems.sysram). */
export async function readOrdinary(ctx: Pick<SuiteContext, 'guest'>, st: SpmState, cgroup = CG): Promise<number[] | undefined> {
  const file = st.gen.iface.nodesFile;
  return file ? ((await readNodes(ctx.guest, `${cgroup}/${file}`)) ?? []) : undefined;
}

export const controlPhase: Phase = async (ctx, st, row) => {
  await row('control', async (c: CheckApi, n: Nodes) => {
    const on = await onlineRegion(c.guest, { method: 'ndctl' });
    c.require('the agent ran the region online flow', on.ok, on.ok ? undefined : on.error);
    st.control = on.value;
    c.require('the control region came online', on.value.ok && on.value.node !== undefined, on.value.error);
    n.control = on.value.node!;
    const status = await c.guest.probe.run('proc-status', {});
    const place = await c.guest.probe.run('place', { pages: PAGES, mbind: 'bind', mbindNodes: [n.control] });
    const ordinary = await readOrdinary(c, st);
    const hasPrivate = await readNodes(c.guest, `${NODE}/has_private_memory`);
    return {
      ok: on.value.ok,
      node: n.control,
      hasMemory: (await readNodes(c.guest, `${NODE}/has_memory`)) ?? [],
      ...(hasPrivate ? { hasPrivate } : {}),
      ...(ordinary ? { ordinary } : {}),
      statusField: isProbeFailure(status) ? null : status.field,
      statusNodes: isProbeFailure(status) ? [] : status.nodes,
      placedOnControl: isProbeFailure(place) ? 0 : place.placed?.nodes[String(n.control)] ?? 0,
      pages: PAGES,
    };
  });
  if (st.gen.isolate) await noteDemotionNull(ctx);

  const attr = bitOf(st);
  const controlDax = (): string => `${DAX}/${st.control!.dax}/${attr}`;
  const controlRegion = (): string => `${CXL}/${st.control!.region}/${attr}`;
  await row('spmAttrs', async (c: CheckApi) => {
    const dax = await readValue(c.guest, controlDax());
    const region = await readValue(c.guest, controlRegion());
    return { attr, dax: { exists: dax.exists, ...(dax.value !== undefined ? { value: dax.value } : {}) }, region: { exists: region.exists, ...(region.value !== undefined ? { value: region.value } : {}) } };
  }, ['control']);
  await row('spmInvalid', async (c: CheckApi) => ({
    attr,
    writes: [
      { value: '2', code: await writeValue(c.guest, controlRegion(), '2') },
      { value: 'x', code: await writeValue(c.guest, controlRegion(), 'x') },
    ],
  }), ['control']);
  await row('spmBusy', async (c: CheckApi) => {
    const before = (await readValue(c.guest, controlDax())).value;
    const code = await writeValue(c.guest, controlDax(), '1');
    const after = (await readValue(c.guest, controlDax())).value;
    return { attr, writes: [{ value: '1', code }], ...(before !== undefined ? { before } : {}), ...(after !== undefined ? { after } : {}) };
  }, ['control']);
  await row('regionBitAfterBind', async (c: CheckApi, n: Nodes) => {
    const writeCode = await writeValue(c.guest, controlRegion(), '1');
    const regionAfter = (await readValue(c.guest, controlRegion())).value;
    const daxAfter = (await readValue(c.guest, controlDax())).value;
    const ordinary = (await readOrdinary(c, st)) ?? [];
    await writeValue(c.guest, controlRegion(), '0');
    return { attr, writeCode, ...(regionAfter !== undefined ? { regionAfter } : {}), ...(daxAfter !== undefined ? { daxAfter } : {}), controlInOrdinary: ordinary.includes(n.control) };
  }, ['control']);
};

/** v1/v2 oddity (spm-interface.md §2.6): "Demotion targets for Node 0: null" although a SysRAM CXL node is in a lower tier. */
async function noteDemotionNull(ctx: SuiteContext): Promise<void> {
  const r = await ctx.guest.run('dmesg-demotion', 'dmesg | grep "Demotion targets for Node 0" | tail -1');
  if (/null/.test(r.stdout)) {
    await ctx.observe({ id: 'spm.oddity.demotion_null', title: 'the kernel log says "Demotion targets for Node 0: null" with a SysRAM CXL node online', detail: `${r.stdout.trim()} (demotion still reaches it through the fallback path; do not read it as demotion off)` });
  }
}

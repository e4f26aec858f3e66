/**
 * Phase 3: S, the node the version sets apart, brought online its way (stock: the same manual
 * flow, an ordinary node), and the rows that need it fresh: the hugetlb pool first (v2 spins in
 * exactly that state), the type latch, the bit on S's dax device, v3's private_type.
 */
import { offlineRegion, onlineRegion } from '../../../remote/region.js';
import { isProbeFailure } from '../../../probe/isolate.js';
import { topologyDevices } from '../../../qemu/topology.js';
import type { CheckApi } from '../../check.js';
import { dmesgLines, dmesgSince, readNodes, readValue, writeValue } from '../guest-io.js';
import { ROWS, type ConflictCase, type Nodes } from '../rows.js';
import { CXL, DAX, NODE, bitOf, type Phase } from '../state.js';
import { readOrdinary } from './control.js';

/** How long the hugetlb write may stay in the kernel: stock grows the pool of S in 3.3 s under TCG (plus a probe start). */
const HUGETLB_BOUND_MS = 15_000;

export const isolatedPhase: Phase = async (ctx, st, row) => {
  // v3 registers a private node when the region driver probes, and refuses a private region
  // without a type there: the same flow as S's, without the type, then the region removed.
  await row('bindWithoutType', async (c: CheckApi) => {
    const mark = await dmesgLines(c.guest);
    const on = await onlineRegion(c.guest, { method: 'sysfs', isolate: { kind: 'private' } });
    c.require('the agent ran the region online flow', on.ok, on.ok ? undefined : on.error);
    const code = (attr: string): string => {
      const w = on.value.steps.find((s) => 'write' in s && s.write.endsWith(attr));
      return w && 'write' in w ? (w.ok ? 'OK' : w.code ?? 'EIO') : 'NOT_WRITTEN';
    };
    const privateAfterBind = (await readNodes(c.guest, `${NODE}/has_private_memory`)) ?? [];
    const log = await dmesgSince(c.guest, mark);
    const removed = on.value.region ? await offlineRegion(c.guest, on.value.region) : undefined;
    return {
      commitCode: code('/commit'), bindCode: code('/cxl_region/bind'), privateAfterBind,
      logged: log.some((l) => /private_type must be set before commit/.test(l)),
      removed: removed?.ok === true && removed.value.ok,
    };
  });

  await row('spmOnline', async (c: CheckApi, n: Nodes) => {
    const devices = topologyDevices(ctx.topology).length;
    c.require('the topology has a second CXL device for S', devices >= 2, `topology ${ctx.topology.name} has ${devices}; use --topology spm-pair`);
    const mark = await dmesgLines(c.guest);
    const on = await onlineRegion(c.guest, { method: 'sysfs', ...(st.gen.isolate ? { isolate: st.gen.isolate } : {}) });
    c.require('the agent ran the region online flow', on.ok, on.ok ? undefined : on.error);
    st.spm = on.value;
    const complaints = (await dmesgSince(c.guest, mark)).filter((l) => /\b(failed|error)\b/i.test(l));
    n.spm = on.value.node ?? -1;
    const status = await c.guest.probe.run('proc-status', {});
    const ordinary = await readOrdinary(c, st);
    const hasPrivate = await readNodes(c.guest, `${NODE}/has_private_memory`);
    return {
      ok: on.value.ok,
      ...(on.value.node !== undefined ? { node: on.value.node } : {}),
      hasMemory: (await readNodes(c.guest, `${NODE}/has_memory`)) ?? [],
      ...(hasPrivate ? { hasPrivate } : {}),
      memsEffective: (await readNodes(c.guest, '/sys/fs/cgroup/cpuset.mems.effective')) ?? [],
      ...(ordinary ? { ordinary } : {}),
      statusField: isProbeFailure(status) ? null : status.field,
      statusNodes: isProbeFailure(status) ? [] : status.nodes,
      ...(on.value.regionAttrs ? { regionAttrs: on.value.regionAttrs } : {}),
      ...(on.value.daxAttrs ? { daxAttrs: on.value.daxAttrs } : {}),
      complaints,
    };
  });

  // The hugetlb row right after S comes online: on v2 the write spins every time in that state
  // (measured on fresh boots with S online, with or without C, after C went offline, with node
  // 0's pool grown or not), but returned at once after the later rows had run (zswap,
  // pressure): at the end it hid the bug it exists for. It runs in a probe child SIGKILLed at
  // the bound (SIGKILL ends the spin), so the spin costs the bound and no vCPU afterwards.
  await row('hugetlb', async (c: CheckApi, n: Nodes) => {
    const file = `${NODE}/node${n.spm}/hugepages/hugepages-2048kB/nr_hugepages`;
    const started = Date.now();
    const code = await writeValue(c.guest, file, '4', { timeoutMs: HUGETLB_BOUND_MS });
    const durationMs = Date.now() - started;
    const read = await readValue(c.guest, file);
    const pool = read.value !== undefined ? Number(read.value) : null;
    if (code === 'TIMED_OUT') {
      await ctx.observe({ id: 'spm.oddity.hugetlb_spin', title: 'growing the hugetlb pool of S never returns', detail: `echo 4 > ${file} was still in the kernel after ${(durationMs / 1000).toFixed(1)} s and was SIGKILLed (the spin ended with it); pool on S: ${pool}`, check: ROWS.hugetlb.id });
    }
    if (pool) await writeValue(c.guest, file, '0');
    return { timedOut: code === 'TIMED_OUT', code, durationMs, boundMs: HUGETLB_BOUND_MS, poolOnSpm: pool };
  }, ['spm']);

  const attr = bitOf(st);
  await row('typeConflict', async (c: CheckApi, n: Nodes) => ({
    sysramGetsSpm: await rebindWithBit(c, attr, st.control!.dax!, n.control, '1', '0'),
    spmGetsSysram: await rebindWithBit(c, attr, st.spm!.dax!, n.spm, '0', '1'),
  }), ['control', 'spm']);

  await row('spmFoo', async (c: CheckApi) => {
    const file = `${DAX}/${st.spm!.dax}/${attr}`;
    const before = (await readValue(c.guest, file)).value;
    c.require(`S's dax device has ${attr}=1`, before === '1', `${attr}=${before}`);
    const code = await writeValue(c.guest, file, 'foo');
    const after = (await readValue(c.guest, file)).value;
    return { attr, writes: [{ value: 'foo', code }], before, ...(after !== undefined ? { after } : {}) };
  }, ['spm']);

  // v3's type attribute, after commit, on the ordinary region C and on S.
  await row('privateType', async (c: CheckApi) => {
    const attrOf = async (region: string): Promise<{ exists: boolean; value?: string; writes: Array<{ value: string; code: string }> }> => {
      const file = `${CXL}/${region}/private_type`;
      const r = await readValue(c.guest, file);
      if (!r.exists) return { exists: false, writes: [] };
      const writes = [];
      for (const value of ['zswap', 'bogus']) writes.push({ value, code: await writeValue(c.guest, file, value) });
      return { exists: true, ...(r.value !== undefined ? { value: r.value } : {}), writes };
    };
    const control = await attrOf(st.control!.region!);
    const spm = await attrOf(st.spm!.region!);
    const mode = (await readValue(c.guest, `${CXL}/${st.spm!.region}/mode`)).value;
    return { control, spm: { ...spm, ...(mode !== undefined ? { mode } : {}) } };
  }, ['control', 'spm']);
};

/**
 * Offline a node's dax device, unbind kmem, set the bit the node's latched type refuses and
 * bind kmem again (the hot-add must fail); then put it back with its own bit, online. A bind
 * that did not fail onlined the memory: it goes offline again before kmem lets go of it.
 */
async function rebindWithBit(c: CheckApi, attr: string, dax: string, node: number, wrong: '0' | '1', own: '0' | '1'): Promise<ConflictCase> {
  const off = await c.guest.run('daxctl-offline', ['daxctl', 'offline-memory', dax]);
  c.require(`the memory of ${dax} went offline`, off.exitCode === 0, off.stderr);
  c.require(`kmem unbound from ${dax}`, (await writeValue(c.guest, '/sys/bus/dax/drivers/kmem/unbind', dax)) === 'OK');
  c.require(`${attr}=${wrong} accepted while unbound`, (await writeValue(c.guest, `${DAX}/${dax}/${attr}`, wrong)) === 'OK');
  const mark = await dmesgLines(c.guest);
  const bindCode = await writeValue(c.guest, '/sys/bus/dax/drivers/kmem/bind', dax);
  const log = await dmesgSince(c.guest, mark);
  if (bindCode === 'OK') await c.guest.run('daxctl-offline', ['daxctl', 'offline-memory', dax]);
  await writeValue(c.guest, '/sys/bus/dax/drivers/kmem/unbind', dax);
  await writeValue(c.guest, `${DAX}/${dax}/${attr}`, own);
  const rebind = await writeValue(c.guest, '/sys/bus/dax/drivers/kmem/bind', dax);
  await c.guest.run('daxctl-online', ['daxctl', 'online-memory', dax]);
  const hasMemory = (await readNodes(c.guest, `${NODE}/has_memory`)) ?? [];
  return { bindCode, memoryAddFailedLogged: log.some((l) => /memory add failed/.test(l)), restored: rebind === 'OK' && hasMemory.includes(node) };
}

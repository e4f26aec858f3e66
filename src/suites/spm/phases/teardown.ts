/**
 * Phase 7: C goes offline, then memory pressure (node 0's only fallback is then S), then S
 * goes offline (which also moves back whatever refaulted onto S under pressure), and no node
 * state may still name S.
 */
import { killAgentCommand } from '../../../remote/agent.js';
import { parkNode, unparkNode } from '../../../remote/park.js';
import { offlineRegion } from '../../../remote/region.js';
import { isProbeFailure } from '../../../probe/isolate.js';
import type { CheckApi } from '../../check.js';
import { dmesgLines, dmesgSince, readNodes, readValue } from '../guest-io.js';
import { ROWS, type Nodes } from '../rows.js';
import { CG, NODE, type Phase } from '../state.js';

/** What the pressure check leaves free on node 0 for everyone else while the hog runs. */
const PARK_FREE_MIB = 96;
/**
 * Test aid (test/e2e/24.pressure-park.test.ts): CXL_HARNESS_SPM_FAULT=park-agent-lost kills the
 * guest agent while it parks node 0, to prove what the row and the rest of the run do then.
 */
const SPM_FAULT = 'CXL_HARNESS_SPM_FAULT';

export const teardownPhase: Phase = async (ctx, st, row) => {
  await row('offlineControl', async (c: CheckApi) => {
    const r = await offlineRegion(c.guest, st.control!.region!);
    c.require('the agent ran the region offline flow', r.ok, r.ok ? undefined : r.error);
    return { ok: r.value.ok, ...(r.value.error ? { error: r.value.error } : {}), hasMemory: r.value.nodeFacts?.hasMemory ?? false, memTotalKiB: r.value.nodeFacts?.memTotalKiB ?? null };
  }, ['control']);
  // With C offline, node 0's fallback is S alone (stock) or nothing (the series); offlining S at
  // the end moves whatever other processes refaulted onto S back to node 0.
  await row('pressure', async (c: CheckApi, n: Nodes) => {
    // Filling 2 GiB of node 0 under TCG takes minutes and pushes everyone's page cache around:
    // park most of node 0's free memory first. The hog then asks for all of node 0 (more than it
    // has free, page cache and all), so a kernel that keeps S out must OOM; it stops at its first
    // page on S, so a kernel that falls back proves it after a few pages of slow CXL memory. S's
    // allocation counters (numastat, monotonic) say whether anything was allocated on S
    // meanwhile, whatever the OOM killer freed afterwards.
    const cg = await c.guest.probe.run('cpuset', { cgroup: 'cxlh-hog', mems: `0,${n.spm}`, moveProcess: false, remove: false });
    c.require('the hog cgroup was made', !isProbeFailure(cg) && cg.writeMems?.ok === true, JSON.stringify(isProbeFailure(cg) ? cg : cg.writeMems));
    // Clean page cache goes first (seen in CI with it: the hog crawled for 73 s while kswapd
    // evicted cache as fast as it filled, then S was too full of refaulted pages to go offline
    // in 80 s); then node 0's free memory blocks go offline and its hugetlb pool takes the rest
    // (src/agent/park.ts says why and how fast).
    const parking = parkNode(c.guest, { node: 0, keepFreeMiB: PARK_FREE_MIB });
    if (process.env[SPM_FAULT] === 'park-agent-lost') await killAgentWhileParking(c);
    const park = await parking;
    try {
      // The guest's own account of a park that did not answer: what node 0 held, which of its
      // blocks were offline, what every process waited in, and the kernel's memory state.
      if (!park.ok || !park.value.ok) await c.guest.run('park-failed-memory-state', MEMORY_STATE, { timeoutMs: 60_000 });
      const { memFreeKiB: node0FreeKiB = 0, memTotalKiB: node0TotalKiB = 0 } = park.ok ? park.value : {};
      c.require('node 0 free memory parked (memory blocks offline, hugetlb pool)', park.ok && park.value.ok && node0FreeKiB > 0 && node0FreeKiB < 512 * 1024, park.ok ? `${park.value.error ?? ''} free=${node0FreeKiB} KiB` : park.error);
      const before = await spmAllocations(c, n.spm);
      const mark = await dmesgLines(c.guest);
      const hog = await c.guest.oomFirstProbe.run('place', { pages: Math.ceil(node0TotalKiB / 4), fill: 'pattern', stopOnNode: n.spm, cgroup: `${CG}/cxlh-hog`, timeoutMs: 60_000 });
      const after = await spmAllocations(c, n.spm);
      const log = await dmesgSince(c.guest, mark);
      const oomLine = log.find((l) => /oom-kill:/.test(l));
      if (oomLine && /CONSTRAINT_MEMORY_POLICY/.test(oomLine)) {
        await ctx.observe({ id: 'spm.oddity.oom_constraint', title: 'OOM under a cpuset hog reports CONSTRAINT_MEMORY_POLICY though the task has no mempolicy', detail: oomLine, check: ROWS.pressure.id });
      }
      return {
        killed: isProbeFailure(hog) && hog.signal === 'SIGKILL',
        oom: isProbeFailure(hog) ? hog.oom === true || !!oomLine : false,
        pagesOnSpm: isProbeFailure(hog) ? 0 : hog.placed?.nodes[String(n.spm)] ?? 0,
        ...(!isProbeFailure(hog) && hog.filled !== undefined ? { hogPages: hog.filled } : {}),
        allocatedOnSpm: after.allocated - before.allocated,
        spmMemFreeBeforeKiB: before.memFreeKiB,
        spmMemFreeAfterKiB: after.memFreeKiB,
        ...(oomLine ? { oomLine } : {}),
      };
    } finally {
      await unparkNode(c.guest, 0);
      await c.guest.run('remove-hog-cgroup', `rmdir ${CG}/cxlh-hog`);
    }
  }, ['spm']);
  await row('offlineSpm', async (c: CheckApi, n: Nodes) => {
    // What S still holds before it goes: on a kernel that leaks zswap pages onto S, that is
    // what keeps it from going offline, and the evidence says so.
    const facts = await readValue(c.guest, `${NODE}/node${n.spm}/meminfo`);
    const total = Number(/MemTotal:\s+(\d+)/.exec(facts.value ?? '')?.[1] ?? 0);
    const memFree = Number(/MemFree:\s+(\d+)/.exec(facts.value ?? '')?.[1] ?? 0);
    const r = await offlineRegion(c.guest, st.spm!.region!, 20_000);
    c.require('the agent ran the region offline flow', r.ok, r.ok ? undefined : r.error);
    return {
      ok: r.value.ok, ...(r.value.error ? { error: r.value.error } : {}), hasMemory: r.value.nodeFacts?.hasMemory ?? false,
      memTotalKiB: r.value.nodeFacts?.memTotalKiB ?? null,
      heldBeforeKiB: total - memFree,
      ...(st.zswapHeldKiB !== undefined ? { zswapHeldKiB: st.zswapHeldKiB } : {}),
    };
  }, ['spm']);
  // Only when S really went: a region still there says nothing about what its removal leaves.
  await row('nodeReleased', async (c: CheckApi, n: Nodes) => {
    c.require('S\'s region was destroyed', st.spm?.region !== undefined && !(await readValue(c.guest, `/sys/bus/cxl/devices/${st.spm.region}`)).exists, 'spm.offline.spm did not destroy it');
    const list = async (file: string): Promise<number[] | undefined> => readNodes(c.guest, file);
    const hasPrivate = await list(`${NODE}/has_private_memory`);
    return {
      node: n.spm,
      hasMemory: ((await list(`${NODE}/has_memory`)) ?? []).includes(n.spm),
      ...(hasPrivate ? { hasPrivate: hasPrivate.includes(n.spm) } : {}),
      online: ((await list(`${NODE}/online`)) ?? []).includes(n.spm),
      effective: ((await list(`${CG}/cpuset.mems.effective`)) ?? []).includes(n.spm),
      nodeDir: (await readValue(c.guest, `${NODE}/node${n.spm}/meminfo`)).exists,
    };
  }, ['spm']);
};

/** The memory state of the guest, for a park that did not answer: into the command log and (sysrq m, w) the console. */
const MEMORY_STATE = [
  'echo m > /proc/sysrq-trigger; echo w > /proc/sysrq-trigger',
  'cat /proc/pressure/memory',
  `cat ${NODE}/node0/meminfo`,
  `for b in ${NODE}/node0/memory*; do echo "\${b##*/} $(cat $b/state)"; done | grep -v ' online$'`,
  'cat /proc/sys/vm/nr_hugepages',
  'ps -eo pid,stat,rss,wchan:32,args',
].join('; ');

async function killAgentWhileParking(c: CheckApi): Promise<void> {
  await new Promise((r) => setTimeout(r, 1000));
  await c.guest.run('fault-kill-agent', killAgentCommand('KILL'));
}

/** S's MemFree and its allocation counter (numastat numa_hit + numa_miss: every page allocated on S, monotonic). */
async function spmAllocations(c: CheckApi, spm: number): Promise<{ allocated: number; memFreeKiB: number }> {
  const r = await c.guest.run('spm-allocations', `cat ${NODE}/node${spm}/numastat ${NODE}/node${spm}/meminfo`);
  const field = (re: RegExp): number => Number(re.exec(r.stdout)?.[1] ?? NaN);
  return { allocated: field(/^numa_hit (\d+)/m) + field(/^numa_miss (\d+)/m), memFreeKiB: field(/MemFree:\s+(\d+)/) };
}

/**
 * Phase 5: cgroups against S: a cpuset that names only S, and demotion from node 0 under a
 * memcg's proactive reclaim.
 */
import { isProbeFailure } from '../../../probe/isolate.js';
import type { CheckApi } from '../../check.js';
import type { Nodes } from '../rows.js';
import { CG, NODE, type Phase } from '../state.js';
import { PRIVATE_BUSYBOX, anonPerNode, startSmallProcess } from '../target.js';

export const cgroupsPhase: Phase = async (_ctx, st, row) => {
  await row('spmOnlyCpuset', async (c: CheckApi, n: Nodes) => {
    const r = await c.guest.probe.run('cpuset', { cgroup: 'cxlh-spm-only', mems: String(n.spm), moveProcess: true, remove: false });
    try {
      c.require('the cpuset probe ran', !isProbeFailure(r), isProbeFailure(r) ? r.message : undefined);
      c.require('the cpuset controller is available', r.enable?.ok !== false && r.create?.ok !== false, JSON.stringify({ enable: r.enable, create: r.create }));
      // Where a task of the cgroup really allocates: a writer started inside it fills a tmpfs
      // file (its pages follow the writer's cpuset), and S's Shmem says where they went. The
      // task that joins is the private busybox (PRIVATE_BUSYBOX says why).
      const sizeKiB = 256;
      const out = await c.guest.json<{ exitCode: number; before: number; after: number }>('cpuset-spm-only-write', [
        `shm() { awk '/Shmem:/ {print $4}' ${NODE}/node${n.spm}/meminfo; }`,
        PRIVATE_BUSYBOX,
        'before=$(shm)',
        `"$bb" sh -c 'echo $$ > ${CG}/cxlh-spm-only/cgroup.procs && exec "$0" dd if=/dev/urandom of=/dev/shm/cxlh-cpuset bs=4096 count=${sizeKiB / 4}' "$bb" 2>/dev/null`,
        'rc=$?',
        'after=$(shm)',
        'rm -f /dev/shm/cxlh-cpuset; rm -rf "${bb%/busybox}"',
        'printf \'{"exitCode":%s,"before":%s,"after":%s}\\n\' "$rc" "$before" "$after"',
      ].join('\n'));
      c.require('a task in the cgroup wrote its file', out.ok && out.value.exitCode === 0, out.ok ? out.record.stderr : out.error);
      const file = st.gen.iface.nodesFile;
      const own = file ? r.files[file] : undefined;
      const parent = file ? r.rootFiles[file] : undefined;
      return {
        writeCode: r.writeMems?.code ?? 'NOT_WRITTEN',
        effective: r.files['cpuset.mems.effective']?.list ?? [],
        ...(own ? { ordinary: own.list ?? [] } : {}),
        ...(parent ? { parentOrdinary: parent.list ?? [] } : {}),
        taskField: r.move?.status.field ?? null,
        taskNodes: r.move?.status.nodes ?? [],
        spmShmemDeltaKiB: out.value.after - out.value.before,
        sizeKiB,
      };
    } finally {
      await c.guest.run('rmdir-spm-only', `rmdir ${CG}/cxlh-spm-only`);
    }
  }, ['spm']);
  await row('demotion', async (c: CheckApi, n: Nodes) => {
    // A small process in its own memcg, then anon-only proactive reclaim of that memcg: with
    // no swap, its pages can only be demoted (MADV_PAGEOUT never demotes, and a bigger memcg
    // would give up file pages first). memory.reclaim answers EAGAIN: demotion is not reclaim.
    const cg = `${CG}/cxlh-demote`;
    const setup = await c.guest.run('demote-setup', `echo +memory > ${CG}/cgroup.subtree_control && mkdir -p ${cg} && echo true > /sys/kernel/mm/numa/demotion_enabled`);
    c.require('demotion enabled and a memcg made', setup.exitCode === 0, setup.stderr);
    let target: number | undefined;
    try {
      target = await startSmallProcess(c, { cgroup: cg });
      const before = await anonPerNode(c, target);
      await c.guest.run('memory-reclaim', `echo "2M swappiness=200" > ${cg}/memory.reclaim; grep pgdemote /proc/vmstat`);
      const after = await anonPerNode(c, target);
      return { pages: before['0'] ?? 0, offNode0: (before['0'] ?? 0) - (after['0'] ?? 0), onSpm: after[String(n.spm)] ?? 0, onControl: after[String(n.control)] ?? 0 };
    } finally {
      await c.guest.run('demote-cleanup', `${target ? `kill ${target}; ` : ''}sleep 0.2; rmdir ${cg}; echo false > /sys/kernel/mm/numa/demotion_enabled`);
    }
  }, ['spm']);
};

/**
 * Phase 4: the system calls and tools that name nodes, against S: mempolicy, mbind,
 * move_pages, migrate_pages (as root and as a user), numactl.
 */
import { isProbeFailure } from '../../../probe/isolate.js';
import type { CheckApi } from '../../check.js';
import type { Nodes, RowName } from '../rows.js';
import { NODE, PAGES, type Phase } from '../state.js';
import { startSmallProcess } from '../target.js';

export const syscallsPhase: Phase = async (_ctx, _st, row) => {
  await row('bindSpm', async (c: CheckApi, n: Nodes) => {
    const set = await c.guest.probe.run('mempolicy', { mode: 'bind', nodes: [n.spm] });
    const mb = await c.guest.probe.run('place', { pages: 16, mbind: 'bind', mbindNodes: [n.spm] });
    c.require('the probes ran', !isProbeFailure(set) && !isProbeFailure(mb));
    return { setMempolicyCode: set.set?.code ?? set.code, mbindCode: mb.mbind?.code ?? mb.code, pages: 16, onSpm: mb.placed?.nodes[String(n.spm)] ?? 0 };
  }, ['spm']);
  await row('bindMixed', async (c: CheckApi, n: Nodes) => {
    const r = await c.guest.probe.run('mempolicy', { mode: 'bind', nodes: [0, n.spm] });
    c.require('the probe ran', !isProbeFailure(r));
    return { setCode: r.set?.code ?? r.code, readback: r.readback.nodes };
  }, ['spm']);
  await row('memsAllowed', async (c: CheckApi) => {
    const r = await c.guest.probe.run('mempolicy', {});
    c.require('the probe ran', !isProbeFailure(r));
    return { nodes: r.memsAllowed.nodes };
  }, ['spm']);
  await row('staticNodes', async (c: CheckApi, n: Nodes) => {
    const alone = await c.guest.probe.run('mempolicy', { mode: 'bind', flags: ['static'], nodes: [n.spm] });
    const mixed = await c.guest.probe.run('mempolicy', { mode: 'bind', flags: ['static'], nodes: [0, n.spm] });
    c.require('the probes ran', !isProbeFailure(alone) && !isProbeFailure(mixed));
    return { aloneCode: alone.set?.code ?? alone.code, mixedCode: mixed.set?.code ?? mixed.code, mixedReadback: mixed.readback.nodes };
  }, ['spm']);
  await row('movePages', async (c: CheckApi, n: Nodes) => {
    const r = await c.guest.probe.run('move-pages', { pages: PAGES, to: n.spm });
    c.require('the probe ran', !isProbeFailure(r), isProbeFailure(r) ? r.message : undefined);
    c.require('the pages started on node 0', (r.placed?.nodes['0'] ?? 0) === PAGES, JSON.stringify(r.placed));
    return { code: r.move?.code ?? r.code, pages: PAGES, onSpmAfter: r.after?.nodes[String(n.spm)] ?? 0 };
  }, ['spm']);
  for (const [key, asUid] of [['migrateRoot', undefined], ['migrateUser', 65534]] as const satisfies ReadonlyArray<readonly [RowName, number | undefined]>) {
    await row(key, async (c: CheckApi, n: Nodes) => {
      // migrate_pages on the probe itself would move a whole Node process onto S (minutes
      // under TCG): move a small shell holding ~100 anonymous pages instead.
      const target = await startSmallProcess(c, asUid === undefined ? {} : { uid: asUid });
      try {
        const m = await c.guest.probe.run('migrate-pid', { pid: target, from: [0], to: [n.spm], ...(asUid !== undefined ? { asUid } : {}) });
        c.require('the probe ran', !isProbeFailure(m), isProbeFailure(m) ? m.message : undefined);
        return { code: m.code, anonOnNode0Before: m.anonBefore['0'] ?? 0, onSpmAfter: m.anonAfter[String(n.spm)] ?? 0, leftOnNode0: m.anonAfter['0'] ?? 0 };
      } finally {
        await c.guest.run('kill-target', ['kill', String(target)]);
      }
    }, ['spm']);
  }
  for (const [key, policy] of [['numactlMembind', 'membind'], ['numactlInterleave', 'interleave']] as const) {
    await row(key, async (c: CheckApi, n: Nodes) => {
      const sizeKiB = 1024;
      const script = [
        `shm() { awk '/Shmem:/ {print $4}' ${NODE}/node${n.spm}/meminfo; }`,
        'before=$(shm)',
        // numactl's own complaints (libnuma rejects a node it does not count as allowed, on stdout) stay out of the JSON line.
        `numactl --${policy}=${policy === 'membind' ? n.spm : 'all'} -- dd if=/dev/urandom of=/dev/shm/cxlh-numactl bs=4096 count=${sizeKiB / 4} status=none >/tmp/cxlh-numactl.err 2>&1`,
        'rc=$?',
        'after=$(shm)',
        'rm -f /dev/shm/cxlh-numactl',
        'printf \'{"exitCode":%s,"before":%s,"after":%s}\\n\' "$rc" "$before" "$after"',
        'cat /tmp/cxlh-numactl.err >&2',
      ].join('\n');
      const out = await c.guest.json<{ exitCode: number; before: number; after: number }>(`numactl-${policy}`, script);
      c.require('the numactl script answered', out.ok, out.ok ? undefined : out.error);
      return { exitCode: out.value.exitCode, stderr: out.record.stderr, shmemDeltaKiB: out.value.after - out.value.before, sizeKiB };
    }, ['spm']);
  }
};

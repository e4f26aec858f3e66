/**
 * Phase 1, before any region is made: which version of the series the kernel has (every later
 * expectation depends on it), and the interfaces that exist before any node is set apart.
 */
import { isProbeFailure } from '../../../probe/isolate.js';
import type { CheckApi } from '../../check.js';
import { detectGeneration } from '../generations/index.js';
import { readNodes, readValue, writeValue } from '../guest-io.js';
import { CG, NODE, type Phase } from '../state.js';

/** The agent's start (when it is not up yet) and a few sysfs reads. */
const EVIDENCE_TIMEOUT_MS = 60_000;

export const identityPhase: Phase = async (ctx, st, row) => {
  await ctx.check('spm.generation', 'the kernel\'s version of the series follows from consistent evidence', async (c: CheckApi) => {
    const r = await c.guest.requestJson('generation-evidence', 'generation.evidence', {}, EVIDENCE_TIMEOUT_MS);
    c.require('the agent gathered the evidence', r.ok, r.ok ? undefined : r.error);
    const { generation, module, evidence, contradictions } = detectGeneration(r.value, { patchSubjects: (ctx.kernel.identity.patches ?? []).map((p) => p.subject) });
    st.gen = module;
    await ctx.setGeneration(generation, [...evidence, ...contradictions.map((x) => `contradiction: ${x}`)]);
    const observed = { generation, evidence, contradictions };
    return { passed: contradictions.length === 0, expected: 'evidence pointing to exactly one version', observed, ...(contradictions.length ? { reason: contradictions.join('; ') } : {}) };
  }, { informational: true });

  await row('sysramFile', async (c: CheckApi) => {
    const root = await readValue(c.guest, `${CG}/cpuset.mems.sysram`);
    if (!root.exists) return { rootExists: false, createCode: await writeValue(c.guest, `${CG}/cpuset.mems.sysram`, '0\n', { create: true }) };
    const mode = await c.guest.run('stat-mems-sysram', ['stat', '-c', '%a', `${CG}/cpuset.mems.sysram`]);
    const child = await c.guest.probe.run('cpuset', { cgroup: 'cxlh-sysram-file', moveProcess: false });
    return {
      rootExists: true,
      rootMode: `0${mode.stdout.trim()}`,
      childExists: !isProbeFailure(child) && 'cpuset.mems.sysram' in child.files,
      rootWriteCode: await writeValue(c.guest, `${CG}/cpuset.mems.sysram`, '0\n'),
    };
  });
  // v1's file, read before any node is onlined: v1 means it to list the boot nodes from boot on.
  await row('defaultFile', async (c: CheckApi) => {
    const file = `${CG}/cpuset.mems.default`;
    const effective = (await readNodes(c.guest, `${CG}/cpuset.mems.effective`)) ?? [];
    const root = await readValue(c.guest, file);
    if (!root.exists) return { rootExists: false, effective, createCode: await writeValue(c.guest, file, '0\n', { create: true }) };
    const mode = await c.guest.run('stat-mems-default', ['stat', '-c', '%a', file]);
    const child = await c.guest.probe.run('cpuset', { cgroup: 'cxlh-default-file', moveProcess: false });
    const childFile = isProbeFailure(child) ? undefined : child.files['cpuset.mems.default'];
    return {
      rootExists: true,
      rootMode: `0${mode.stdout.trim()}`,
      rootNodes: (await readNodes(c.guest, file)) ?? [],
      effective,
      childExists: childFile !== undefined,
      ...(childFile ? { childNodes: childFile.list ?? [] } : {}),
      rootWriteCode: await writeValue(c.guest, file, '0\n'),
    };
  });
  await row('statusLines', async (c: CheckApi) => {
    const r = await c.guest.probe.run('proc-status', {});
    c.require('proc-status ran', !isProbeFailure(r), isProbeFailure(r) ? r.message : undefined);
    return { fields: Object.keys(r.lines) };
  });
  await row('privateFiles', async (c: CheckApi) => {
    const ls = await c.guest.run('ls-node', ['ls', '-1', NODE]);
    const files = ls.stdout.split('\n');
    return { has_private_memory: files.includes('has_private_memory'), has_public_memory: files.includes('has_public_memory'), has_user_memory: files.includes('has_user_memory') };
  });
};

// Memory policy probes against the running kernel. Any host has node 0 and lacks node 63.
import t from 'tap';
import { isProbeFailure, probeMempolicy } from '../../src/probe/index.js';
import type { MempolicyResult, ProbeFailure } from '../../src/probe/index.js';
import { native } from '../../src/probe/native.js';

function result(r: MempolicyResult | ProbeFailure): MempolicyResult {
  if (isProbeFailure(r)) throw new Error(`probe child failed: ${r.message}\n${r.stderr}`);
  return r;
}

t.test('10 maxnode is derived from the kernel, a multiple of the word size covering every possible node', async (t) => {
  const maxnode = native().maxnode();
  t.ok(maxnode >= 64 && maxnode % 64 === 0, `maxnode ${maxnode}`);
});

t.test('20 a fresh child reads MPOL_DEFAULT and node 0 in MPOL_F_MEMS_ALLOWED', async (t) => {
  const r = result(await probeMempolicy());
  t.equal(r.ok, true);
  t.notOk(r.set, 'nothing set when no mode is given');
  t.same(r.readback, { ok: true, errno: 0, code: 'OK', mode: 'default', flags: [], nodes: [] });
  t.ok(r.memsAllowed.nodes.includes(0), `mems allowed ${r.memsAllowed.nodes}`);
});

t.test('30 get_mempolicy returns what set_mempolicy set', async (t) => {
  for (const mode of ['bind', 'preferred', 'interleave', 'preferred-many'] as const) {
    const r = result(await probeMempolicy({ mode, nodes: [0] }));
    t.equal(r.set?.ok, true, `${mode} accepted`);
    t.same(r.readback.mode, mode);
    t.same(r.readback.nodes, [0]);
  }
  const local = result(await probeMempolicy({ mode: 'local' }));
  t.equal(local.readback.mode, 'local');
  t.same(local.readback.nodes, []);
});

t.test('40 mode flags are echoed back, with the user mask for STATIC_NODES', async (t) => {
  const r = result(await probeMempolicy({ mode: 'bind', flags: ['static'], nodes: [0] }));
  t.equal(r.ok, true);
  t.same(r.readback.flags, ['static']);
  t.same(r.readback.nodes, [0]);
  const rel = result(await probeMempolicy({ mode: 'interleave', flags: ['relative'], nodes: [0] }));
  t.same(rel.readback.flags, ['relative']);
});

t.test('50 the kernel refusing is data: EINVAL for a missing node, an unknown mode, both static and relative', async (t) => {
  const missing = result(await probeMempolicy({ mode: 'bind', nodes: [63] }));
  t.same({ ok: missing.ok, errno: missing.errno, code: missing.code }, { ok: false, errno: 22, code: 'EINVAL' });
  t.equal(missing.readback.mode, 'default', 'the policy did not change');
  const unknown = result(await probeMempolicy({ mode: 99, nodes: [0] }));
  t.equal(unknown.code, 'EINVAL');
  const both = result(await probeMempolicy({ mode: 'bind', flags: ['static', 'relative'], nodes: [0] }));
  t.equal(both.code, 'EINVAL');
  const empty = result(await probeMempolicy({ mode: 'bind', nodes: [] }));
  t.equal(empty.code, 'EINVAL', 'MPOL_BIND with an empty mask');
});

t.test('60 a node number beyond maxnode grows the mask instead of being cut off', async (t) => {
  const far = native().maxnode() + 5;
  const r = result(await probeMempolicy({ mode: 'bind', nodes: [far] }));
  t.equal(r.code, 'EINVAL');
});

t.test('70 WEIGHTED_INTERLEAVE is accepted where the kernel has it (6.9+), EINVAL otherwise', async (t) => {
  const r = result(await probeMempolicy({ mode: 'weighted-interleave', nodes: [0] }));
  const [major = 0, minor = 0] = (await import('node:os')).release().split('.').map(Number);
  const expected = major > 6 || (major === 6 && minor >= 9) ? 'OK' : 'EINVAL';
  t.equal(r.code, expected, `kernel ${major}.${minor}`);
});

// Node facts and cgroup v2 cpuset probes against the running kernel.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import t from 'tap';
import { findCgroup2Root, isProbeFailure, probeCpuset, probeNodes, probeProcStatus, probeReadFile } from '../../src/probe/index.js';

t.test('10 node facts: node 0 is possible, online, has memory and a parsed meminfo', async (t) => {
  const r = await probeNodes();
  if (isProbeFailure(r)) throw new Error(r.message);
  t.equal(r.ok, true);
  t.ok(r.possible.includes(0) && r.online.includes(0));
  t.ok(r.has.memory?.includes(0), 'has_memory lists node 0');
  const node0 = r.nodes.find((n) => n.id === 0);
  t.ok(node0 && node0.meminfo.MemTotal! > 0 && node0.meminfo.MemFree! > 0, 'MemTotal and MemFree parsed');
  t.equal(node0?.distance[0], 10, 'local distance is 10');
  const hasFiles = readdirSync('/sys/devices/system/node').filter((f) => f.startsWith('has_')).map((f) => f.slice(4));
  t.same(Object.keys(r.has).sort(), hasFiles.sort(), 'every has_* file is reported');
  t.type(r.demotionEnabled, existsSync('/sys/kernel/mm/numa/demotion_enabled') ? 'boolean' : 'object');
  if (existsSync('/sys/devices/virtual/memory_tiering')) t.ok(r.memoryTiers.some((tier) => tier.nodes.includes(0)), 'node 0 is in a tier');
});

t.test('20 /proc/self/status node lines parse into a node set', async (t) => {
  const r = await probeProcStatus();
  if (isProbeFailure(r)) throw new Error(r.message);
  t.equal(r.ok, true);
  t.ok(r.field === 'Mems_allowed' || r.field === 'Sysram_nodes', `field ${r.field}`);
  t.ok(r.nodes.includes(0));
  t.ok(`${r.field}_list` in r.lines, 'list line kept verbatim');
  const gone = await probeProcStatus({ pid: 999_999_999 });
  if (isProbeFailure(gone)) throw new Error(gone.message);
  t.same([gone.ok, gone.code], [false, 'ENOENT']);
});

t.test('30 read-file reports errno for files that are not there', async (t) => {
  const r = await probeReadFile({ path: '/sys/devices/system/node/has_private_memory_not_a_file' });
  if (isProbeFailure(r)) throw new Error(r.message);
  t.same([r.ok, r.errno, r.code], [false, 2, 'ENOENT']);
  const ok = await probeReadFile({ path: '/sys/devices/system/node/possible' });
  if (isProbeFailure(ok)) throw new Error(ok.message);
  t.match(ok.value, /^0/);
});

const root = findCgroup2Root();
const controllers = root ? readFileSync(`${root}/cgroup.controllers`, 'utf8').trim().split(/\s+/) : [];

t.test('40 cpuset probe on this host\'s cgroup v2', { skip: root ? false : 'no cgroup v2 mount on this host' }, async (t) => {
  const r = await probeCpuset({ cgroup: 'cxl-probe-test', mems: '0', cpus: '0' });
  if (isProbeFailure(r)) throw new Error(r.message);
  t.equal(r.root, root);
  t.same(r.create, { ok: true, errno: 0, code: 'OK', existed: false }, 'child cgroup created');
  t.equal(r.move?.ok, true, 'a process moved in');
  t.ok(r.move?.status.nodes.includes(0), 'its status names node 0');
  t.equal(r.remove?.ok, true, 'child removed');
  t.notOk(existsSync(`${root}/cxl-probe-test`));
  if (controllers.includes('cpuset')) {
    t.equal(r.enable?.ok, true);
    t.same(r.writeMems?.ok, true);
    t.same(r.files['cpuset.mems']?.list, [0]);
    t.ok('cpuset.mems.effective' in r.files);
    t.ok('cpuset.mems.effective' in r.rootFiles, 'root files are read too');
    t.equal(r.ok, true);
  } else {
    // Hybrid host (cpuset bound to cgroup v1): the refusals are the result.
    t.same([r.enable?.code, r.writeMems?.code, r.ok], ['ENOENT', 'ENOENT', false], 'no cpuset in v2: ENOENT');
    t.same(r.files, {}, 'no cpuset.* files');
  }
});

t.test('50 cpuset.mems rejects garbage and missing nodes', { skip: controllers.includes('cpuset') ? false : `cgroup v2 at ${root} has no cpuset controller here (controllers: ${controllers.join(' ') || 'none'})` }, async (t) => {
  const bad = await probeCpuset({ cgroup: 'cxl-probe-test', mems: 'x', moveProcess: false });
  if (isProbeFailure(bad)) throw new Error(bad.message);
  t.equal(bad.writeMems?.code, 'EINVAL');
  const missing = await probeCpuset({ cgroup: 'cxl-probe-test', mems: '63', moveProcess: false });
  if (isProbeFailure(missing)) throw new Error(missing.message);
  t.equal(missing.writeMems?.code, 'EINVAL');
});

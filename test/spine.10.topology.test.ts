/**
 * Topologies as data: every preset in qemu/ parses, and every mistake in a topology file is
 * reported naming the file, the field and what is allowed there.
 */
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HarnessError } from '../src/errors.js';
import { builtinTopologies, loadTopology, parseTopology, regionCapacity, regionDevices, regionSizeMiB } from '../src/qemu/topology.js';
import { hotplugSuite } from '../src/suites/hotplug.js';
import { spmSuite } from '../src/suites/spm/suite.js';

const FILE = '/topologies/mine.json';

/** The default preset, as plain JSON to break one field at a time. */
function base(): Record<string, any> {
  return {
    name: 'mine',
    description: 'one device',
    hostBridges: [{ id: 'cxl.0', busNr: 12, rootPorts: [{ id: 'rp0', device: { id: 'cxlmem0', kind: 'volatile', sizeMiB: 512 } }] }],
    windows: [{ targets: ['cxl.0'], sizeMiB: 4096 }],
  };
}

function parseError(data: unknown): HarnessError {
  try {
    parseTopology(data, FILE);
  } catch (e) {
    if (e instanceof HarnessError) return e;
    throw e;
  }
  throw new Error('parseTopology accepted an invalid topology');
}

t.test('10 the presets in qemu/ all parse, with the shape their names promise', async (t) => {
  t.same(builtinTopologies(), ['dcd', 'default', 'hb-interleave', 'interleave', 'pmem', 'spm-interleave', 'spm-pair']);
  const all = Object.fromEntries(builtinTopologies().map((n) => [n, loadTopology(n)]));
  for (const [name, topo] of Object.entries(all)) {
    t.equal(topo.name, name, `${name}: name matches the file`);
    t.match(topo.file, new RegExp(`/qemu/${name}\\.json$`));
    t.ok(topo.description.length > 20, `${name}: has a description`);
  }
  const devices = (n: string) => all[n]!.hostBridges.flatMap((h) => h.rootPorts.map((r) => [r.device.kind, r.device.sizeMiB]));
  t.same(devices('default'), [['volatile', 512]]);
  t.same(all.default!.windows, [{ targets: ['cxl.0'], sizeMiB: 4096 }]);
  t.same(devices('spm-pair'), [['volatile', 512], ['volatile', 512]]);
  t.same(all['spm-pair']!.windows.map((w) => w.targets), [['cxl.0'], ['cxl.1']], 'spm-pair: one window per device, so two CXL nodes');
  t.same(all.interleave!.windows, [{ targets: ['cxl.0', 'cxl.1'], sizeMiB: 4096, granularity: 4096 }]);
  t.same(all.dcd!.hostBridges[0]!.rootPorts[0]!.device, { id: 'cxlmem0', kind: 'dcd', sizeMiB: 512, dcRegions: 2 });
  t.same([all['hb-interleave']!.hostBridges.length, all['hb-interleave']!.hostBridges[0]!.rootPorts.length, regionSizeMiB(all['hb-interleave']!)], [1, 2, 1024], 'hb-interleave: one bridge, two ports, one 1 GiB region');
  t.same([regionCapacity(all['spm-interleave']!), regionSizeMiB(all['spm-interleave']!, 0), regionSizeMiB(all['spm-interleave']!, 1)], [2, 512, 1024], 'spm-interleave: C of one device, S of two');
  t.same([regionCapacity(all.pmem!), regionSizeMiB(all.pmem!), all.pmem!.hostBridges[0]!.rootPorts[1]!.device], [1, 512, { id: 'cxlpmem0', kind: 'persistent', sizeMiB: 512, lsaMiB: 1 }], 'pmem: one region of the volatile device; the persistent one is booted, not used');
  t.same([all.default!.ramMiB, all.default!.cpus], [2048, 2]);
});

t.test('20 defaults: kind volatile, RAM 2 GiB, 2 CPUs, port/chassis/slot from the position', async (t) => {
  const topo = parseTopology(base(), FILE);
  t.same(topo.hostBridges[0]!.rootPorts[0], { id: 'rp0', port: 0, chassis: 0, slot: 2, device: { id: 'cxlmem0', kind: 'volatile', sizeMiB: 512 } });
  t.same([topo.ramMiB, topo.cpus, topo.file], [2048, 2, FILE]);
});

t.test('30 every mistake names the file, the field and what is allowed', async (t) => {
  const cases: [string, (d: Record<string, any>) => void, RegExp][] = [
    ['name missing', (d) => delete d.name, /: name must be a non-empty string$/],
    ['misspelt top-level field', (d) => { d.hostbridges = []; }, /: hostbridges is not a topology field \(allowed here: name, description, ramMiB, cpus, hostBridges, windows\)/],
    ['misspelt window field', (d) => { d.windows[0].granularty = 256; }, /windows\[0\]\.granularty is not a topology field \(allowed here: targets, sizeMiB, granularity\)/],
    ['device kind', (d) => { d.hostBridges[0].rootPorts[0].device.kind = 'pmem'; }, /hostBridges\[0\]\.rootPorts\[0\]\.device\.kind must be one of volatile, dcd, persistent \(got "pmem"\)/],
    ['lsaMiB on a volatile device', (d) => { d.hostBridges[0].rootPorts[0].device.lsaMiB = 1; }, /device\.lsaMiB is only allowed with kind "persistent"/],
    ['device size not a multiple of 256', (d) => { d.hostBridges[0].rootPorts[0].device.sizeMiB = 300; }, /hostBridges\[0\]\.rootPorts\[0\]\.device\.sizeMiB must be a multiple of 256 \(got 300\)/],
    ['device size as a string', (d) => { d.hostBridges[0].rootPorts[0].device.sizeMiB = '512'; }, /device\.sizeMiB must be an integer \(got "512"\)/],
    ['dcRegions on a volatile device', (d) => { d.hostBridges[0].rootPorts[0].device.dcRegions = 2; }, /device\.dcRegions is only allowed with kind "dcd"/],
    ['RAM too small', (d) => { d.ramMiB = 100; }, /: ramMiB must be between 512 and 65536 \(got 100\)/],
    ['no host bridges', (d) => { d.hostBridges = []; }, /: hostBridges needs at least 1 entry/],
    ['busNr out of range', (d) => { d.hostBridges[0].busNr = 0; }, /hostBridges\[0\]\.busNr must be between 1 and 254 \(got 0\)/],
    ['id with a space', (d) => { d.hostBridges[0].id = 'cxl 0'; d.windows[0].targets = ['cxl 0']; }, /hostBridges\[0\]\.id must start with a letter and hold only letters, digits, _ \. - \(got "cxl 0"\)/],
    ['id used twice', (d) => { d.hostBridges[0].rootPorts[0].device.id = 'rp0'; }, /hostBridges\[0\]\.rootPorts\[0\]\.id: id "rp0" is used twice/],
    ['window target unknown', (d) => { d.windows[0].targets = ['cxl.9']; }, /windows\[0\]\.targets\[0\] "cxl\.9" is not a host bridge id \(have: cxl\.0\)/],
    ['window target twice', (d) => { d.windows[0].targets = ['cxl.0', 'cxl.0']; }, /windows\[0\]\.targets names host bridge "cxl\.0" twice/],
    ['granularity not a power of two', (d) => { d.windows[0].granularity = 3000; }, /windows\[0\]\.granularity must be a power of two between 256 and 16384 \(got 3000\)/],
    ['interleave ways', (d) => {
      d.hostBridges = ['a', 'b', 'c', 'd', 'e'].map((id, i) => ({ id, busNr: 10 + i, rootPorts: [{ id: `rp${id}`, device: { id: `m${id}`, sizeMiB: 256 } }] }));
      d.windows[0].targets = ['a', 'b', 'c', 'd', 'e'];
    }, /windows\[0\]\.targets has 5 entries; CXL interleave ways are 1, 2, 3, 4, 6, 8, 12 or 16/],
    ['two root ports on one chassis/slot', (d) => {
      d.hostBridges.push({ id: 'cxl.1', busNr: 22, rootPorts: [{ id: 'rp1', chassis: 0, slot: 2, device: { id: 'cxlmem1', sizeMiB: 512 } }] });
    }, /hostBridges\[1\]\.rootPorts\[0\] uses chassis 0 slot 2, already used by hostBridges\[0\]\.rootPorts\[0\]/],
    ['two root ports on one port number', (d) => {
      d.hostBridges[0].rootPorts.push({ id: 'rp1', port: 0, device: { id: 'cxlmem1', sizeMiB: 512 } });
    }, /hostBridges\[0\]\.rootPorts\[1\]\.port 0 is used twice on host bridge cxl\.0/],
    ['not an object', (d) => { d.windows[0] = 'cxl.0'; }, /windows\[0\] must be an object/],
    ['window smaller than its device', (d) => { d.windows[0].sizeMiB = 256; },
      /windows\[0\]\.sizeMiB 256 is smaller than a region on it: 1 way\(s\) x 512 MiB \(cxlmem0 below cxl\.0\) = 512 MiB; make it at least 512/],
    ['window smaller than its interleaved devices', (d) => {
      d.hostBridges.push({ id: 'cxl.1', busNr: 22, rootPorts: [{ id: 'rp1', chassis: 1, device: { id: 'cxlmem1', sizeMiB: 1024 } }] });
      d.windows[0] = { targets: ['cxl.0', 'cxl.1'], sizeMiB: 1024 };
    }, /windows\[0\]\.sizeMiB 1024 is smaller than a region on it: 2 way\(s\) x 1024 MiB \(cxlmem0, cxlmem1 below cxl\.0, cxl\.1\) = 2048 MiB; make it at least 2048/],
    ['bus numbers that run into the next bridge', (d) => {
      d.hostBridges[0].rootPorts.push({ id: 'rp1', device: { id: 'cxlmem1', sizeMiB: 512 } });
      d.hostBridges.push({ id: 'cxl.1', busNr: 14, rootPorts: [{ id: 'rp2', chassis: 1, device: { id: 'cxlmem2', sizeMiB: 512 } }] });
    }, /hostBridges\[0\]\.busNr 12: host bridge cxl\.0 needs buses 12-14 for itself and its 2 root port\(s\), but cxl\.1 starts at bus 14; move cxl\.1 to busNr 15 or above/],
    ['bus numbers past 255', (d) => { d.hostBridges[0].busNr = 254; d.hostBridges[0].rootPorts.push({ id: 'rp1', device: { id: 'cxlmem1', sizeMiB: 512 } }); },
      /hostBridges\[0\]\.busNr 254 leaves no bus numbers for the 2 root port\(s\) of cxl\.0 \(they need 255-256, the last bus is 255\); use a busNr of at most 253/],
  ];
  for (const [what, breakIt, message] of cases) {
    const data = base();
    breakIt(data);
    const e = parseError(data);
    t.equal(e.code, 'TOPOLOGY_INVALID', `${what}: code`);
    t.match(e.message, new RegExp(`^topology file ${FILE.replace(/[./]/g, '\\$&')}: `), `${what}: names the file`);
    t.match(e.message, message, `${what}: names the field and what is allowed`);
    t.match(e.hint ?? '', /presets in .*qemu/, `${what}: the hint points at the presets`);
  }
});

t.test('40 loading: an unknown name lists the presets; a broken file is named', async (t) => {
  const unknown = t.throws(() => loadTopology('no-such-topology')) as HarnessError;
  t.equal(unknown.code, 'TOPOLOGY_UNKNOWN');
  t.equal(unknown.message, 'unknown topology "no-such-topology"');
  t.match(unknown.hint, 'use one of: dcd, default, hb-interleave, interleave, pmem, spm-interleave, spm-pair, or a path to a topology JSON file');

  const dir = mkdtempSync(join(tmpdir(), 'cxlh-topo-'));
  const missing = t.throws(() => loadTopology(join(dir, 'nope.json'))) as HarnessError;
  t.equal(missing.message, `topology file ${join(dir, 'nope.json')} does not exist`);

  const broken = join(dir, 'broken.json');
  writeFileSync(broken, '{ "name": "x", ');
  const syntax = t.throws(() => loadTopology(broken)) as HarnessError;
  t.equal(syntax.code, 'TOPOLOGY_INVALID');
  t.match(syntax.message, `topology file ${broken} is not valid JSON: `);

  const wrong = join(dir, 'wrong.json');
  writeFileSync(wrong, JSON.stringify({ ...base(), cpus: 0 }));
  const field = t.throws(() => loadTopology(wrong)) as HarnessError;
  t.equal(field.message, `topology file ${wrong}: cpus must be between 1 and 64 (got 0)`);
});

t.test('50 regionSizeMiB: one device per interleave position, each giving the smallest share', async (t) => {
  t.equal(regionSizeMiB(loadTopology('default')), 512);
  t.equal(regionSizeMiB(loadTopology('interleave')), 1024, '2 ways x 512 MiB');
  t.equal(regionSizeMiB(loadTopology('spm-pair'), 0), 512);
  t.equal(regionSizeMiB(loadTopology('spm-pair'), 1), 512);
  const uneven = parseTopology({
    ...base(),
    hostBridges: [
      { id: 'cxl.0', busNr: 12, rootPorts: [{ id: 'rp0', device: { id: 'm0', sizeMiB: 512 } }] },
      { id: 'cxl.1', busNr: 22, rootPorts: [{ id: 'rp1', device: { id: 'm1', sizeMiB: 256 } }] },
    ],
    windows: [{ targets: ['cxl.0', 'cxl.1'], sizeMiB: 4096 }, { targets: ['cxl.1'], sizeMiB: 256 }],
  }, FILE);
  t.equal(regionSizeMiB(uneven, 0), 512, 'the smaller device sets the share: 2 x 256');
  t.equal(regionSizeMiB(uneven, 1), 256, 'one way');
  t.equal(regionSizeMiB(uneven, 2), 0, 'no such window');
});

t.test('60 regionCapacity: regions made one after the other, a device used once', async (t) => {
  t.same(['default', 'spm-pair', 'interleave', 'dcd'].map((n) => regionCapacity(loadTopology(n))), [1, 2, 1, 0]);
  const twoPorts = parseTopology({
    ...base(),
    hostBridges: [{ id: 'cxl.0', busNr: 12, rootPorts: [{ id: 'rp0', device: { id: 'm0', sizeMiB: 512 } }, { id: 'rp1', device: { id: 'm1', sizeMiB: 512 } }] }],
  }, FILE);
  t.equal(regionCapacity(twoPorts), 1, 'one region interleaved across the bridge\'s two root ports');
  t.equal(regionSizeMiB(twoPorts), 1024, 'holding both devices');
  t.same(regionDevices(twoPorts).map((d) => d.id), ['m0', 'm1'], 'in root-port order');
  const ports = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `rp${i}`, device: { id: `m${i}`, sizeMiB: 256 } }));
  const five = parseTopology({ ...base(), hostBridges: [{ id: 'cxl.0', busNr: 12, rootPorts: ports(5) }] }, FILE);
  t.same(regionDevices(five).map((d) => d.id), ['m0', 'm1', 'm2', 'm3'], 'five ports: 4 ways (no 5-way decoder), then');
  t.equal(regionCapacity(five), 2, 'a 1-way region of the fifth');
  const grid = parseTopology({
    ...base(),
    hostBridges: [
      { id: 'a', busNr: 12, rootPorts: [{ id: 'a0', device: { id: 'ma0', sizeMiB: 256 } }, { id: 'a1', device: { id: 'ma1', sizeMiB: 256 } }] },
      { id: 'b', busNr: 22, rootPorts: [{ id: 'b0', chassis: 1, device: { id: 'mb0', sizeMiB: 256 } }, { id: 'b1', chassis: 1, device: { id: 'mb1', sizeMiB: 256 } }] },
    ],
    windows: [{ targets: ['a', 'b'], sizeMiB: 4096 }],
  }, FILE);
  t.same(regionDevices(grid).map((d) => d.id), ['ma0', 'mb0', 'ma1', 'mb1'], '2 bridges x 2 ports: position p is bridge p mod 2, port p div 2');
  const shared = parseTopology({
    ...base(),
    hostBridges: [{ id: 'cxl.0', busNr: 12, rootPorts: [{ id: 'rp0', device: { id: 'm0', sizeMiB: 512 } }] }],
    windows: [{ targets: ['cxl.0'], sizeMiB: 4096 }, { targets: ['cxl.0'], sizeMiB: 4096 }],
  }, FILE);
  t.equal(regionCapacity(shared), 1, 'two windows over one device still make one region');
});

t.test('70 suites say which topologies they cannot use', async (t) => {
  t.equal(spmSuite.unsuitedTopology?.(loadTopology('spm-pair')), undefined);
  t.equal(spmSuite.unsuitedTopology?.(loadTopology('interleave')), 'it needs two CXL regions, C (the SysRAM control) and S (the SPM node), and topology interleave can make 1');
  t.equal(hotplugSuite.unsuitedTopology?.(loadTopology('interleave')), undefined);
  t.equal(hotplugSuite.unsuitedTopology?.(loadTopology('default')), undefined);
  t.match(hotplugSuite.unsuitedTopology?.(loadTopology('dcd')), /volatile CXL device/);
});

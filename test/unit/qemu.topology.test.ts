/**
 * Topologies as data: every preset in qemu/ parses, and every mistake in a topology file is
 * reported naming the file, the field and what is allowed there.
 */
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HarnessError } from '../../src/errors.js';
import { pickRegion, positionPath } from '../../src/contract/region-position.js';
import { builtinTopologies, loadTopology, parseTopology, regionCapacity, regionDevices, regionSizeMiB, topologyDevices } from '../../src/qemu/topology.js';
import { hotplugSuite } from '../../src/suites/hotplug.js';
import { spmSuite } from '../../src/suites/spm/suite.js';

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

/** Give the base topology's bridge a switch (root port rp1, upstream us0, downstream ports dsp0 and dsp1 with a device each) and return it. */
function withSwitch(d: Record<string, any>): Record<string, any> {
  const s = {
    rootPort: { id: 'rp1' },
    upstream: { id: 'us0' },
    downstreamPorts: [{ id: 'dsp0', device: { id: 'cxlmem1', sizeMiB: 512 } }, { id: 'dsp1', device: { id: 'cxlmem2', sizeMiB: 512 } }],
  };
  d.hostBridges[0].switches = [s];
  return s;
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
  t.same(builtinTopologies(), ['cxl-test', 'dcd', 'default', 'hb-interleave', 'interleave', 'pmem', 'runner-default', 'spm-interleave', 'spm-pair', 'spm-switch', 'switch']);
  const all = Object.fromEntries(builtinTopologies().map((n) => [n, loadTopology(n)]));
  for (const [name, topo] of Object.entries(all)) {
    t.equal(topo.name, name, `${name}: name matches the file`);
    t.match(topo.file, new RegExp(`/qemu/${name}\\.json$`));
    t.ok(topo.description.length > 20, `${name}: has a description`);
  }
  const devices = (n: string) => topologyDevices(all[n]!).map((d) => [d.kind, d.sizeMiB]);
  t.same(devices('default'), [['volatile', 512]]);
  t.same([all['cxl-test']!.hostBridges, all['cxl-test']!.windows], [[], []], 'cxl-test: no CXL hardware (cxl_test mocks its own)');
  t.same(all.default!.windows, [{ targets: ['cxl.0'], sizeMiB: 4096 }]);
  t.same(devices('spm-pair'), [['volatile', 512], ['volatile', 512]]);
  t.same(all['spm-pair']!.windows.map((w) => w.targets), [['cxl.0'], ['cxl.1']], 'spm-pair: one window per device, so two CXL nodes');
  t.same(all.interleave!.windows, [{ targets: ['cxl.0', 'cxl.1'], sizeMiB: 4096, granularity: 4096 }]);
  t.same(all.dcd!.hostBridges[0]!.rootPorts[0]!.device, { id: 'cxlmem0', kind: 'dcd', sizeMiB: 512, dcRegions: 2 });
  t.same([all['hb-interleave']!.hostBridges.length, all['hb-interleave']!.hostBridges[0]!.rootPorts.length, regionSizeMiB(all['hb-interleave']!)], [1, 2, 1024], 'hb-interleave: one bridge, two ports, one 1 GiB region');
  t.same([regionCapacity(all['spm-interleave']!), regionSizeMiB(all['spm-interleave']!, 0), regionSizeMiB(all['spm-interleave']!, 1)], [2, 512, 1024], 'spm-interleave: C of one device, S of two');
  t.same([regionCapacity(all.pmem!), regionSizeMiB(all.pmem!), all.pmem!.hostBridges[0]!.rootPorts[1]!.device], [1, 512, { id: 'cxlpmem0', kind: 'persistent', sizeMiB: 512, lsaMiB: 1 }], 'pmem: one region of the volatile device; the persistent one is booted, not used');
  const ids = (n: string, i = 0) => regionDevices(all[n]!, i).map((d) => d.id);
  t.same([ids('switch'), regionSizeMiB(all.switch!), regionCapacity(all.switch!)], [['cxlmem0', 'cxlmem1'], 1024, 1], 'switch: one region of both devices, interleaved at the switch');
  t.same(all.switch!.hostBridges[0]!.switches[0]!.mailboxCci, { id: 'swcci0' }, 'switch: with a mailbox CCI');
  t.same([regionCapacity(all['spm-switch']!), ids('spm-switch', 0), ids('spm-switch', 1), regionSizeMiB(all['spm-switch']!, 1)], [2, ['cxlmem0'], ['cxlmem1', 'cxlmem2'], 1024], 'spm-switch: C on window 0, S of two devices below the switch on window 1');
  const runner = all['runner-default']!;
  t.same(topologyDevices(runner).map((d) => [d.id, d.kind]), [['cxl-pmem0', 'persistent'], ['cxl-pmem1', 'persistent'], ['cxl-vmem2', 'volatile'], ['cxl-vmem3', 'volatile']], 'runner-default: run_qemu\'s four devices, two persistent (cxl.0) and two volatile (cxl.1)');
  t.same([runner.hostBridges.map((h) => h.busNr), runner.windows.map((w) => w.targets), regionCapacity(runner)], [[53, 191], [['cxl.0'], ['cxl.0', 'cxl.1']], 0], 'runner-default: its bridges and windows; both windows need a volatile device below cxl.0, so no ram region');
  t.same(runner.hostBridges.map((h) => [h.switches.map((s) => s.downstreamPorts.length), h.emptyRootPorts.map((p) => p.id)]), [[[4], ['hb0rp1']], [[4], ['hb1rp1']]], 'runner-default: a switch of four downstream ports and an empty root port per bridge');
  t.same([all.default!.ramMiB, all.default!.cpus], [2048, 2]);
});

t.test('20 defaults: kind volatile, RAM 2 GiB, 2 CPUs, port/chassis/slot from the position', async (t) => {
  const topo = parseTopology(base(), FILE);
  t.same(topo.hostBridges[0]!.rootPorts[0], { id: 'rp0', port: 0, chassis: 0, slot: 2, device: { id: 'cxlmem0', kind: 'volatile', sizeMiB: 512 } });
  t.same([topo.ramMiB, topo.cpus, topo.file], [2048, 2, FILE]);
  t.same([topo.hostBridges[0]!.switches, topo.hostBridges[0]!.emptyRootPorts], [[], []]);
});

t.test('25 switch defaults: root ports count on across the lists, downstream ports take the slots after them', async (t) => {
  const topo = parseTopology({
    ...base(),
    hostBridges: [{
      id: 'cxl.0', busNr: 12,
      rootPorts: [{ id: 'rp0', device: { id: 'm0', sizeMiB: 256 } }],
      switches: [{ rootPort: { id: 'rp1' }, upstream: { id: 'us0' }, downstreamPorts: [{ id: 'd0', device: { id: 'm1', sizeMiB: 256 } }, { id: 'd1' }] }],
      emptyRootPorts: [{ id: 'rp2' }],
    }],
  }, FILE);
  const hb = topo.hostBridges[0]!;
  t.same(hb.switches[0], {
    rootPort: { id: 'rp1', port: 1, chassis: 0, slot: 3 },
    upstream: { id: 'us0', port: 2 },
    downstreamPorts: [{ id: 'd0', port: 0, chassis: 0, slot: 5, device: { id: 'm1', kind: 'volatile', sizeMiB: 256 } }, { id: 'd1', port: 1, chassis: 0, slot: 6 }],
  }, 'root port 1 of the bridge; upstream port one above its downstream ports; slots after the three root ports (2, 3, 4)');
  t.same(hb.emptyRootPorts, [{ id: 'rp2', port: 2, chassis: 0, slot: 4 }]);
  t.same(topologyDevices(topo).map((d) => d.id), ['m0', 'm1'], 'every device, in bus order');
});

t.test('30 every mistake names the file, the field and what is allowed', async (t) => {
  const cases: [string, (d: Record<string, any>) => void, RegExp][] = [
    ['name missing', (d) => delete d.name, /: name must be a non-empty string$/],
    ['misspelt top-level field', (d) => { d.hostbridges = []; }, /: hostbridges is not a topology field \(allowed here: name, description, ramMiB, cpus, ramNodes, hostBridges, windows\)/],
    ['misspelt window field', (d) => { d.windows[0].granularty = 256; }, /windows\[0\]\.granularty is not a topology field \(allowed here: targets, sizeMiB, granularity\)/],
    ['device kind', (d) => { d.hostBridges[0].rootPorts[0].device.kind = 'pmem'; }, /hostBridges\[0\]\.rootPorts\[0\]\.device\.kind must be one of volatile, dcd, persistent \(got "pmem"\)/],
    ['lsaMiB on a volatile device', (d) => { d.hostBridges[0].rootPorts[0].device.lsaMiB = 1; }, /device\.lsaMiB is only allowed with kind "persistent"/],
    ['device size not a multiple of 256', (d) => { d.hostBridges[0].rootPorts[0].device.sizeMiB = 300; }, /hostBridges\[0\]\.rootPorts\[0\]\.device\.sizeMiB must be a multiple of 256 \(got 300\)/],
    ['device size as a string', (d) => { d.hostBridges[0].rootPorts[0].device.sizeMiB = '512'; }, /device\.sizeMiB must be an integer \(got "512"\)/],
    ['dcRegions on a volatile device', (d) => { d.hostBridges[0].rootPorts[0].device.dcRegions = 2; }, /device\.dcRegions is only allowed with kind "dcd"/],
    ['RAM too small', (d) => { d.ramMiB = 100; }, /: ramMiB must be between 512 and 65536 \(got 100\)/],
    ['RAM that does not split across its nodes', (d) => { d.ramMiB = 2048; d.ramNodes = 3; }, /: ramNodes 3 must divide ramMiB 2048 and cpus 2 \(each node gets an equal share and a socket of its own\)/],
    ['a window over no host bridge', (d) => { d.hostBridges = []; }, /windows\[0\]\.targets/],
    ['host bridges without a window', (d) => { d.windows = []; }, /: windows needs at least 1 entry/],
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
    ['a host bridge without root ports', (d) => { d.hostBridges[0].rootPorts = []; }, /hostBridges\[0\] has no root port; give it at least one in rootPorts \(a device each\), switches or emptyRootPorts/],
    ['misspelt host bridge field', (d) => { d.hostBridges[0].switch = []; }, /hostBridges\[0\]\.switch is not a topology field \(allowed here: id, busNr, rootPorts, switches, emptyRootPorts\)/],
    ['misspelt switch field', (d) => { withSwitch(d).downstream = []; }, /hostBridges\[0\]\.switches\[0\]\.downstream is not a topology field \(allowed here: rootPort, upstream, mailboxCci, downstreamPorts\)/],
    ['switch without an upstream port', (d) => { delete withSwitch(d).upstream; }, /hostBridges\[0\]\.switches\[0\]\.upstream must be an object/],
    ['switch without a root port', (d) => { delete withSwitch(d).rootPort; }, /hostBridges\[0\]\.switches\[0\]\.rootPort must be an object/],
    ['switch without downstream ports', (d) => { withSwitch(d).downstreamPorts = []; }, /hostBridges\[0\]\.switches\[0\]\.downstreamPorts needs at least 1 entry/],
    ['downstream port number twice', (d) => { withSwitch(d).downstreamPorts[1].port = 0; }, /hostBridges\[0\]\.switches\[0\]\.downstreamPorts\[1\]\.port 0 is used twice on switch us0 \(also by hostBridges\[0\]\.switches\[0\]\.downstreamPorts\[0\]\); ports must differ/],
    ['upstream port number of a downstream port', (d) => { withSwitch(d).upstream.port = 1; }, /hostBridges\[0\]\.switches\[0\]\.upstream\.port 1 is also the port of downstream port dsp1; a switch numbers its upstream and downstream ports together, so give it another/],
    ['upstream serial number not an integer', (d) => { withSwitch(d).upstream.sn = '1234'; }, /hostBridges\[0\]\.switches\[0\]\.upstream\.sn must be an integer \(got "1234"\)/],
    ['switch root port number of a root port', (d) => { withSwitch(d).rootPort.port = 0; }, /hostBridges\[0\]\.switches\[0\]\.rootPort\.port 0 is used twice on host bridge cxl\.0 \(also by hostBridges\[0\]\.rootPorts\[0\]\)/],
    ['downstream port on a root port\'s chassis/slot', (d) => { withSwitch(d).downstreamPorts[0].slot = 2; },
      /hostBridges\[0\]\.switches\[0\]\.downstreamPorts\[0\] uses chassis 0 slot 2, already used by hostBridges\[0\]\.rootPorts\[0\]; every root port and switch downstream port needs its own \(chassis, slot\) pair/],
    ['upstream id used twice', (d) => { withSwitch(d).upstream.id = 'rp0'; }, /hostBridges\[0\]\.switches\[0\]\.upstream\.id: id "rp0" is used twice/],
    ['mailbox CCI without an id', (d) => { withSwitch(d).mailboxCci = {}; }, /hostBridges\[0\]\.switches\[0\]\.mailboxCci\.id must be a non-empty string/],
    ['device kind below a downstream port', (d) => { withSwitch(d).downstreamPorts[0].device.kind = 'ram'; }, /hostBridges\[0\]\.switches\[0\]\.downstreamPorts\[0\]\.device\.kind must be one of volatile, dcd, persistent \(got "ram"\)/],
    ['misspelt empty root port field', (d) => { d.hostBridges[0].emptyRootPorts = [{ id: 'rp9', device: {} }]; }, /hostBridges\[0\]\.emptyRootPorts\[0\]\.device is not a topology field \(allowed here: id, port, chassis, slot\)/],
    ['bus numbers a switch runs into the next bridge', (d) => {
      withSwitch(d);
      d.hostBridges.push({ id: 'cxl.1', busNr: 17, rootPorts: [{ id: 'rp9', chassis: 1, device: { id: 'cxlmem9', sizeMiB: 512 } }] });
    }, /hostBridges\[0\]\.busNr 12: host bridge cxl\.0 needs buses 12-17 for itself and its 2 root port\(s\) and 3 switch bus\(es\) \(each switch's internal bus and one per downstream port\), but cxl\.1 starts at bus 17; move cxl\.1 to busNr 18 or above/],
    ['window smaller than its switch\'s devices', (d) => { withSwitch(d); d.hostBridges[0].rootPorts = []; d.windows[0].sizeMiB = 512; },
      /windows\[0\]\.sizeMiB 512 is smaller than a region on it: 2 way\(s\) x 512 MiB \(cxlmem1, cxlmem2 below cxl\.0\) = 1024 MiB; make it at least 1024/],
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
  t.match(unknown.hint, 'use one of: cxl-test, dcd, default, hb-interleave, interleave, pmem, runner-default, spm-interleave, spm-pair, spm-switch, switch, or a path to a topology JSON file');

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

t.test('55 the position rule: index at each level = floor(p / ways above) mod ways here, the kernel\'s order', async (t) => {
  t.same(Array.from({ length: 8 }, (_, p) => positionPath(p, [2, 2, 2])), [[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 1], [1, 0, 1], [0, 1, 1], [1, 1, 1]], '2 bridges x 2 root ports x 2 downstream ports');
  t.same(Array.from({ length: 4 }, (_, p) => positionPath(p, [1, 1, 4])), [[0, 0, 0], [0, 0, 1], [0, 0, 2], [0, 0, 3]], 'one bridge, one root port: the switch takes every position');
  t.same(positionPath(5, [3, 2]), [2, 1], 'a 3-way window: bridge 5 mod 3, root port 5 div 3');
  for (const [R, H, S] of [[1, 2, 4], [2, 4, 2], [3, 2, 2], [4, 1, 4]] as const) {
    // cxl_calc_interleave_pos, from the endpoint up: p = (dsp x H + rp) x R + hb.
    const back = Array.from({ length: R * H * S }, (_, p) => positionPath(p, [R, H, S])).map(([hb, rp, dsp]) => (dsp! * H + rp!) * R + hb!);
    t.same(back, Array.from({ length: R * H * S }, (_, p) => p), `${R}x${H}x${S}: the kernel's bottom-up position gives p back`);
  }
});

t.test('56 pickRegion: the most ways every bridge can give, in position order', async (t) => {
  t.same(pickRegion([[['a0', 'a1', 'a2', 'a3']]]), ['a0', 'a1', 'a2', 'a3'], 'a switch of four: 4 ways at the switch');
  t.same(pickRegion([[['a0', 'a1', 'a2']]]), ['a0', 'a1'], 'a switch of three: 2 ways (switch decoders interleave powers of two)');
  t.same(pickRegion([[['a0'], ['a1'], ['a2']]]), ['a0', 'a1'], 'three root ports: 2 ways (so do host bridge decoders)');
  t.same(pickRegion([[['a0', 'a1']], [['b0', 'b1']]]), ['a0', 'b0', 'a1', 'b1'], 'two bridges with a switch each: bridge p mod 2, downstream port p div 2');
  t.same(pickRegion([[['a00', 'a01'], ['a10', 'a11']], [['b00', 'b01'], ['b10', 'b11']]]), ['a00', 'b00', 'a10', 'b10', 'a01', 'b01', 'a11', 'b11'], '2 x 2 x 2: bridge, then root port, then downstream port');
  t.same(pickRegion([[['a0', 'a1']], [['b0', 'b1']], [['c0', 'c1']]]), ['a0', 'b0', 'c0', 'a1', 'b1', 'c1'], 'a 3-way window over switches of two: 6 ways');
  t.same(pickRegion([[['a0', 'a1']], [['b0']]]), ['a0', 'b0'], 'every bridge gives as many: the narrower one decides');
  t.same(pickRegion([[['d'], ['s0', 's1']]]), ['d', 's0'], 'a device on a root port beside a switch: 2 root ports, 1 device each');
  t.same(pickRegion([[['d'], ['s0', 's1']]], (x) => x === 's1'), ['d', 's1'], 'a named device takes the place of the one that would leave it out');
  t.same(pickRegion([[['a0'], ['a1'], ['a2']]], (x) => x === 'a2'), ['a0', 'a2'], 'also among root ports');
  t.same(pickRegion([[['a0']], [['b0']]], (x) => x === 'c0'), [], 'a named device that is not below the window: none');
  t.same(pickRegion([[['a0']], []]), [], 'a bridge with nothing below: none');
  t.same(pickRegion([]), [], 'no bridges: none');
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
  const three = parseTopology({ ...base(), hostBridges: [{ id: 'cxl.0', busNr: 12, rootPorts: ports(3) }] }, FILE);
  t.same([regionDevices(three).map((d) => d.id), regionCapacity(three)], [['m0', 'm1'], 2], 'three ports: 2 ways (a host bridge decoder does not interleave 3), then a 1-way region');
  const switched = parseTopology({
    ...base(),
    hostBridges: [
      { id: 'a', busNr: 12, switches: [{ rootPort: { id: 'ra' }, upstream: { id: 'ua' }, downstreamPorts: [0, 1].map((k) => ({ id: `da${k}`, device: { id: `ma${k}`, sizeMiB: 256 } })) }] },
      { id: 'b', busNr: 22, switches: [{ rootPort: { id: 'rb' }, upstream: { id: 'ub' }, downstreamPorts: [0, 1].map((k) => ({ id: `db${k}`, device: { id: `mb${k}`, sizeMiB: 256 } })) }] },
    ],
    windows: [{ targets: ['a', 'b'], sizeMiB: 4096 }],
  }, FILE);
  t.same(regionDevices(switched).map((d) => d.id), ['ma0', 'mb0', 'ma1', 'mb1'], '2 bridges with a switch of 2 each: bridge p mod 2, downstream port p div 2');
  const partly = parseTopology({
    ...base(),
    hostBridges: [{ id: 'cxl.0', busNr: 12, switches: [{ rootPort: { id: 'rp0' }, upstream: { id: 'us0' }, downstreamPorts: [
      { id: 'd0', device: { id: 'p0', kind: 'persistent', sizeMiB: 256 } }, { id: 'd1' }, { id: 'd2', device: { id: 'v0', sizeMiB: 256 } }, { id: 'd3', device: { id: 'v1', sizeMiB: 256 } },
    ] }] }],
  }, FILE);
  t.same([regionDevices(partly).map((d) => d.id), regionCapacity(partly)], [['v0', 'v1'], 1], 'a switch interleaves its volatile devices only; an empty downstream port holds none');
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
  t.equal(spmSuite.unsuitedTopology?.(loadTopology('interleave')), 'it needs two CXL regions, C (the SysRAM control) and S (the isolated node), and topology interleave can make 1');
  t.equal(hotplugSuite.unsuitedTopology?.(loadTopology('interleave')), undefined);
  t.equal(hotplugSuite.unsuitedTopology?.(loadTopology('default')), undefined);
  t.match(hotplugSuite.unsuitedTopology?.(loadTopology('dcd')), /volatile CXL device/);
  t.equal(hotplugSuite.unsuitedTopology?.(loadTopology('switch')), undefined);
  t.match(hotplugSuite.unsuitedTopology?.(loadTopology('runner-default')), /volatile CXL device/);
  t.equal(spmSuite.unsuitedTopology?.(loadTopology('spm-switch')), undefined);
  t.equal(spmSuite.unsuitedTopology?.(loadTopology('switch')), 'it needs two CXL regions, C (the SysRAM control) and S (the isolated node), and topology switch can make 1');
});

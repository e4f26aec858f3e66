/**
 * Persistent memory on the emulated devices: the device and its label storage area, a pmem
 * region with its nvdimm region and a devdax namespace, that memory online as a NUMA node taking
 * pages, and everything taken down again with nothing left behind. The flows are the agent's
 * (src/agent/cxl/pmem.ts); the repro step kinds pmem-online / pmem-offline run the same ones.
 */
import { listPmem, offlinePmem, onlinePmem, pmemLabels, type PmemOnline } from '../remote/pmem.js';
import { topologyDevices } from '../qemu/topology.js';
import { ONLINE_PMEM } from './capabilities.js';
import type { CheckApi, Suite, SuiteContext } from './check.js';
import { PAGES, pagesLandOn } from './placement.js';

const CHECKS = {
  enumerate: { id: 'pmem.enumerate', title: 'every persistent device of the topology has its persistent capacity, a label storage area, a serial number and an nvdimm' },
  labels: { id: 'pmem.labels', title: 'the first 64 KiB of the label storage area read, zero (read back all zero) and take the first read back (read back the same bytes), through cxl read-labels / zero-labels / write-labels' },
  online: { id: 'pmem.online', title: 'a pmem region, its nvdimm region and a devdax namespace on it come up, and the namespace\'s memory comes online as a new NUMA node, every whole block of it, Movable' },
  place: { id: 'pmem.place', title: `${PAGES} pages bound (mbind MPOL_BIND) to the persistent-memory node land there` },
  offline: { id: 'pmem.offline', title: 'offline, devdax, destroy-namespace, disable and destroy the region: no region, namespace or dax device is left and the node has no memory' },
} as const;

/** The cxl region, the nd region, the namespace and the dax device of one pmem region share their number. */
const numberOf = (name: string | undefined): string | undefined => /^(?:region|namespace|dax)(\d+)/.exec(name ?? '')?.[1];

export const pmemSuite: Suite = {
  name: 'pmem',
  description: 'persistent memory on a CXL device: its labels, a pmem region, a devdax namespace onlined as a NUMA node, and all of it removed again',
  defaultTopology: 'pmem',
  unsuitedTopology: (t) => (topologyDevices(t).some((d) => d.kind === 'persistent') ? undefined : `it needs a persistent-memory device ("kind": "persistent", with its label storage area), and topology ${t.name} has none`),
  checks: Object.values(CHECKS),
  async run(ctx: SuiteContext) {
    const expected = topologyDevices(ctx.topology).filter((d) => d.kind === 'persistent');
    let memdev: string | undefined;
    await ctx.check(CHECKS.enumerate.id, CHECKS.enumerate.title, async (c: CheckApi) => {
      const r = await listPmem(c.guest);
      c.require('the agent listed the persistent devices', r.ok, r.ok ? undefined : r.error);
      const devices = r.value.devices;
      memdev = devices[0]?.memdev;
      const sizes = expected.map((d) => d.sizeMiB * 1024 * 1024).sort((a, b) => a - b);
      const whole = devices.every((d) => d.lsaSize > 0 && !!d.cxlNvdimm && d.serial !== undefined && Number(d.serial) !== 0);
      return {
        passed: devices.length === expected.length && JSON.stringify(devices.map((d) => d.pmemSize).sort((a, b) => a - b)) === JSON.stringify(sizes) && whole,
        expected: { devices: expected.length, pmemSizes: sizes, each: 'label storage > 0, a non-zero serial number, its cxl_nvdimm bound (it makes the nvdimm)' },
        observed: devices,
      };
    }, { needs: ['cxl-bus', 'cxl-pmem'] });

    await ctx.check(CHECKS.labels.id, CHECKS.labels.title, async (c: CheckApi) => {
      c.require('a persistent device', memdev !== undefined, 'pmem.enumerate found none');
      const r = await pmemLabels(c.guest, memdev!);
      c.require('the agent ran the label round trip', r.ok, r.ok ? undefined : r.error);
      const v = r.value;
      return {
        passed: v.ok && v.zeroed === true && v.restored === v.first && (v.bytes ?? 0) > 0,
        expected: { zeroed: true, restored: 'the sha256 of the first read' },
        observed: { ok: v.ok, code: v.code, error: v.error, memdev: v.memdev, bytes: v.bytes, first: v.first, zeroed: v.zeroed, restored: v.restored, ms: v.ms },
        ...(v.error ? { reason: v.error } : {}),
      };
    }, { needs: ['cxl-pmem'] });

    let online: PmemOnline | undefined;
    await ctx.check(CHECKS.online.id, CHECKS.online.title, async (c: CheckApi) => {
      c.require('a persistent device', memdev !== undefined, 'pmem.enumerate found none');
      const r = await onlinePmem(c.guest, memdev);
      c.require('the agent ran the pmem online flow', r.ok, r.ok ? undefined : r.error);
      online = r.value;
      const f = r.value.nodeFacts;
      const n = numberOf(r.value.region);
      const sameNumber = n !== undefined && [r.value.ndRegion, r.value.namespace, r.value.dax].every((x) => numberOf(x) === n);
      const blocksKiB = f && r.value.blockSize ? (f.blocks * r.value.blockSize) / 1024 : undefined;
      return {
        passed: r.value.ok && r.value.driver === 'kmem' && sameNumber && !!f && f.node > 0 && f.blocks > 0 && f.onlineBlocks === f.blocks && f.zones.every((z) => z === 'Movable') && f.memTotalKiB === blocksKiB,
        expected: { region: 'regionN, its nvdimm region regionN, namespaceN.0, daxN.0', driver: 'kmem', nodeAbove: 0, allBlocksOnline: true, zones: ['Movable'], memTotalKiB: 'its blocks x the block size' },
        observed: { ok: r.value.ok, error: r.value.error, region: r.value.region, ndRegion: r.value.ndRegion, namespace: r.value.namespace, dax: r.value.dax, driver: r.value.driver, node: f?.node, memTotalKiB: f?.memTotalKiB, blocks: f?.blocks, onlineBlocks: f?.onlineBlocks, zones: f?.zones, ms: r.value.ms },
        ...(r.value.error ? { reason: r.value.error } : {}),
      };
    }, { needs: ONLINE_PMEM });

    const node = online?.ok ? online.node : undefined;
    await ctx.check(CHECKS.place.id, CHECKS.place.title, async (c: CheckApi) => {
      c.require('the persistent-memory node is online', node !== undefined, 'pmem.online did not pass');
      return pagesLandOn(c, node!);
    }, { needs: ONLINE_PMEM });

    await ctx.check(CHECKS.offline.id, CHECKS.offline.title, async (c: CheckApi) => {
      c.require('a pmem region was made', !!online?.region, 'pmem.online made no region');
      const r = await offlinePmem(c.guest, online!.region!);
      c.require('the agent ran the pmem teardown', r.ok, r.ok ? undefined : r.error);
      const f = r.value.nodeFacts;
      return {
        passed: r.value.ok && r.value.left.length === 0 && !!f && !f.hasMemory && !((f.memTotalKiB ?? 0) > 0),
        expected: { left: [], hasMemory: false, memTotalKiB: 0 },
        observed: { ok: r.value.ok, code: r.value.code, error: r.value.error, left: r.value.left, node: r.value.node, nodeFacts: f, ms: r.value.ms },
        ...(r.value.error ? { reason: r.value.error } : {}),
      };
    }, { needs: [...ONLINE_PMEM, 'memory-hot-remove'] });
  },
};

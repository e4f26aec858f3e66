/**
 * The spine suite: CXL memory comes online as a new NUMA node, takes pages, gives them
 * back, and goes away again. Every later suite builds on these steps working.
 */
import { listCxl, offlineRegion, onlineRegion, type OnlineResult } from '../remote/region.js';
import { regionCapacity, regionSizeMiB, topologyDevices } from '../qemu/topology.js';
import { ONLINE_REGION, REMOVE_REGION } from './capabilities.js';
import type { CheckApi, Suite, SuiteContext } from './check.js';
import { PAGES, pagesLandOn } from './placement.js';


const CHECKS = {
  enumerate: { id: 'hotplug.enumerate', title: 'the guest sees every CXL Type-3 device and root decoder of the topology' },
  online: { id: 'hotplug.online', title: 'cxl create-region onlines the first window (every volatile device it reaches) as a new NUMA node with all their memory, Movable' },
  place: { id: 'hotplug.place', title: `${PAGES} pages bound (mbind MPOL_BIND) to the CXL node land there, per move_pages` },
  movePages: { id: 'hotplug.move-pages', title: 'move_pages moves pages from the CXL node back to node 0' },
  offline: { id: 'hotplug.offline', title: 'offline + devdax + destroy-region removes the memory: the node has none left and the region is gone' },
} as const;

export const hotplugSuite: Suite = {
  name: 'hotplug',
  description: 'online a CXL region as a NUMA node (region -> dax -> kmem), place and move pages on it, offline and remove it',
  defaultTopology: 'default',
  unsuitedTopology: (t) => (regionCapacity(t) < 1 ? 'it needs a window with a volatile CXL device below each of its host bridges, to online as a node' : undefined),
  checks: Object.values(CHECKS),
  async run(ctx: SuiteContext) {
    const expectedDevices = topologyDevices(ctx.topology).length;
    await ctx.check(CHECKS.enumerate.id, CHECKS.enumerate.title, async (c: CheckApi) => {
      const r = await listCxl(c.guest);
      c.require('the agent listed the CXL topology', r.ok, r.ok ? undefined : r.error);
      const observed = { memdevs: r.value.memdevs.map((m) => m.memdev), rootDecoders: r.value.rootDecoders.map((d) => d.decoder) };
      return {
        passed: observed.memdevs.length === expectedDevices && observed.rootDecoders.length === ctx.topology.windows.length,
        expected: { memdevs: expectedDevices, rootDecoders: ctx.topology.windows.length },
        observed,
      };
    }, { needs: ['cxl-bus'] });

    let online: OnlineResult | undefined;
    await ctx.check(CHECKS.online.id, CHECKS.online.title, async (c: CheckApi) => {
      const r = await onlineRegion(c.guest, { method: 'ndctl' });
      c.require('the agent ran the region online flow', r.ok, r.ok ? undefined : r.error);
      online = r.value;
      const f = r.value.nodeFacts;
      const sizeKiB = regionSizeMiB(ctx.topology) * 1024;
      return {
        passed: r.value.ok && r.value.driver === 'kmem' && !!f && f.node > 0 && f.memTotalKiB === sizeKiB && f.onlineBlocks === f.blocks && f.zones.every((z) => z === 'Movable'),
        expected: { driver: 'kmem', nodeAbove: 0, memTotalKiB: sizeKiB, allBlocksOnline: true, zones: ['Movable'] },
        observed: { ok: r.value.ok, error: r.value.error, region: r.value.region, dax: r.value.dax, driver: r.value.driver, node: f?.node, memTotalKiB: f?.memTotalKiB, blocks: f?.blocks, onlineBlocks: f?.onlineBlocks, zones: f?.zones },
        ...(r.value.error ? { reason: r.value.error } : {}),
      };
    }, { needs: ONLINE_REGION });

    const node = online?.ok ? online.node : undefined;
    await ctx.check(CHECKS.place.id, CHECKS.place.title, async (c: CheckApi) => {
      c.require('the CXL node is online', node !== undefined, 'hotplug.online did not pass');
      return pagesLandOn(c, node!);
    }, { needs: ONLINE_REGION });

    await ctx.check(CHECKS.movePages.id, CHECKS.movePages.title, async (c: CheckApi) => {
      c.require('the CXL node is online', node !== undefined, 'hotplug.online did not pass');
      const r = await c.guest.probe.run('move-pages', { pages: PAGES, mbind: 'bind', mbindNodes: [node], to: 0 });
      c.require('the move-pages probe ran', !('failure' in r), 'failure' in r ? r.message : undefined);
      const before = r.placed?.nodes[String(node)] ?? 0;
      const after = r.after?.nodes['0'] ?? 0;
      c.require(`the pages started on node ${node}`, before === PAGES, JSON.stringify(r.placed));
      return { passed: r.ok && r.move?.ok === true && after === PAGES, expected: { before: { [`node${node}`]: PAGES }, after: { node0: PAGES } }, observed: { before: r.placed, move: r.move && { ok: r.move.ok, code: r.move.code, counts: r.move.counts }, after: r.after } };
    }, { needs: ONLINE_REGION });

    await ctx.check(CHECKS.offline.id, CHECKS.offline.title, async (c: CheckApi) => {
      c.require('a region was created', !!online?.region, 'hotplug.online created no region');
      const r = await offlineRegion(c.guest, online!.region!);
      c.require('the agent ran the region offline flow', r.ok, r.ok ? undefined : r.error);
      const f = r.value.nodeFacts;
      return {
        passed: r.value.ok && !!f && !f.hasMemory && !(Number(f.memTotalKiB) > 0),
        expected: { hasMemory: false, memTotalKiB: 0, regionGone: true },
        observed: { ok: r.value.ok, error: r.value.error, node: r.value.node, nodeFacts: f },
        ...(r.value.error ? { reason: r.value.error } : {}),
      };
    }, { needs: REMOVE_REGION });
  },
};

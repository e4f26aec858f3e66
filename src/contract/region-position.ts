/**
 * Where each device of a region sits in its interleave: the one rule the guest's region flow
 * (agent/cxl/topology.ts pickTargets) and the host's model of a topology (qemu/topology.ts)
 * share, spelled once for both sides. Pure.
 */

/** The interleave ways a root decoder (a window) and a region can have. */
export const CXL_WAYS: readonly number[] = [1, 2, 3, 4, 6, 8, 12, 16];

/**
 * The interleave ways a host bridge's or a switch's decoder can have: powers of two up to 8
 * (drivers/cxl/core/region.c, cxl_port_setup_targets: "switch level decoders only support
 * powers of 2", and more than 8 targets is refused).
 */
export const PORT_WAYS: readonly number[] = [1, 2, 4, 8];

/**
 * Where position p of a region sits on its decode path. `ways` lists each level's interleave
 * ways from the root down (the window across its host bridges, each bridge across its root
 * ports, each switch across its downstream ports); the result is the target index at each
 * level: floor(p / (the product of the ways above)) mod the ways here. The kernel's rule:
 * cxl_region_attach_position wants host bridge p mod R, and cxl_calc_interleave_pos builds
 * p = (downstream port x H + root port) x R + host bridge from the endpoint up.
 */
export function positionPath(p: number, ways: readonly number[]): number[] {
  let above = 1;
  return ways.map((w) => {
    const index = Math.floor(p / above) % w;
    above *= w;
    return index;
  });
}

/** A region's shape below its window: H root ports of each host bridge, S devices below each of those. */
interface RegionShape { rootPorts: number; downstream: number }

/** The shapes a region across `bridges` host bridges can take, most ways first (then most root ports). */
function regionShapes(bridges: number): RegionShape[] {
  return PORT_WAYS.flatMap((rootPorts) => PORT_WAYS.map((downstream) => ({ rootPorts, downstream })))
    .filter((s) => CXL_WAYS.includes(bridges * s.rootPorts * s.downstream))
    .sort((a, b) => b.rootPorts * b.downstream - a.rootPorts * a.downstream || b.rootPorts - a.rootPorts);
}

/** The first n of a list, in order; when an item `prefer` accepts lies past them, it takes the n-th place. */
function firstN<T>(list: readonly T[], n: number, prefer?: (item: T) => boolean): T[] {
  const first = list.slice(0, n);
  const wanted = prefer && first.length === n && !first.some(prefer) ? list.slice(n).find(prefer) : undefined;
  return wanted === undefined ? first : [...first.slice(0, n - 1), wanted];
}

/**
 * The devices of a region on one window, in position order: the one rule the guest's flow
 * (pickTargets) and the host's model of it (qemu/topology.ts regionDevices) share.
 * `below[b][r]` holds the free devices below root port r (bus order) of the window's host
 * bridge b (target_list order): the device on the port itself, or one per downstream port of
 * the switch on it (bus order). The region takes the most ways the decoders allow (H root
 * ports per bridge and S devices per root port in PORT_WAYS, R x H x S in CXL_WAYS) that every
 * bridge can give: the first H of its root ports with S devices, the first S devices of each;
 * position p is below[hb][rp][dsp] with [hb, rp, dsp] = positionPath(p, [R, H, S]). With
 * `must`, the most ways that include a device it accepts (taken in place of the last port or
 * device of a level that would leave it out). Empty when no shape fits.
 */
export function pickRegion<T>(below: readonly (readonly (readonly T[])[])[], must?: (device: T) => boolean): T[] {
  const bridges = below.length;
  for (const { rootPorts, downstream } of regionShapes(bridges)) {
    const holdsMust = must && ((devices: readonly T[]) => devices.some(must));
    const chosen = below.map((ports) => firstN(ports.filter((devices) => devices.length >= downstream), rootPorts, holdsMust)
      .map((devices) => firstN(devices, downstream, must)));
    if (chosen.some((ports) => ports.length < rootPorts)) continue;
    const devices = Array.from({ length: bridges * rootPorts * downstream }, (_, p) => {
      const [hb = 0, rp = 0, dsp = 0] = positionPath(p, [bridges, rootPorts, downstream]);
      return chosen[hb]![rp]![dsp]!;
    });
    if (!must || devices.some(must)) return devices;
  }
  return [];
}

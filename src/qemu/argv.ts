/**
 * Topology + run settings -> QEMU argv. Pure: no files, no processes, fully unit-tested.
 * The measured facts from DESIGN.md are encoded here and nowhere else:
 * - `-cpu max,hypervisor=off`: with the hypervisor CPUID bit, CXL region commit fails.
 * - an SRAT (memory-backend + -numa node) so each fixed window gets its own NUMA node.
 * - every virtio device with disable-legacy/iommu_platform/x-max-bounce-buffer-size,
 *   or DMA into CXL pages hangs the guest.
 */
import { topologyDevices, type CxlSwitch, type PortSlot, type Topology, type Type3Device } from './topology.js';

export type Accel = 'tcg' | 'kvm';

export interface VmSpec {
  topology: Topology;
  kernel: string;
  initrd?: string;
  /** Kernel command line (see kernelCmdline). */
  append: string;
  /** Root disk image (ext4, raw); attached with snapshot=on so the cached image is never written. */
  rootImage?: string;
  /** The harness payload disk (read-only), mounted by the guest's init at /opt/cxl-harness. */
  payloadImage?: string;
  consoleLog: string;
  qmpSocket: string;
  /** Host port forwarded (on 127.0.0.1 only) to the guest's sshd. */
  sshPort: number;
  accel: Accel;
}

/** Options every virtio device needs so that device DMA into CXL pages does not hang the guest. */
export const VIRTIO_SAFE_DMA = 'disable-legacy=on,iommu_platform=on,x-max-bounce-buffer-size=16M';

export function topologyToArgv(spec: VmSpec): string[] {
  const { topology: t } = spec;
  // A topology without host bridges is a machine without CXL: no cxl=on, so no ACPI0017 either
  // (cxl_test's mock cxl_acpi would bind it beside its own).
  const machine = t.hostBridges.length ? ['q35', 'cxl=on'] : ['q35'];
  t.windows.forEach((w, i) => {
    w.targets.forEach((target, k) => machine.push(`cxl-fmw.${i}.targets.${k}=${target}`));
    machine.push(`cxl-fmw.${i}.size=${w.sizeMiB}M`);
    if (w.granularity !== undefined) machine.push(`cxl-fmw.${i}.interleave-granularity=${w.granularity}`);
  });

  const argv: string[] = [
    '-nodefaults',
    '-no-user-config',
    '-display', 'none',
    '-machine', machine.join(','),
    // One TCG thread for all vCPUs: with a thread per vCPU (QEMU's default), a vCPU can run
    // stale translated code while another patches kernel text (static keys, text_poke_bp): seen
    // as "Oops: int3" at a static-key site right after "sched_clock: Marking stable" and as a
    // boot that stopped printing at hpet0, in 1 of 30 boots of two guests at once beside a
    // CPU hog, never in 30 with one thread. It costs about 3 s of boot and 3 s of SPM suite on
    // a quiet machine, nothing beside a busy one.
    '-accel', spec.accel === 'tcg' ? 'tcg,thread=single' : spec.accel,
    '-cpu', spec.accel === 'kvm' ? 'host,hypervisor=off' : 'max,hypervisor=off',
    '-smp', t.ramNodes > 1 ? `${t.cpus},sockets=${t.ramNodes}` : String(t.cpus),
    '-m', `${t.ramMiB}M`,
    // The SRAT: the RAM and CPUs on nodes 0..ramNodes-1 (node 0 alone by default); windows
    // without an SRAT entry get the nodes after them.
    ...ramNodeArgs(t),
  ];

  // A persistent device needs a serial number: without one QEMU gives it no DSN capability, Linux
  // reads serial 0, and from 6.15 cxl_pmem refuses the region ("invalid or missing serial
  // number"): the region commits but no nvdimm region appears. Each gets its own, by position.
  const serials = new Map(topologyDevices(t).map((d, i) => [d.id, i + 1]));
  const type3Args = (d: Type3Device, bus: string): string[] => type3DeviceArgs(d, bus, serials.get(d.id)!);
  for (const hb of t.hostBridges) {
    argv.push('-device', `pxb-cxl,bus_nr=${hb.busNr},bus=pcie.0,id=${hb.id}`);
    // QEMU gives the root ports their bus addresses in this order, which topology.ts's region model follows.
    for (const rp of hb.rootPorts) argv.push(...rootPortArgs(rp, hb.id), ...type3Args(rp.device, rp.id));
    for (const s of hb.switches) argv.push(...rootPortArgs(s.rootPort, hb.id), ...switchArgs(s, type3Args));
    for (const rp of hb.emptyRootPorts) argv.push(...rootPortArgs(rp, hb.id));
  }

  argv.push('-kernel', spec.kernel);
  if (spec.initrd) argv.push('-initrd', spec.initrd);
  argv.push('-append', spec.append);
  if (spec.rootImage) {
    argv.push(
      '-drive', `file=${spec.rootImage},if=none,id=root,format=raw,snapshot=on,cache=unsafe`,
      '-device', `virtio-blk-pci,bus=pcie.0,drive=root,${VIRTIO_SAFE_DMA}`,
    );
  }
  if (spec.payloadImage) {
    argv.push(
      '-drive', `file=${spec.payloadImage},if=none,id=payload,format=raw,readonly=on`,
      '-device', `virtio-blk-pci,bus=pcie.0,drive=payload,${VIRTIO_SAFE_DMA}`,
    );
  }
  argv.push(
    '-netdev', `user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:${spec.sshPort}-:22`,
    // No option ROM: the firmware would load and run iPXE for a NIC the guest never boots from.
    '-device', `virtio-net-pci,bus=pcie.0,netdev=net0,romfile=,${VIRTIO_SAFE_DMA}`,
    '-chardev', `file,id=console0,path=${spec.consoleLog}`,
    '-serial', 'chardev:console0',
    '-qmp', `unix:${spec.qmpSocket},server=on,wait=off`,
    '-no-reboot',
  );
  return argv;
}

/** Each RAM node with its share of the memory and of the CPUs (a socket each: topology.ts). */
function ramNodeArgs(t: Topology): string[] {
  const per = t.cpus / t.ramNodes;
  return Array.from({ length: t.ramNodes }, (_, k) => {
    const cpus = per === 1 ? `${k}` : `${k * per}-${(k + 1) * per - 1}`;
    return ['-object', `memory-backend-ram,id=ram-node${k},size=${t.ramMiB / t.ramNodes}M`, '-numa', `node,nodeid=${k},cpus=${cpus},memdev=ram-node${k}`];
  }).flat();
}

function rootPortArgs(rp: PortSlot, bridge: string): string[] {
  return ['-device', `cxl-rp,port=${rp.port},bus=${bridge},id=${rp.id},chassis=${rp.chassis},slot=${rp.slot}`];
}

/**
 * A switch below its root port: the upstream port (function 0 of the root port's bus, with the
 * mailbox CCI beside it as function 1), then each downstream port and its device.
 */
function switchArgs(s: CxlSwitch, type3Args: (d: Type3Device, bus: string) => string[]): string[] {
  const { rootPort: rp, upstream: up, mailboxCci: cci } = s;
  const args = ['-device', `cxl-upstream,port=${up.port},bus=${rp.id},id=${up.id}${cci ? ',multifunction=on,addr=0.0' : ''}${up.sn === undefined ? '' : `,sn=${up.sn}`}`];
  if (cci) args.push('-device', `cxl-switch-mailbox-cci,bus=${rp.id},addr=0.1,target=${up.id},id=${cci.id}`);
  for (const d of s.downstreamPorts) {
    args.push('-device', `cxl-downstream,port=${d.port},bus=${up.id},id=${d.id},chassis=${d.chassis},slot=${d.slot}`);
    if (d.device) args.push(...type3Args(d.device, d.id));
  }
  return args;
}

/** A Type-3 device on `bus` (a root port or a downstream port) with its memory backends; a persistent one with its serial number. */
function type3DeviceArgs(d: Type3Device, bus: string, serial: number): string[] {
  const args = ['-object', `memory-backend-ram,id=${d.id}-mem,share=on,size=${d.sizeMiB}M`];
  if (d.kind === 'dcd') return [...args, '-device', `cxl-type3,bus=${bus},volatile-dc-memdev=${d.id}-mem,num-dc-regions=${d.dcRegions ?? 1},id=${d.id}`];
  if (d.kind === 'persistent') {
    return [...args, '-object', `memory-backend-ram,id=${d.id}-lsa,share=on,size=${d.lsaMiB ?? 1}M`, '-device', `cxl-type3,bus=${bus},persistent-memdev=${d.id}-mem,lsa=${d.id}-lsa,sn=${serial},id=${d.id}`];
  }
  return [...args, '-device', `cxl-type3,bus=${bus},volatile-memdev=${d.id}-mem,id=${d.id}`];
}

export interface CmdlineOptions {
  /** Path of init inside the root filesystem. */
  init?: string;
  extra?: string[];
}

/**
 * The kernel command line: serial console, panic=-1 with -no-reboot (a panic ends QEMU
 * instead of hanging), hot-added memory onlined Movable (so offline never hits EBUSY
 * from pinned slab pages).
 */
export function kernelCmdline(options: CmdlineOptions = {}): string {
  return [
    'console=ttyS0,115200',
    'root=/dev/vda',
    'rootfstype=ext4',
    'rw',
    `init=${options.init ?? '/sbin/cxl-init'}`,
    'panic=-1',
    'memhp_default_state=online_movable',
    'net.ifnames=0',
    'printk.time=1',
    ...(options.extra ?? []),
  ].join(' ');
}

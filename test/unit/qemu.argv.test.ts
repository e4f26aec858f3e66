/**
 * Topology -> QEMU argv, exactly, and the kernel command line. The measured facts of
 * DESIGN.md live here and nowhere else, so each one has an assertion that fails when it goes.
 */
import t from 'tap';
import { kernelCmdline, topologyToArgv, VIRTIO_SAFE_DMA, type VmSpec } from '../../src/qemu/argv.js';
import { loadTopology } from '../../src/qemu/topology.js';

function spec(name: string, over: Partial<VmSpec> = {}): VmSpec {
  return {
    topology: loadTopology(name),
    kernel: '/k/bzImage',
    initrd: '/k/initramfs.cpio',
    append: 'APPEND',
    rootImage: '/img/root.ext4',
    payloadImage: '/img/payload.ext4',
    consoleLog: '/r/console.log',
    qmpSocket: '/tmp/q.qmp',
    sshPort: 2222,
    accel: 'tcg',
    ...over,
  };
}

const HEAD = ['-nodefaults', '-no-user-config', '-display', 'none'];
const CPU_RAM = [
  '-accel', 'tcg,thread=single',
  '-cpu', 'max,hypervisor=off',
  '-smp', '2',
  '-m', '2048M',
  '-object', 'memory-backend-ram,id=ram-node0,size=2048M',
  '-numa', 'node,nodeid=0,cpus=0-1,memdev=ram-node0',
];
const TAIL = [
  '-kernel', '/k/bzImage',
  '-initrd', '/k/initramfs.cpio',
  '-append', 'APPEND',
  '-drive', 'file=/img/root.ext4,if=none,id=root,format=raw,snapshot=on,cache=unsafe',
  '-device', 'virtio-blk-pci,bus=pcie.0,drive=root,disable-legacy=on,iommu_platform=on,x-max-bounce-buffer-size=16M',
  '-drive', 'file=/img/payload.ext4,if=none,id=payload,format=raw,readonly=on',
  '-device', 'virtio-blk-pci,bus=pcie.0,drive=payload,disable-legacy=on,iommu_platform=on,x-max-bounce-buffer-size=16M',
  '-netdev', 'user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:2222-:22',
  '-device', 'virtio-net-pci,bus=pcie.0,netdev=net0,romfile=,disable-legacy=on,iommu_platform=on,x-max-bounce-buffer-size=16M',
  '-chardev', 'file,id=console0,path=/r/console.log',
  '-serial', 'chardev:console0',
  '-qmp', 'unix:/tmp/q.qmp,server=on,wait=off',
  '-no-reboot',
];
const bridge = (n: number, bus: number) => [
  '-device', `pxb-cxl,bus_nr=${bus},bus=pcie.0,id=cxl.${n}`,
  '-device', `cxl-rp,port=0,bus=cxl.${n},id=rp${n},chassis=${n},slot=2`,
  '-object', `memory-backend-ram,id=cxlmem${n}-mem,share=on,size=512M`,
  '-device', `cxl-type3,bus=rp${n},volatile-memdev=cxlmem${n}-mem,id=cxlmem${n}`,
];

t.test('10 default: one host bridge, one volatile Type-3 device, one window', async (t) => {
  t.same(topologyToArgv(spec('default')), [
    ...HEAD,
    '-machine', 'q35,cxl=on,cxl-fmw.0.targets.0=cxl.0,cxl-fmw.0.size=4096M',
    ...CPU_RAM,
    ...bridge(0, 12),
    ...TAIL,
  ]);
});

t.test('20 spm-pair: two bridges, two windows (two CXL nodes)', async (t) => {
  t.same(topologyToArgv(spec('spm-pair')), [
    ...HEAD,
    '-machine', 'q35,cxl=on,cxl-fmw.0.targets.0=cxl.0,cxl-fmw.0.size=4096M,cxl-fmw.1.targets.0=cxl.1,cxl-fmw.1.size=4096M',
    ...CPU_RAM,
    ...bridge(0, 12),
    ...bridge(1, 22),
    ...TAIL,
  ]);
});

t.test('30 interleave: one window across both bridges with its granularity', async (t) => {
  t.same(topologyToArgv(spec('interleave')), [
    ...HEAD,
    '-machine', 'q35,cxl=on,cxl-fmw.0.targets.0=cxl.0,cxl-fmw.0.targets.1=cxl.1,cxl-fmw.0.size=4096M,cxl-fmw.0.interleave-granularity=4096',
    ...CPU_RAM,
    ...bridge(0, 12),
    ...bridge(1, 22),
    ...TAIL,
  ]);
});

t.test('40 dcd: a dynamic-capacity device with its DC regions', async (t) => {
  const dcd = bridge(0, 12);
  dcd[dcd.length - 1] = 'cxl-type3,bus=rp0,volatile-dc-memdev=cxlmem0-mem,num-dc-regions=2,id=cxlmem0';
  t.same(topologyToArgv(spec('dcd')), [
    ...HEAD,
    '-machine', 'q35,cxl=on,cxl-fmw.0.targets.0=cxl.0,cxl-fmw.0.size=4096M',
    ...CPU_RAM,
    ...dcd,
    ...TAIL,
  ]);
});

t.test('45 pmem: a persistent-memory device with its label storage area beside a volatile one', async (t) => {
  t.same(topologyToArgv(spec('pmem')), [
    ...HEAD,
    '-machine', 'q35,cxl=on,cxl-fmw.0.targets.0=cxl.0,cxl-fmw.0.size=4096M',
    ...CPU_RAM,
    '-device', 'pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.0',
    '-device', 'cxl-rp,port=0,bus=cxl.0,id=rp0,chassis=0,slot=2',
    '-object', 'memory-backend-ram,id=cxlmem0-mem,share=on,size=512M',
    '-device', 'cxl-type3,bus=rp0,volatile-memdev=cxlmem0-mem,id=cxlmem0',
    '-device', 'cxl-rp,port=1,bus=cxl.0,id=rp1,chassis=0,slot=3',
    '-object', 'memory-backend-ram,id=cxlpmem0-mem,share=on,size=512M',
    '-object', 'memory-backend-ram,id=cxlpmem0-lsa,share=on,size=1M',
    '-device', 'cxl-type3,bus=rp1,persistent-memdev=cxlpmem0-mem,lsa=cxlpmem0-lsa,sn=2,id=cxlpmem0',
    ...TAIL,
  ]);
});

t.test('46 switch: the upstream port as function 0 of the root port\'s bus, the mailbox CCI as function 1, devices on the downstream ports', async (t) => {
  t.same(topologyToArgv(spec('switch')), [
    ...HEAD,
    '-machine', 'q35,cxl=on,cxl-fmw.0.targets.0=cxl.0,cxl-fmw.0.size=4096M',
    ...CPU_RAM,
    '-device', 'pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.0',
    '-device', 'cxl-rp,port=0,bus=cxl.0,id=rp0,chassis=0,slot=2',
    '-device', 'cxl-upstream,port=2,bus=rp0,id=us0,multifunction=on,addr=0.0',
    '-device', 'cxl-switch-mailbox-cci,bus=rp0,addr=0.1,target=us0,id=swcci0',
    '-device', 'cxl-downstream,port=0,bus=us0,id=dsp0,chassis=0,slot=3',
    '-object', 'memory-backend-ram,id=cxlmem0-mem,share=on,size=512M',
    '-device', 'cxl-type3,bus=dsp0,volatile-memdev=cxlmem0-mem,id=cxlmem0',
    '-device', 'cxl-downstream,port=1,bus=us0,id=dsp1,chassis=0,slot=4',
    '-object', 'memory-backend-ram,id=cxlmem1-mem,share=on,size=512M',
    '-device', 'cxl-type3,bus=dsp1,volatile-memdev=cxlmem1-mem,id=cxlmem1',
    ...TAIL,
  ]);
});

t.test('47 spm-switch: a switch without a mailbox CCI is a plain upstream port', async (t) => {
  const argv = topologyToArgv(spec('spm-switch'));
  const devices = argv.flatMap((a, i) => (a === '-device' && /^(pxb-cxl|cxl-)/.test(argv[i + 1]!) ? [argv[i + 1]!] : []));
  t.same(devices, [
    'pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.0',
    'cxl-rp,port=0,bus=cxl.0,id=rp0,chassis=0,slot=2',
    'cxl-type3,bus=rp0,volatile-memdev=cxlmem0-mem,id=cxlmem0',
    'pxb-cxl,bus_nr=22,bus=pcie.0,id=cxl.1',
    'cxl-rp,port=0,bus=cxl.1,id=rp1,chassis=1,slot=2',
    'cxl-upstream,port=2,bus=rp1,id=us1',
    'cxl-downstream,port=0,bus=us1,id=dsp1,chassis=1,slot=3',
    'cxl-type3,bus=dsp1,volatile-memdev=cxlmem1-mem,id=cxlmem1',
    'cxl-downstream,port=1,bus=us1,id=dsp2,chassis=1,slot=4',
    'cxl-type3,bus=dsp2,volatile-memdev=cxlmem2-mem,id=cxlmem2',
  ]);
});

t.test('48 runner-default: pmem/run_qemu\'s default CXL devices and windows, its ids, ports, slots and serial numbers', async (t) => {
  const argv = topologyToArgv(spec('runner-default'));
  const values = (flag: string) => argv.flatMap((a, i) => (a === flag ? [argv[i + 1]!] : []));
  t.equal(values('-machine')[0], 'q35,cxl=on,cxl-fmw.0.targets.0=cxl.0,cxl-fmw.0.size=4096M,cxl-fmw.0.interleave-granularity=8192,cxl-fmw.1.targets.0=cxl.0,cxl-fmw.1.targets.1=cxl.1,cxl-fmw.1.size=4096M,cxl-fmw.1.interleave-granularity=8192');
  const downstream = (up: string, first: number, slot: number) => [0, 1, 2, 3].map((k) => `cxl-downstream,port=${k},bus=${up},id=swport${first + k},chassis=0,slot=${slot + k}`);
  t.same(values('-device').filter((d) => /^(pxb-cxl|cxl-)/.test(d)), [
    'pxb-cxl,bus_nr=53,bus=pcie.0,id=cxl.0',
    'cxl-rp,port=0,bus=cxl.0,id=hb0rp0,chassis=0,slot=0',
    'cxl-upstream,port=4,bus=hb0rp0,id=cxl-up0,multifunction=on,addr=0.0,sn=12345678',
    'cxl-switch-mailbox-cci,bus=hb0rp0,addr=0.1,target=cxl-up0,id=cxl-up0-cci',
    downstream('cxl-up0', 0, 4)[0], 'cxl-type3,bus=swport0,persistent-memdev=cxl-pmem0-mem,lsa=cxl-pmem0-lsa,sn=1,id=cxl-pmem0',
    downstream('cxl-up0', 0, 4)[1],
    downstream('cxl-up0', 0, 4)[2], 'cxl-type3,bus=swport2,persistent-memdev=cxl-pmem1-mem,lsa=cxl-pmem1-lsa,sn=2,id=cxl-pmem1',
    downstream('cxl-up0', 0, 4)[3],
    'cxl-rp,port=1,bus=cxl.0,id=hb0rp1,chassis=0,slot=1',
    'pxb-cxl,bus_nr=191,bus=pcie.0,id=cxl.1',
    'cxl-rp,port=0,bus=cxl.1,id=hb1rp0,chassis=0,slot=2',
    'cxl-upstream,port=4,bus=hb1rp0,id=cxl-up1,multifunction=on,addr=0.0,sn=12341234',
    'cxl-switch-mailbox-cci,bus=hb1rp0,addr=0.1,target=cxl-up1,id=cxl-up1-cci',
    downstream('cxl-up1', 4, 8)[0], 'cxl-type3,bus=swport4,volatile-memdev=cxl-vmem2-mem,id=cxl-vmem2',
    downstream('cxl-up1', 4, 8)[1],
    downstream('cxl-up1', 4, 8)[2], 'cxl-type3,bus=swport6,volatile-memdev=cxl-vmem3-mem,id=cxl-vmem3',
    downstream('cxl-up1', 4, 8)[3],
    'cxl-rp,port=1,bus=cxl.1,id=hb1rp1,chassis=0,slot=3',
  ]);
  t.same(values('-object').filter((o) => o.startsWith('memory-backend-ram,id=cxl-')).map((o) => o.replace(/^memory-backend-ram,id=([^,]+),share=on,size=(\w+)$/, '$1 $2')),
    ['cxl-pmem0-mem 256M', 'cxl-pmem0-lsa 1M', 'cxl-pmem1-mem 256M', 'cxl-pmem1-lsa 1M', 'cxl-vmem2-mem 256M', 'cxl-vmem3-mem 256M']);
});

t.test('50 the measured facts hold for every preset and both accelerators', async (t) => {
  for (const name of ['default', 'spm-pair', 'interleave', 'dcd', 'switch', 'spm-switch', 'runner-default']) {
    for (const accel of ['tcg', 'kvm'] as const) {
      const argv = topologyToArgv(spec(name, { accel }));
      const values = (flag: string) => argv.flatMap((a, i) => (a === flag ? [argv[i + 1]!] : []));
      const label = `${name}/${accel}`;
      // With the CPUID hypervisor bit, CXL region commit fails.
      t.same(values('-cpu'), [accel === 'kvm' ? 'host,hypervisor=off' : 'max,hypervisor=off'], `${label}: hypervisor bit off`);
      // Without an SRAT the CXL memory lands in node 0.
      t.same(values('-numa'), ['node,nodeid=0,cpus=0-1,memdev=ram-node0'], `${label}: SRAT node 0`);
      // Every virtio device gets the safe-DMA options, or DMA into CXL pages hangs the guest.
      const virtio = values('-device').filter((d) => d.startsWith('virtio'));
      t.equal(virtio.length, 3, `${label}: three virtio devices (root, payload, net)`);
      for (const d of virtio) t.ok(d.endsWith(`,${VIRTIO_SAFE_DMA}`), `${label}: ${d.split(',')[0]} has ${VIRTIO_SAFE_DMA}`);
      // The guest is reachable from this host only, and reaches nothing.
      t.same(values('-netdev'), ['user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:2222-:22'], `${label}: restricted net, hostfwd on 127.0.0.1`);
      // A panic (panic=-1) ends QEMU instead of rebooting into a loop.
      t.ok(argv.includes('-no-reboot'), `${label}: -no-reboot`);
      // The cached image is never written.
      t.match(values('-drive')[0], /,snapshot=on,/, `${label}: root image snapshot=on`);
      t.match(values('-drive')[1], /,readonly=on$/, `${label}: payload image read-only`);
      t.same(values('-accel'), [accel === 'tcg' ? 'tcg,thread=single' : 'kvm'], `${label}: accel (TCG on one thread: no vCPU runs stale code while another patches the kernel)`);
    }
  }
  t.equal(VIRTIO_SAFE_DMA, 'disable-legacy=on,iommu_platform=on,x-max-bounce-buffer-size=16M');
});

t.test('60 without an initrd or a root image those options are left out', async (t) => {
  const s = spec('default');
  delete s.initrd;
  delete s.rootImage;
  delete s.payloadImage;
  const argv = topologyToArgv(s);
  t.notOk(argv.includes('-initrd'));
  t.notOk(argv.includes('-drive'));
  t.equal(argv.filter((a) => a.startsWith('virtio-blk')).length, 0);
});

t.test('70 kernelCmdline: serial console, panic=-1, hot-added memory onlined Movable', async (t) => {
  t.equal(
    kernelCmdline(),
    'console=ttyS0,115200 root=/dev/vda rootfstype=ext4 rw init=/sbin/cxl-init panic=-1 memhp_default_state=online_movable net.ifnames=0 printk.time=1',
  );
  const words = kernelCmdline({ init: '/bin/sh', extra: ['module_blacklist=cxl_acpi', 'loglevel=8'] }).split(' ');
  t.ok(words.includes('panic=-1'), 'a panic reboots at once, and -no-reboot turns that into QEMU exiting');
  t.ok(words.includes('memhp_default_state=online_movable'), 'offline never hits EBUSY from slab pages');
  t.ok(words.includes('init=/bin/sh'));
  t.same(words.slice(-2), ['module_blacklist=cxl_acpi', 'loglevel=8'], 'extra arguments come last, so they win');
});

t.test('60 cxl-test: no CXL hardware, so no cxl=on and no CXL device (cxl_test mocks its own), and two RAM nodes', async (t) => {
  const argv = topologyToArgv(spec('cxl-test'));
  t.equal(argv[argv.indexOf('-machine') + 1], 'q35');
  t.notOk(argv.some((a) => /cxl/.test(a)), 'nothing CXL on the command line');
  t.equal(argv[argv.indexOf('-smp') + 1], '2,sockets=2', 'a socket per node: CPUs of one socket on two nodes make the kernel WARN');
  // cxl_test puts its mock devices on nodes 0 and 1: both must exist, with memory.
  t.same(argv.flatMap((a, i) => (a === '-numa' || (a === '-object' && argv[i + 1]!.startsWith('memory-backend-ram,id=ram-node')) ? [argv[i + 1]] : [])), [
    'memory-backend-ram,id=ram-node0,size=1024M', 'node,nodeid=0,cpus=0,memdev=ram-node0',
    'memory-backend-ram,id=ram-node1,size=1024M', 'node,nodeid=1,cpus=1,memdev=ram-node1',
  ]);
});

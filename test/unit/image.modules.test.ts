/**
 * Which module files the first-stage initramfs loads, in which order: from the modules.*
 * index lines recorded from Debian's kernels (sid 7.2 in fixtures/spine, trixie 6.12 and
 * bookworm 6.1 in fixtures/kernel/modules-*, only the lines the root disk needs).
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { loadOrder, MODULE_INDEX_FILES, moduleName, parseModuleIndex, type ModuleFiles } from '../../src/image/modules.js';
import { ROOT_DISK_MODULES } from '../../src/image/initramfs.js';

const dep = readFileSync(new URL('../fixtures/spine/modules.dep', import.meta.url), 'utf8');
const builtin = readFileSync(new URL('../fixtures/spine/modules.builtin', import.meta.url), 'utf8');
const sid = (): ModuleFiles => ({ dep, builtin });
/** Every index file of a recorded kernel's fixture directory. */
const recorded = (name: string): ModuleFiles => {
  const files = {} as ModuleFiles;
  for (const [key, file] of Object.entries(MODULE_INDEX_FILES) as Array<[keyof ModuleFiles, string]>) {
    files[key] = readFileSync(new URL(`../fixtures/kernel/modules-${name}/${file}`, import.meta.url), key === 'builtinModinfo' ? 'latin1' : 'utf8');
  }
  return files;
};

t.test('10 module names: directory, compression suffix and dashes do not matter', async (t) => {
  t.equal(moduleName('kernel/fs/ext4/ext4.ko.xz'), 'ext4');
  t.equal(moduleName('kernel/drivers/block/virtio_blk.ko.zst'), 'virtio_blk');
  t.equal(moduleName('kernel/net/batman-adv/batman-adv.ko'), 'batman_adv');
  t.equal(moduleName('virtio-pci.ko.gz'), 'virtio_pci');
});

t.test('20 the index of the recorded Debian lines', async (t) => {
  const index = parseModuleIndex(sid());
  t.equal(index.path.get('ext4'), 'kernel/fs/ext4/ext4.ko.xz');
  t.same(index.deps.get('ext4'), ['crc16', 'mbcache', 'jbd2']);
  t.same(index.deps.get('virtio_blk'), []);
  t.same(index.deps.get('ocfs2'), ['ocfs2_stackglue', 'ocfs2_nodemanager', 'configfs', 'jbd2', 'quota_tree']);
  t.ok(index.builtin.has('virtio_pci'), 'virtio_pci is built into the Debian kernel');
  t.ok(index.builtin.has('virtio_ring'));
  t.notOk(index.builtin.has('virtio_blk'), 'virtio_blk is a module there: the initramfs must load it');
  t.equal(index.path.size, 6);
});

t.test('30 the root disk modules load dependencies first, each once', async (t) => {
  t.same(ROOT_DISK_MODULES, ['virtio_pci', 'virtio_blk', 'ext4']);
  const { files, missing } = loadOrder(parseModuleIndex(sid()), ROOT_DISK_MODULES);
  t.same(files, [
    'kernel/drivers/block/virtio_blk.ko.xz',
    'kernel/lib/crc/crc16.ko.xz',
    'kernel/fs/mbcache.ko.xz',
    'kernel/fs/jbd2/jbd2.ko.xz',
    'kernel/fs/ext4/ext4.ko.xz',
  ]);
  t.same(missing, []);
  // Asking twice, or for a dependency too, changes nothing.
  t.same(loadOrder(parseModuleIndex(sid()), ['ext4', 'jbd2', 'ext4']).files, [
    'kernel/lib/crc/crc16.ko.xz', 'kernel/fs/mbcache.ko.xz', 'kernel/fs/jbd2/jbd2.ko.xz', 'kernel/fs/ext4/ext4.ko.xz',
  ]);
});

t.test('40 built-in modules need no file; unknown ones are reported missing', async (t) => {
  const index = parseModuleIndex(sid());
  t.same(loadOrder(index, ['virtio_pci', 'virtio-ring']), { files: [], missing: [], softMissing: [] });
  t.same(loadOrder(index, ['virtio_blk', 'btrfs']), { files: ['kernel/drivers/block/virtio_blk.ko.xz'], missing: ['btrfs'], softMissing: [] });
  // A kernel with everything built in (a source build with kernel-config/cxl.config): nothing to load.
  t.same(loadOrder(parseModuleIndex({ dep: '', builtin: 'kernel/drivers/virtio/virtio_pci.ko\nkernel/drivers/block/virtio_blk.ko\nkernel/fs/ext4/ext4.ko\n' }), ROOT_DISK_MODULES), { files: [], missing: [], softMissing: [] });
  // A modules.dep that lost an entry a module depends on: the dependency is missing, not skipped.
  const broken = parseModuleIndex({ dep: 'kernel/fs/ext4/ext4.ko.xz: kernel/fs/jbd2/jbd2.ko.xz\n' });
  t.same(loadOrder(broken, ['ext4']), { files: ['kernel/fs/ext4/ext4.ko.xz'], missing: ['jbd2'], softMissing: [] });
});

t.test('50 trixie 6.12: ext4 needs crc32c, named only as a soft dependency through an alias', async (t) => {
  const index = parseModuleIndex(recorded('trixie-6.12'));
  t.same(index.softdep.get('ext4'), { pre: ['crypto_crc32c'], post: [] });
  t.same(index.alias.get('crypto_crc32c'), ['crc32c_intel', 'crc32c_generic'], 'both carriers, in modules.alias order');
  const order = loadOrder(index, ROOT_DISK_MODULES);
  t.same(order.files, [
    'kernel/drivers/block/virtio_blk.ko.xz',
    // ext4's soft pre-dependency first (every module carrying the alias, as modprobe loads them)...
    'kernel/arch/x86/crypto/crc32c-intel.ko.xz',
    'kernel/crypto/crc32c_generic.ko.xz',
    // ...then its hard dependencies (jbd2's own softdep is the same alias, already loaded), then ext4.
    'kernel/lib/crc16.ko.xz',
    'kernel/fs/mbcache.ko.xz',
    'kernel/fs/jbd2/jbd2.ko.xz',
    'kernel/fs/ext4/ext4.ko.xz',
  ]);
  t.same(order.missing, []);
  t.same(order.softMissing, []);
});

t.test('60 bookworm 6.1: plain .ko files under lib/modules, and the virtio PCI transport is a module', async (t) => {
  const index = parseModuleIndex(recorded('bookworm-6.1'));
  const order = loadOrder(index, ROOT_DISK_MODULES);
  t.same(order.files, [
    // Without virtio_pci there is no /dev/vda at all on 6.1 (measured). modules.dep order;
    // none of these four depends on another.
    'kernel/drivers/virtio/virtio_pci_legacy_dev.ko',
    'kernel/drivers/virtio/virtio_pci_modern_dev.ko',
    'kernel/drivers/virtio/virtio_ring.ko',
    'kernel/drivers/virtio/virtio.ko',
    'kernel/drivers/virtio/virtio_pci.ko',
    'kernel/drivers/block/virtio_blk.ko',
    'kernel/arch/x86/crypto/crc32c-intel.ko',
    'kernel/crypto/crc32c_generic.ko',
    'kernel/lib/crc16.ko',
    'kernel/fs/mbcache.ko',
    'kernel/fs/jbd2/jbd2.ko',
    'kernel/fs/ext4/ext4.ko',
  ]);
  t.same(order.missing, []);
});

t.test('70 modules.builtin.modinfo: built-in modules and their aliases, NUL-separated', async (t) => {
  const index = parseModuleIndex(recorded('trixie-6.12'));
  t.ok(index.builtin.has('virtio_pci'), 'virtio_pci is built in on trixie (from modules.builtin and .modinfo)');
  // A built-in module named by an alias is resolved and needs no file.
  const modinfo = ['crc32c_generic.file=crypto/crc32c_generic', 'crc32c_generic.alias=crypto-crc32c', 'crc32c_generic.alias=crc32c', ''].join('\0');
  const builtinCrc = parseModuleIndex({ dep: 'kernel/fs/ext4/ext4.ko.zst:\n', builtinModinfo: modinfo, softdep: 'softdep ext4 pre: crypto-crc32c\n' });
  t.same(loadOrder(builtinCrc, ['ext4']), { files: ['kernel/fs/ext4/ext4.ko.zst'], missing: [], softMissing: [] });
  // A soft dependency nobody carries does not stop the load (modprobe goes on too), but is reported.
  const noCrc = parseModuleIndex({ dep: 'kernel/fs/ext4/ext4.ko.gz:\n', softdep: 'softdep ext4 pre: crypto-crc32c post: ext4-extra\n' });
  t.same(loadOrder(noCrc, ['ext4']), { files: ['kernel/fs/ext4/ext4.ko.gz'], missing: [], softMissing: ['crypto_crc32c', 'ext4_extra'] });
  // Device-id patterns in modules.alias are never a name.
  t.equal(parseModuleIndex({ dep: '', alias: 'alias virtio:d00000002v* virtio_blk\n' }).alias.size, 0);
});

/**
 * Which module files the first-stage initramfs loads, in which order: from modules.dep and
 * modules.builtin lines recorded from the Debian kernel the harness boots by default.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { loadOrder, moduleName, parseModuleIndex } from '../src/image/modules.js';
import { ROOT_DISK_MODULES } from '../src/image/initramfs.js';

const dep = readFileSync(new URL('./fixtures/spine/modules.dep', import.meta.url), 'utf8');
const builtin = readFileSync(new URL('./fixtures/spine/modules.builtin', import.meta.url), 'utf8');

t.test('10 module names: directory, compression suffix and dashes do not matter', async (t) => {
  t.equal(moduleName('kernel/fs/ext4/ext4.ko.xz'), 'ext4');
  t.equal(moduleName('kernel/drivers/block/virtio_blk.ko.zst'), 'virtio_blk');
  t.equal(moduleName('kernel/net/batman-adv/batman-adv.ko'), 'batman_adv');
  t.equal(moduleName('virtio-pci.ko.gz'), 'virtio_pci');
});

t.test('20 the index of the recorded Debian lines', async (t) => {
  const index = parseModuleIndex(dep, builtin);
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
  t.same(ROOT_DISK_MODULES, ['virtio_blk', 'ext4']);
  const { files, missing } = loadOrder(parseModuleIndex(dep, builtin), ROOT_DISK_MODULES);
  t.same(files, [
    'kernel/drivers/block/virtio_blk.ko.xz',
    'kernel/lib/crc/crc16.ko.xz',
    'kernel/fs/mbcache.ko.xz',
    'kernel/fs/jbd2/jbd2.ko.xz',
    'kernel/fs/ext4/ext4.ko.xz',
  ]);
  t.same(missing, []);
  // Asking twice, or for a dependency too, changes nothing.
  t.same(loadOrder(parseModuleIndex(dep, builtin), ['ext4', 'jbd2', 'ext4']).files, [
    'kernel/lib/crc/crc16.ko.xz', 'kernel/fs/mbcache.ko.xz', 'kernel/fs/jbd2/jbd2.ko.xz', 'kernel/fs/ext4/ext4.ko.xz',
  ]);
});

t.test('40 built-in modules need no file; unknown ones are reported missing', async (t) => {
  const index = parseModuleIndex(dep, builtin);
  t.same(loadOrder(index, ['virtio_pci', 'virtio-ring']), { files: [], missing: [] });
  t.same(loadOrder(index, ['virtio_blk', 'btrfs']), { files: ['kernel/drivers/block/virtio_blk.ko.xz'], missing: ['btrfs'] });
  // A kernel with everything built in (a source build with kernel-config/cxl.config): nothing to load.
  t.same(loadOrder(parseModuleIndex('', 'kernel/drivers/block/virtio_blk.ko\nkernel/fs/ext4/ext4.ko\n'), ROOT_DISK_MODULES), { files: [], missing: [] });
  // A modules.dep that lost an entry a module depends on: the dependency is missing, not skipped.
  const broken = parseModuleIndex('kernel/fs/ext4/ext4.ko.xz: kernel/fs/jbd2/jbd2.ko.xz\n');
  t.same(loadOrder(broken, ['ext4']), { files: ['kernel/fs/ext4/ext4.ko.xz'], missing: ['jbd2'] });
});

/**
 * A kernel the user brings (--kernel PATH): the release read from the bzImage header, and one
 * clear error for a missing file, a directory, and a file that is not a kernel.
 */
import t from 'tap';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bzImageRelease, prebuiltKernel } from '../../src/kernel/prebuilt.js';

/** A bzImage head as the x86 boot protocol lays it out: "HdrS" at 0x202, version pointer at 0x20e. */
function bzImageHead(version: string | undefined, size = 0x5000): Buffer {
  const head = Buffer.alloc(size);
  head.writeUInt16LE(0xaa55, 0x1fe);
  head.write('HdrS', 0x202, 'latin1');
  head.writeUInt16LE(0x020f, 0x206); // boot protocol 2.15
  if (version !== undefined) {
    const at = 0x4500; // where the Debian 7.2.13 image has it (pointer 0x4300 + 0x200)
    head.writeUInt16LE(at - 0x200, 0x20e);
    head.write(`${version}\0`, at, 'latin1');
  }
  return head;
}

const DEBIAN = '7.2.13+deb14-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 7.2.13-1 (2026-10-28)';

t.test('10 bzImageRelease reads the release from the header', async (t) => {
  t.equal(bzImageRelease(bzImageHead(DEBIAN)), '7.2.13+deb14-amd64');
  t.equal(bzImageRelease(bzImageHead('7.3.0-rc1-spm+ (me@box) #4 SMP')), '7.3.0-rc1-spm+');
  t.equal(bzImageRelease(bzImageHead(undefined)), undefined, 'no version pointer: release unknown');
  t.equal(bzImageRelease(bzImageHead(DEBIAN).subarray(0, 0x4400)), undefined, 'pointer past the head read: unknown, not garbage');
  t.equal(bzImageRelease(Buffer.from('\x7fELF' + '\0'.repeat(0x300), 'latin1')), null, 'vmlinux (ELF) is not a bzImage');
  t.equal(bzImageRelease(Buffer.alloc(0x100)), null, 'too short to hold a header');
  const noMagic = bzImageHead(DEBIAN);
  noMagic.write('HdrX', 0x202, 'latin1');
  t.equal(bzImageRelease(noMagic), null);
});

t.test('20 prebuiltKernel: release from the header, modules dir from an INSTALL_MOD_PATH root', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cxlh-prebuilt-'));
  const image = join(dir, 'bzImage');
  writeFileSync(image, bzImageHead('7.3.0-spm #1 SMP'));
  const modules = join(dir, 'mods', 'lib', 'modules', '7.3.0-spm');
  mkdirSync(modules, { recursive: true });
  writeFileSync(join(modules, 'modules.dep'), '');
  const k = await prebuiltKernel(image, join(dir, 'mods'));
  t.same(k, {
    image,
    release: '7.3.0-spm',
    modulesDir: modules,
    config: undefined,
    identity: { origin: 'prebuilt', release: '7.3.0-spm', imagePath: image, patches: [], patchsetHash: '' },
  });
  t.equal((await prebuiltKernel(image)).modulesDir, undefined, 'modules are optional');
});

t.test('30 each bad --kernel is one clear error naming the path and the fix', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cxlh-prebuilt-'));
  await t.rejects(prebuiltKernel(join(dir, 'nope')), {
    code: 'KERNEL_MISSING',
    message: `kernel image ${join(dir, 'nope')} does not exist`,
    hint: /bzImage/,
  });
  await t.rejects(prebuiltKernel(dir), {
    code: 'KERNEL_UNREADABLE',
    message: `kernel image ${dir} cannot be read: it is a directory`,
    hint: /not a directory/,
  });
  const text = join(dir, 'README');
  writeFileSync(text, 'not a kernel\n'.repeat(100));
  await t.rejects(prebuiltKernel(text), {
    code: 'KERNEL_NOT_BZIMAGE',
    message: `${text} is not an x86 bzImage (no "HdrS" boot header)`,
    hint: /not vmlinux/,
  });
  const image = join(dir, 'bzImage');
  writeFileSync(image, bzImageHead('7.3.0-spm #1'));
  await t.rejects(prebuiltKernel(image, dir), {
    code: 'MODULES_INVALID',
    message: `no modules.dep found in ${dir} for 7.3.0-spm`,
    hint: /modules_install INSTALL_MOD_PATH/,
  });
});

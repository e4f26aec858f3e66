/**
 * The real thing, on Debian's linux-source-7.2 from sid: downloaded and unpacked once into the
 * harness cache (so only the first run pays ~150 MB and ~20-40 s), then a real patch series is
 * applied in the harness's work tree and the tree is configured with defconfig + cxl.config.
 * No compile here (see kernel.full-build.test.ts).
 */
import t, { type Test } from 'tap';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256 } from '../../src/cache.js';
import { HarnessError } from '../../src/errors.js';
import { prepareKernelTree, type KernelProgress } from '../../src/kernel/build.js';
import { parseDotConfig } from '../../src/kernel/fragments.js';
import { fetchDebianKernelSource, treeManifestHash } from '../../src/kernel/source.js';
import { mailPatch } from '../fixtures/kernel/helpers.js';

const PACKAGE = 'linux-source-7.2';
const source = { debianPackage: PACKAGE, suite: 'sid' };

const started = Date.now();
const pristine = await fetchDebianKernelSource({ package: PACKAGE, suite: 'sid' });
t.comment(`${PACKAGE} ${pristine.debVersion} ready in ${((Date.now() - started) / 1000).toFixed(1)} s at ${pristine.dir}`);
const cxlKconfig = readFileSync(join(pristine.dir, 'drivers/cxl/Kconfig'), 'utf8');
const mmKconfig = readFileSync(join(pristine.dir, 'mm/Kconfig'), 'utf8');
const manifestBefore = await treeManifestHash(pristine.dir);

const dir = t.testdir({});
const ADDED = '\t  cxl-harness: this line was added by patch 1 of the test series.\n';
const cxlPatched = cxlKconfig.replace('devices supporting these protocols.\n', `devices supporting these protocols.\n${ADDED}`);
// Patch 2 was "written against" a tree where this ZONE_DEVICE help line read differently.
const WRONG = 'Device memory hotplug support allows establishing pmem,';
const mmOther = mmKconfig.replace('Device memory hotplug support allows for establishing pmem,', WRONG);
const good = join(dir, 'good');
const bad = join(dir, 'bad');
mkdirSync(good);
mkdirSync(bad);
const p1 = await mailPatch('[PATCH 1/2] cxl: say more in the CXL_BUS help', 'drivers/cxl/Kconfig', cxlKconfig, cxlPatched, join(dir, 't1'));
const p2 = await mailPatch('[PATCH 2/2] mm: reword the ZONE_DEVICE help', 'mm/Kconfig', mmOther, mmOther.replace(WRONG, 'Device memory hotplug lets us establish pmem,'), join(dir, 't2'));
writeFileSync(join(good, '0001-cxl-help.patch'), p1);
writeFileSync(join(bad, '0001-cxl-help.patch'), p1);
writeFileSync(join(bad, '0002-mm-zone-device-help.patch'), p2);

async function assertPristineUntouched(t: Test): Promise<void> {
  t.equal(sha256(readFileSync(join(pristine.dir, 'drivers/cxl/Kconfig'))), sha256(cxlKconfig), 'drivers/cxl/Kconfig unchanged in the source tree');
  t.equal(sha256(readFileSync(join(pristine.dir, 'mm/Kconfig'))), sha256(mmKconfig), 'mm/Kconfig unchanged in the source tree');
  t.equal(await treeManifestHash(pristine.dir), manifestBefore, 'no file of the source tree changed (paths, sizes, mtimes)');
}

t.test('a conflicting patch is named with its file and hunk; the source tree is untouched', async (t) => {
  const err = (await prepareKernelTree({ source, patches: bad, stopAfter: 'patch' }).catch((e: unknown) => e)) as HarnessError;
  t.ok(err instanceof HarnessError);
  t.equal(err.code, 'PATCH_CONFLICT');
  t.comment(err.describe());
  t.match(err.message, /^patch 2\/2 "mm: reword the ZONE_DEVICE help" \(.*0002-mm-zone-device-help\.patch\) does not apply to version 7\.2\.\d+/);
  t.match(err.message, /mm\/Kconfig hunk #1 \(@@ -\d+,\d+ \+\d+,\d+ @@\) failed at line 12\d\d/);
  t.match(err.message, new RegExp(`failing hunk:\\n@@[^\\n]*\\n(.*\\n)*-\\t  ${WRONG}`));
  t.equal((err.context.patch as { subject: string }).subject, 'mm: reword the ZONE_DEVICE help');
  await assertPristineUntouched(t);
});

t.test('defconfig + cxl.config + olddefconfig: every fragment line lands', async (t) => {
  const phases: string[] = [];
  const p = await prepareKernelTree({ source, patches: good, onProgress: (e: KernelProgress) => phases.push(e.phase) });
  t.same([...new Set(phases)], ['source', 'patch', 'configure']);
  t.equal(readFileSync(join(p.tree, 'drivers/cxl/Kconfig'), 'utf8'), cxlPatched, 'patch 1 applied in the work tree');
  const values = parseDotConfig(readFileSync(p.config, 'utf8'));
  for (const sym of ['CXL_BUS', 'CXL_PCI', 'CXL_ACPI', 'CXL_MEM', 'CXL_REGION', 'DEV_DAX', 'DEV_DAX_CXL', 'DEV_DAX_KMEM', 'TRANSPARENT_HUGEPAGE', 'ZONE_DEVICE', 'MEMORY_HOTREMOVE', 'MHP_MEMMAP_ON_MEMORY', 'NUMA', 'ACPI_HMAT', 'CPUSETS', 'MEMCG', 'ZSWAP', 'ZRAM', 'VIRTIO_PCI', 'VIRTIO_BLK', 'EXT4_FS', 'DEVTMPFS']) {
    t.equal(values.get(sym), 'y', `CONFIG_${sym}=y`);
  }
  t.equal(values.get('WERROR'), 'n', 'WERROR off although the 7.x defconfig turns it on');
  t.equal(p.settings.length, 38);
  t.equal(p.identity.sourceVersion, pristine.version);
  t.equal(p.identity.package, `${PACKAGE}=${pristine.debVersion}`);
  t.same(p.identity.patches!.map((x) => x.subject), ['cxl: say more in the CXL_BUS help']);
  t.equal(p.identity.patches![0]!.sha256, sha256(p1));
  await assertPristineUntouched(t);
});

t.test('an option with an unmet dependency is named with the dependency', async (t) => {
  const frag = join(dir, 'no-thp.config');
  writeFileSync(frag, '# my fragment\n# CONFIG_TRANSPARENT_HUGEPAGE is not set\nCONFIG_NO_SUCH_OPTION=y\n');
  const err = (await prepareKernelTree({ source, fragments: [frag] }).catch((e: unknown) => e)) as HarnessError;
  t.ok(err instanceof HarnessError);
  t.equal(err.code, 'CONFIG_NOT_LANDED');
  t.comment(err.describe());
  t.match(err.message, /CONFIG_DEV_DAX=y \(kernel-config\/cxl\.config:\d+\) did not land: absent from \.config: depends on TRANSPARENT_HUGEPAGE \(drivers\/dax\/Kconfig:\d+\); unmet: TRANSPARENT_HUGEPAGE \(n\)/);
  t.match(err.message, /CONFIG_DEV_DAX_KMEM=y .* unmet: DEV_DAX \(n\)/);
  t.match(err.message, /CONFIG_NO_SUCH_OPTION=y \(.*no-thp\.config:3\) did not land: absent from \.config: there is no option NO_SUCH_OPTION in this tree/);
  const symbols = (err.context.mismatches as Array<{ symbol: string }>).map((m) => m.symbol).sort();
  t.same(symbols, ['DEV_DAX', 'DEV_DAX_CXL', 'DEV_DAX_KMEM', 'NO_SUCH_OPTION']);
  t.match(err.hint!, /unmet dependencies/);
  await assertPristineUntouched(t);
});

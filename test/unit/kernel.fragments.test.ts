import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  applySettings,
  describeMismatch,
  mergeFragments,
  parseDotConfig,
  parseFragment,
  verifySettings,
} from '../../src/kernel/fragments.js';
import { HarnessError } from '../../src/errors.js';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'kernel');
const base = readFileSync(join(fixtures, 'base.config'), 'utf8');
const final = readFileSync(join(fixtures, 'final.config'), 'utf8');

t.test('parseFragment reads settings, not-set lines and skips comments', async (t) => {
  const s = parseFragment({ source: 'a.config', text: '# comment\n\nCONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C="x y"\n  CONFIG_D=0x10  \n' });
  t.same(
    s.map((x) => [x.symbol, x.value, x.line]),
    [
      ['A', 'y', 3],
      ['B', 'n', 4],
      ['C', '"x y"', 5],
      ['D', '0x10', 6],
    ],
  );
  t.equal(s[0]!.source, 'a.config');
});

t.test('parseFragment names the file and line of a bad line', async (t) => {
  const err = t.throws(() => parseFragment({ source: 'mine.config', text: 'CONFIG_A=y\nDEV_DAX=y\n' })) as HarnessError;
  t.equal(err.code, 'CONFIG_FRAGMENT_SYNTAX');
  t.match(err.message, /^mine\.config:2: not a config line: "DEV_DAX=y"/);
});

t.test('mergeFragments: a later line wins, first position kept, overrides listed', async (t) => {
  const m = mergeFragments([
    { source: 'kernel-config/cxl.config', text: 'CONFIG_A=y\nCONFIG_B=y\n# CONFIG_WERROR is not set\n' },
    { source: 'user.config', text: '# CONFIG_A is not set\nCONFIG_C=m\nCONFIG_B=y\n' },
  ]);
  t.same(
    m.settings.map((s) => [s.symbol, s.value, s.source]),
    [
      ['A', 'n', 'user.config'],
      ['B', 'y', 'user.config'],
      ['WERROR', 'n', 'kernel-config/cxl.config'],
      ['C', 'm', 'user.config'],
    ],
  );
  // B was set twice to the same value: not an override.
  t.equal(m.overridden.length, 1);
  t.equal(m.overridden[0]!.earlier.value, 'y');
  t.equal(m.overridden[0]!.later.value, 'n');
});

t.test('applySettings replaces base lines for the same symbols and appends the settings', async (t) => {
  const { settings } = mergeFragments([{ source: 'f', text: '# CONFIG_WERROR is not set\nCONFIG_TRANSPARENT_HUGEPAGE=y\nCONFIG_DAX=y\nCONFIG_NEW=y\n' }]);
  const out = applySettings(base, settings);
  const values = parseDotConfig(out);
  t.equal(values.get('WERROR'), 'n');
  t.equal(values.get('TRANSPARENT_HUGEPAGE'), 'y');
  t.equal(values.get('DAX'), 'y');
  t.equal(values.get('NEW'), 'y');
  t.equal(values.get('NR_CPUS'), '64', 'untouched base lines stay');
  t.equal(out.match(/CONFIG_WERROR/g)?.length, 1, 'exactly one line per symbol');
  t.equal(out.match(/TRANSPARENT_HUGEPAGE/g)?.length, 1);
});

t.test('verifySettings: absent and not-set both mean n; strings, hex and tristates compared', async (t) => {
  const { settings } = mergeFragments([
    {
      source: 'cxl.config',
      text: [
        '# CONFIG_WERROR is not set', // ok: not set
        '# CONFIG_KASAN is not set', // ok: absent
        'CONFIG_DAX=y', // ok
        'CONFIG_PHYSICAL_START=0X1000000', // ok: hex case
        'CONFIG_LOCALVERSION="-cxl"', // ok
        'CONFIG_TRANSPARENT_HUGEPAGE=y', // not set in final
        'CONFIG_DEV_DAX=y', // absent in final
        'CONFIG_NUMA=m', // became y
        'CONFIG_NR_CPUS=128', // became 64
      ].join('\n'),
    },
  ]);
  const mismatches = verifySettings(settings, final);
  t.same(
    mismatches.map((m) => [m.setting.symbol, m.actual]),
    [
      ['TRANSPARENT_HUGEPAGE', 'n'],
      ['DEV_DAX', undefined],
      ['NUMA', 'y'],
      ['NR_CPUS', '64'],
    ],
  );
  t.equal(describeMismatch(mismatches[0]!), 'CONFIG_TRANSPARENT_HUGEPAGE=y (cxl.config:6) did not land: is not set');
  t.equal(describeMismatch(mismatches[1]!), 'CONFIG_DEV_DAX=y (cxl.config:7) did not land: absent from .config');
  t.equal(describeMismatch(mismatches[2]!), 'CONFIG_NUMA=m (cxl.config:8) did not land: became y');
});

t.test('the shipped fragments parse and ask for what the CXL guest needs', async (t) => {
  const root = join(import.meta.dirname, '..', '..', 'kernel-config');
  const cxl = new Map(parseFragment({ source: 'cxl', text: readFileSync(join(root, 'cxl.config'), 'utf8') }).map((s) => [s.symbol, s.value]));
  for (const sym of ['CXL_BUS', 'CXL_PCI', 'CXL_ACPI', 'CXL_MEM', 'CXL_REGION', 'DEV_DAX', 'DEV_DAX_CXL', 'DEV_DAX_KMEM', 'TRANSPARENT_HUGEPAGE', 'ZONE_DEVICE', 'MEMORY_HOTREMOVE', 'MHP_MEMMAP_ON_MEMORY', 'ACPI_HMAT', 'CPUSETS', 'MEMCG', 'ZSWAP', 'ZRAM', 'VIRTIO_PCI', 'EXT4_FS', 'DEVTMPFS']) {
    t.equal(cxl.get(sym), 'y', `${sym}=y`);
  }
  t.equal(cxl.get('WERROR'), 'n');
  const debug = new Map(parseFragment({ source: 'debug', text: readFileSync(join(root, 'debug.config'), 'utf8') }).map((s) => [s.symbol, s.value]));
  for (const sym of ['KASAN', 'DEBUG_VM', 'PROVE_LOCKING', 'DEBUG_PAGEALLOC', 'DEBUG_LIST']) t.equal(debug.get(sym), 'y', `${sym}=y`);
});

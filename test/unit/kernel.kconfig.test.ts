import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { explainSetting } from '../../src/kernel/kconfig-explain.js';
import { evalExpr, parseExpr, renderExpr } from '../../src/kernel/kconfig-expr.js';
import { indexEntries, parseKconfig, type ParseState } from '../../src/kernel/kconfig.js';

const text = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'kernel', 'Kconfig.fixture'), 'utf8');

async function fixtureIndex() {
  const state: ParseState = { stack: [], entries: [] };
  await parseKconfig(text, 'mm/Kconfig', state);
  t.equal(state.stack.length, 0, 'every if/menu/choice closed');
  return indexEntries(state.entries);
}

t.test('parser: entries, help texts skipped, if/menu/choice dependencies inherited', async (t) => {
  const index = await fixtureIndex();
  t.same([...index.entries.keys()], ['TRANSPARENT_HUGEPAGE', 'HAVE_ARCH_TRANSPARENT_HUGEPAGE', 'DAX', 'DEV_DAX', 'DEV_DAX_KMEM', 'FIRMWARE_TABLE', 'CXL_BUS', 'EDAC_THING', 'MODEL_A', 'MODEL_B']);
  const devDax = index.entries.get('DEV_DAX')![0]!;
  t.equal(devDax.line, 19);
  t.same(devDax.depends, ['TRANSPARENT_HUGEPAGE']);
  t.same(devDax.inherited, ['DAX']);
  t.same(index.entries.get('DEV_DAX_KMEM')![0]!.depends, ['DEV_DAX', 'MEMORY_HOTPLUG'], 'trailing # comment dropped');
  t.same(index.entries.get('CXL_BUS')![0]!.inherited, ['MMU'], 'menu depends inherited, if DAX closed');
  t.equal(index.entries.get('FIRMWARE_TABLE')![0]!.hasPrompt, false);
  t.equal(index.entries.get('MODEL_A')![0]!.inChoice, true);
  t.same(index.entries.get('MODEL_A')![0]!.inherited, ['MMU', 'SMP']);
  t.same(index.selectedBy.get('NUMA_KEEP_MEMINFO')!.map((s) => [s.by.symbol, s.cond]), [['CXL_BUS', 'NUMA_MEMBLKS']]);
});

t.test('expressions: tristate logic, comparisons, rendering', async (t) => {
  const v = new Map([
    ['A', 'y'],
    ['B', 'm'],
    ['C', 'n'],
    ['EDAC', 'm'],
    ['CXL_BUS', 'y'],
    ['NR', '64'],
  ]);
  t.equal(evalExpr(parseExpr('A && B'), v), 1);
  t.equal(evalExpr(parseExpr('A && !C'), v), 2);
  t.equal(evalExpr(parseExpr('C || B'), v), 1);
  t.equal(evalExpr(parseExpr('!B'), v), 1);
  t.equal(evalExpr(parseExpr('(A || C) && D'), v), 0, 'absent symbol is n');
  t.equal(evalExpr(parseExpr('EDAC >= CXL_BUS'), v), 0, 'm >= y is false (string compare of values)');
  t.equal(evalExpr(parseExpr('NR >= 32'), v), 2, 'numeric compare');
  t.equal(evalExpr(parseExpr('NR = 64'), v), 2);
  t.equal(evalExpr(parseExpr('$(cc-option,-foo)'), v), 0, 'macros are unknown, count as n');
  t.equal(renderExpr(parseExpr('A && (B || !C)')), 'A && (B || !C)');
});

t.test('explainSetting names the unmet dependency, with its own cause one level down', async (t) => {
  const index = await fixtureIndex();
  const values = new Map([
    ['DAX', 'y'],
    ['MMU', 'y'],
  ]);
  t.equal(
    explainSetting(index, 'DEV_DAX', 'y', values),
    'depends on TRANSPARENT_HUGEPAGE (mm/Kconfig:19); unmet: TRANSPARENT_HUGEPAGE (n); ' +
      'TRANSPARENT_HUGEPAGE depends on HAVE_ARCH_TRANSPARENT_HUGEPAGE && !PREEMPT_RT (mm/Kconfig:2); unmet: HAVE_ARCH_TRANSPARENT_HUGEPAGE (n)',
  );
  t.match(explainSetting(index, 'DEV_DAX', 'y', new Map([['MMU', 'y']])), /unmet: DAX \(n\), TRANSPARENT_HUGEPAGE \(n\)/, 'inherited `if DAX` is named too');
  t.match(explainSetting(index, 'DEV_DAX_KMEM', 'y', new Map([['DAX', 'y'], ['DEV_DAX', 'm'], ['MEMORY_HOTPLUG', 'y']])), /unmet: DEV_DAX \(m\) \(a dependency is m, so it can only be m\)/);
  t.equal(explainSetting(index, 'NO_SUCH', 'y', values), 'there is no option NO_SUCH in this tree (no "config NO_SUCH" in the Kconfig files)');
  t.match(explainSetting(index, 'FIRMWARE_TABLE', 'y', values), /^has no prompt, so only a select turns it on; selected by: CXL_BUS \(n\)/);
  t.match(explainSetting(index, 'FIRMWARE_TABLE', 'n', new Map([['MMU', 'y'], ['CXL_BUS', 'y']])), /^selected by CXL_BUS \(y, mm\/Kconfig:\d+\)/);
  t.match(explainSetting(index, 'EDAC_THING', 'y', new Map([['MMU', 'y'], ['CXL_BUS', 'y'], ['EDAC', 'm']])), /unmet: EDAC >= CXL_BUS \(EDAC=m, CXL_BUS=y\)/);
  t.match(explainSetting(index, 'MODEL_B', 'y', new Map([['MMU', 'y'], ['SMP', 'y'], ['MODEL_A', 'y']])), /is one option of a choice/);
});

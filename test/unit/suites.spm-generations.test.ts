/**
 * Which version of the series a kernel has, from what the guest shows and nothing else. The
 * evidence files are recorded from real guests (the agent's generation.evidence answers) on
 * Debian's 7.2.13 and the same kernel with v1 (built by the harness), v2 and v3
 * (../shared/kernels); v4's is derived from its patches (no kernel of it exists).
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { generationEvidence, type GenerationEvidence } from '../../src/agent/evidence.js';
import { detectGeneration } from '../../src/suites/spm/generations/index.js';

const fixture = (name: string): GenerationEvidence => JSON.parse(readFileSync(new URL(`../fixtures/spm/${name}`, import.meta.url), 'utf8')) as GenerationEvidence;
const stock = fixture('evidence-stock-7.2.13.json');
const v1 = fixture('evidence-v1-7.2.13.json');
const v2 = fixture('evidence-v2-7.2.13.json');
const v3 = fixture('evidence-v3-7.2.13.json');
const v4 = fixture('evidence-v4-derived.json');

t.test('the agent gathers the evidence from what this host\'s kernel shows', async (t) => {
  const here = generationEvidence();
  t.equal(here.release, release());
  t.ok(here.nodeFiles.includes('online') && here.nodeFiles.includes('node0'), '/sys/devices/system/node listed');
  t.ok(here.cgroupRootFiles.every((f) => f.startsWith('cpuset.')), 'only the cgroup root\'s cpuset files');
  t.ok(here.statusLines.length > 0 && here.statusLines.every((l) => /^(Mems_allowed|Sysram_nodes|Mems_default)\w*:\t\S/.test(l)), 'the node lines of /proc/self/status, verbatim');
  t.ok(Array.isArray(here.rootDecoderFiles), 'the root decoders\' attributes (none on a host without CXL)');
  t.equal(detectGeneration(here).generation, 'stock', 'this host runs no kernel of the series');
});

t.test('each recorded kernel is its own version, with no contradiction', async (t) => {
  for (const [name, e, want] of [['stock', stock, 'stock'], ['v1', v1, 'protected-v1'], ['v2', v2, 'spm-v2'], ['v3', v3, 'private-v3'], ['v4 (derived)', v4, 'private-v4']] as const) {
    const d = detectGeneration(e);
    t.equal(d.generation, want, `${name} is ${want}`);
    t.same(d.contradictions, [], `${name}: nothing contradicts it`);
    t.equal(d.module.id, want, 'with its module');
  }
});

t.test('the evidence names what decided, fact by fact', async (t) => {
  const v3d = detectGeneration(v3).evidence.join('\n');
  t.match(v3d, /has_private_memory present/);
  t.match(v3d, /cpuset\.mems\.sysram present/);
  t.match(v3d, /create_private_region present/);
  t.match(v3d, /v3: create_private_region on the CXL root decoders \(patch 6\), has_private_memory with cpuset\.mems\.sysram \(patches 1, 4\)/);
  t.match(detectGeneration(v1).evidence.join('\n'), /v1: cpuset\.mems\.default in the cgroup root \(patch 5\), Mems_default in \/proc\/self\/status \(patch 4\)/);
  t.match(detectGeneration(stock).evidence.join('\n'), /no version of the series identified: stock/);
  const noCxl = detectGeneration({ ...stock, rootDecoderFiles: [] }).evidence.join('\n');
  t.match(noCxl, /create_private_region unknown \(no root decoder that can make ram regions\)/, 'a fact without its source is unknown, not absent');
});

t.test('v3 is not v4: has_private_memory alone does not decide', async (t) => {
  // v3 without a CXL root decoder to show create_private_region: cpuset.mems.sysram still says v3.
  t.equal(detectGeneration({ ...v3, rootDecoderFiles: [] }).generation, 'private-v3');
  // has_private_memory without cpuset.mems.sysram, and no tracefs to read: v4.
  const { seriesGfpFlags: _gfp, ...v4NoTrace } = v4;
  t.equal(detectGeneration(v4NoTrace).generation, 'private-v4');
  // __GFP_PRIVATE is v4's alone.
  t.equal(detectGeneration({ ...stock, seriesGfpFlags: ['__GFP_PRIVATE'] }).generation, 'private-v4');
});

t.test('half a version is still that version, with the contradiction named', async (t) => {
  const onlyCgroup = detectGeneration({ ...v2, statusLines: stock.statusLines });
  t.equal(onlyCgroup.generation, 'spm-v2');
  t.equal(onlyCgroup.contradictions.length, 2, 'Sysram_nodes missing and Mems_allowed still present');
  const onlyStatus = detectGeneration({ ...v2, cgroupRootFiles: stock.cgroupRootFiles });
  t.equal(onlyStatus.generation, 'spm-v2');
  t.match(onlyStatus.contradictions[0], /only Sysram_nodes/);
  const v1Half = detectGeneration({ ...v1, statusLines: stock.statusLines });
  t.equal(v1Half.generation, 'protected-v1');
  t.match(v1Half.contradictions.join('; '), /only cpuset\.mems\.default is present.*still there/);
  const v3NoRegion = detectGeneration({ ...v3, rootDecoderFiles: stock.rootDecoderFiles });
  t.equal(v3NoRegion.generation, 'private-v3');
  t.match(v3NoRegion.contradictions[0], /root decoders lack it/);
});

t.test('parts of two versions: the first in the documented order wins, the other is a contradiction', async (t) => {
  const mixed = detectGeneration({ ...v3, statusLines: v2.statusLines });
  t.equal(mixed.generation, 'private-v3');
  t.match(mixed.contradictions.join('; '), /it also shows v2's Sysram_nodes/);
  t.match(mixed.contradictions.join('; '), /v3 keeps the Mems_allowed status lines/);
  const v1v2 = detectGeneration({ ...v2, cgroupRootFiles: [...v2.cgroupRootFiles, 'cpuset.mems.default'], statusLines: [...v2.statusLines, 'Mems_default:\t1', 'Mems_default_list:\t0'] });
  t.equal(v1v2.generation, 'spm-v2');
  t.match(v1v2.contradictions.join('; '), /it also shows v1's cpuset\.mems\.default/);
  t.equal(detectGeneration({ ...stock, nodeFiles: [...stock.nodeFiles, 'has_public_memory', 'has_user_memory'] }).generation, 'private-latest');
});

t.test('a kernel with neither Mems_allowed nor a known replacement is flagged', async (t) => {
  const d = detectGeneration({ ...stock, statusLines: [] });
  t.equal(d.generation, 'stock');
  t.match(d.contradictions[0], /unknown generation/);
});

t.test('a harness-built kernel whose recorded series shows none of it is a contradiction', async (t) => {
  // Subjects as the kernel builder records them (git am drops "[PATCH n/11]").
  const v2Series = ['mm: constify oom_control, scan_control, and alloc_context nodemask', 'gfp: Add GFP_SPM_NODE for Specific Purpose Memory (SPM) allocations', 'cpuset: introduce cpuset.mems.sysram', 'drivers/dax: add spm_node bit to dev_dax'];
  const d = detectGeneration(stock, { patchSubjects: v2Series });
  t.equal(d.generation, 'stock');
  t.equal(d.contradictions.length, 1);
  t.match(d.contradictions[0], /built this kernel with 3 patch\(es\) of the series.*shows no version of it/);
  const v1Series = ['gfp: Add GFP_PROTECTED for protected-node allocations', 'drivers/cxl: add protected_memory bit to cxl region'];
  t.match(detectGeneration(stock, { patchSubjects: v1Series }).contradictions[0], /2 patch\(es\)/, 'v1\'s subjects are the series too');
  t.same(detectGeneration(stock, { patchSubjects: ['ext4: fix a typo', 'mm: constify oom_control'] }).contradictions, [], 'unrelated patches contradict nothing');
  t.same(detectGeneration(v1, { patchSubjects: v1Series }).contradictions, [], 'nor does the series on a kernel that shows it');
});

/**
 * Kernel generation detection from what the guest shows (spm-interface.md §4 detection order).
 * Both evidence files are recorded from real guests (the agent's generation.evidence answers):
 * Debian's 7.2.13 and the same kernel with the v2 series (../shared/kernels/spm-v2-7.2.13).
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { generationEvidence, type GenerationEvidence } from '../src/agent/evidence.js';
import { detectGeneration } from '../src/suites/spm/generation.js';

const fixture = (name: string): GenerationEvidence => JSON.parse(readFileSync(new URL(`./fixtures/spm/${name}`, import.meta.url), 'utf8')) as GenerationEvidence;
const stock = fixture('evidence-stock-7.2.13.json');
const v2 = fixture('evidence-v2-7.2.13.json');

t.test('the agent gathers the evidence from what this host\'s kernel shows', async (t) => {
  const here = generationEvidence();
  t.equal(here.release, release());
  t.ok(here.nodeFiles.includes('online') && here.nodeFiles.includes('node0'), '/sys/devices/system/node listed');
  t.ok(here.cgroupRootFiles.every((f) => f.startsWith('cpuset.')), 'only the cgroup root\'s cpuset files');
  t.ok(here.statusLines.length > 0 && here.statusLines.every((l) => /^(Mems_allowed|Sysram_nodes)\w*:\t\S/.test(l)), 'the node lines of /proc/self/status, verbatim');
  t.equal(detectGeneration(here).generation, 'stock', 'this host runs no SPM kernel');
});

t.test('the recorded evidence has its sections', async (t) => {
  t.equal(stock.release, '7.2.13+deb14-amd64');
  t.ok(stock.nodeFiles.includes('has_memory'));
  t.same(stock.cgroupRootFiles, ['cpuset.cpus.effective', 'cpuset.cpus.isolated', 'cpuset.mems.effective']);
  t.same(stock.statusLines.map((l) => l.split(':')[0]), ['Mems_allowed', 'Mems_allowed_list']);
});

t.test('the recorded Debian kernel is stock, with no contradiction', async (t) => {
  const d = detectGeneration(stock);
  t.equal(d.generation, 'stock');
  t.same(d.contradictions, []);
  t.match(d.evidence.join('\n'), /cpuset\.mems\.sysram absent/);
});

t.test('cpuset.mems.sysram plus Sysram_nodes is v2', async (t) => {
  const d = detectGeneration(v2);
  t.equal(d.generation, 'spm-v2');
  t.same(d.contradictions, []);
});

t.test('half of v2 is still v2, with the contradiction named', async (t) => {
  const onlyCgroup = detectGeneration({ ...v2, statusLines: stock.statusLines });
  t.equal(onlyCgroup.generation, 'spm-v2');
  t.equal(onlyCgroup.contradictions.length, 2, 'Sysram_nodes missing and Mems_allowed still present');
  const onlyStatus = detectGeneration({ ...v2, cgroupRootFiles: stock.cgroupRootFiles });
  t.equal(onlyStatus.generation, 'spm-v2');
  t.match(onlyStatus.contradictions[0], /only Sysram_nodes/);
});

t.test('later generations win in the documented order', async (t) => {
  t.equal(detectGeneration({ ...v2, nodeFiles: [...v2.nodeFiles, 'has_private_memory'] }).generation, 'private-v4');
  t.equal(detectGeneration({ ...stock, nodeFiles: [...stock.nodeFiles, 'has_public_memory'] }).generation, 'private-latest');
  t.equal(detectGeneration({ ...stock, nodeFiles: [...stock.nodeFiles, 'has_user_memory', 'has_private_memory'] }).generation, 'private-latest');
  t.equal(detectGeneration({ ...stock, cgroupRootFiles: [...stock.cgroupRootFiles, 'cpuset.mems.default'] }).generation, 'protected-v1');
});

t.test('a kernel with neither Mems_allowed nor a known replacement is flagged', async (t) => {
  const d = detectGeneration({ ...stock, statusLines: [] });
  t.equal(d.generation, 'stock');
  t.match(d.contradictions[0], /unknown generation/);
});

t.test('a harness-built kernel whose recorded series is SPM work but that shows none of it is a contradiction', async (t) => {
  // Subjects as the kernel builder records them from the v2 series (git am drops "[PATCH n/11]").
  const v2Series = ['mm: constify oom_control, scan_control, and alloc_context nodemask', 'gfp: Add GFP_SPM_NODE for Specific Purpose Memory (SPM) allocations', 'cpuset: introduce cpuset.mems.sysram', 'drivers/dax: add spm_node bit to dev_dax'];
  const d = detectGeneration(stock, { patchSubjects: v2Series });
  t.equal(d.generation, 'stock');
  t.equal(d.contradictions.length, 1);
  t.match(d.contradictions[0], /built this kernel with 3 SPM patch\(es\).*shows no SPM interface/);
  // Unrelated patches on a stock kernel contradict nothing; nor does the series on a kernel that shows it.
  t.same(detectGeneration(stock, { patchSubjects: ['ext4: fix a typo', 'mm: constify oom_control'] }).contradictions, []);
  t.same(detectGeneration(v2, { patchSubjects: v2Series }).contradictions, []);
});

/** Runs of one suite on several kernels, side by side: rows are checks, columns are kernels. */
import t from 'tap';
import { kernelHeading, sideBySideMarkdown } from '../../src/report/side-by-side.js';
import { check, summary } from '../fixtures/report/summaries.js';

const stock = summary({
  generation: { name: 'stock', evidence: [] },
  kernel: { origin: 'distro', release: '7.2.13+deb14-amd64', package: 'linux-image-7.2.13+deb14-amd64=7.2.13-1' },
  checks: [check('spm.move_pages', 'pass', { observed: { code: 'OK', pages: 64, onSpmAfter: 64 } }), check('spm.sysfs.spm_node_foo', 'skip', { reason: 'spm_node does not exist on unpatched kernels' })],
});
const v3 = summary({
  generation: { name: 'private-v3', evidence: [] },
  kernel: { origin: 'prebuilt', release: '7.2.13-g627c1d59deb7' },
  outcome: 'fail',
  exitCode: 1,
  checks: [
    check('spm.move_pages', 'pass', { observed: { code: 'ENODEV', pages: 64, onSpmAfter: 0 } }),
    check('spm.offline.node_released', 'fail', { observed: { hasPrivate: true }, reason: 'S still in has_private_memory' }),
  ],
});

t.test('one column per run, headed by its version and kernel', async (t) => {
  t.equal(kernelHeading(stock), 'stock (7.2.13+deb14-amd64, linux-image-7.2.13+deb14-amd64=7.2.13-1)');
  t.equal(kernelHeading(v3), 'private-v3 (7.2.13-g627c1d59deb7)');
  const lines = sideBySideMarkdown([stock, v3]).split('\n');
  t.equal(lines[0], '| check | stock (7.2.13+deb14-amd64, linux-image-7.2.13+deb14-amd64=7.2.13-1) | private-v3 (7.2.13-g627c1d59deb7) |');
  t.equal(lines[1], '|---|---|---|');
});

t.test('each cell: the verdict and what was observed; a skip its reason; a failure why; a check a run lacks says so', async (t) => {
  const lines = sideBySideMarkdown([stock, v3]).split('\n');
  t.equal(lines[2], '| `spm.move_pages` | **pass** {"code":"OK","pages":64,"onSpmAfter":64} | **pass** {"code":"ENODEV","pages":64,"onSpmAfter":0} |');
  t.equal(lines[3], '| `spm.sysfs.spm_node_foo` | skip: spm_node does not exist on unpatched kernels | not run |');
  t.equal(lines[4], '| `spm.offline.node_released` | not run | **fail** {"hasPrivate":true}: S still in has_private_memory |');
  t.equal(lines[5], '| outcome | pass (exit 0) | fail (exit 1) |');
});

t.test('long observations are cut, and a pass without evidence is an error as everywhere', async (t) => {
  const long = summary({ checks: [check('x', 'pass', { observed: { list: Array.from({ length: 50 }, (_, i) => i) } })] });
  t.match(sideBySideMarkdown([long, long], { observedWidth: 20 }), /\*\*pass\*\* \{"list":\[0,1,2,3,4,…/);
  const unproven = summary({ checks: [check('x', 'pass', { evidence: [] })] });
  t.match(sideBySideMarkdown([unproven, long]), /\| `x` \| \*\*error\*\*/);
});

import t from 'tap';
import { isHarnessError } from '../../src/errors.js';
import { buildMatrix, jobId, parseShard, shard, toGitHubMatrix, toGitLabMatrix } from '../../src/ci/matrix.js';

const axes = {
  kernels: ['distro:6.8.0-31-generic', 'src/v6.10+spm'],
  topologies: ['single-t3', 'interleave-2'],
  suites: ['spm', 'zswap', 'tiering'],
};

t.test('10 the matrix is every kernel x topology x suite, kernel-major, with safe stable ids', async (t) => {
  const jobs = buildMatrix(axes);
  t.equal(jobs.length, 12);
  t.same(jobs.slice(0, 4).map((j) => j.id), [
    'distro-6.8.0-31-generic__single-t3__spm',
    'distro-6.8.0-31-generic__single-t3__zswap',
    'distro-6.8.0-31-generic__single-t3__tiering',
    'distro-6.8.0-31-generic__interleave-2__spm',
  ]);
  t.same(jobs[11], { id: 'src-v6.10-spm__interleave-2__tiering', kernel: 'src/v6.10+spm', topology: 'interleave-2', suite: 'tiering' });
  t.same(buildMatrix(axes), jobs, 'same axes, same list');
  t.equal(new Set(jobs.map((j) => j.id)).size, 12);
  t.equal(buildMatrix({ ...axes, suites: ['spm', 'spm'] }).length, 4, 'duplicate axis values dropped');
  t.same(buildMatrix({ kernels: [], topologies: ['a'], suites: ['b'] }), []);
});

t.test('20 exclusions leave out matching combinations', async (t) => {
  const jobs = buildMatrix({
    ...axes,
    exclude: [{ kernel: 'distro:6.8.0-31-generic', topology: 'interleave-2' }, { topology: 'interleave-2', suite: 'zswap' }],
  });
  t.equal(jobs.length, 12 - 3 - 2 + 1, 'distro/interleave-2/zswap matches both rules and goes once');
  t.notOk(jobs.some((j) => j.kernel === 'distro:6.8.0-31-generic' && j.topology === 'interleave-2'));
  t.notOk(jobs.some((j) => j.topology === 'interleave-2' && j.suite === 'zswap'));
});

t.test('30 ids that would collide after sanitizing are refused', async (t) => {
  t.equal(jobId('a b', 'c', 'd'), 'a-b__c__d');
  t.throws(() => buildMatrix({ kernels: ['a b', 'a/b'], topologies: ['c'], suites: ['d'] }), { code: 'MATRIX_ID_CLASH' });
});

t.test('40 shards are contiguous, balanced, and cover every job exactly once', async (t) => {
  const jobs = buildMatrix(axes);
  for (let n = 1; n <= 14; n++) {
    const parts = Array.from({ length: n }, (_, i) => shard(jobs, i + 1, n));
    t.same(parts.flat(), jobs, `n=${n}: concatenation is the job list`);
    const sizes = parts.map((p) => p.length);
    t.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `n=${n}: sizes ${sizes.join(',')}`);
  }
  t.same(Array.from({ length: 5 }, (_, i) => shard(jobs, i + 1, 5).length), [3, 3, 2, 2, 2]);
  t.same(shard(jobs, 2, 5).map((j) => j.id), jobs.slice(3, 6).map((j) => j.id));
  t.same(shard(['a'], 3, 3), [], 'more shards than jobs: the extra shards are empty');
});

t.test('50 bad shard specs are refused with a harness error', async (t) => {
  for (const [i, n] of [[0, 3], [4, 3], [1, 0], [1.5, 3]] as const) {
    let caught: unknown;
    try {
      shard([1, 2], i, n);
    } catch (e) {
      caught = e;
    }
    t.ok(isHarnessError(caught) && caught.code === 'MATRIX_BAD_SHARD', `${i}/${n} refused`);
  }
  t.same(parseShard('2/4'), { index: 2, count: 4 });
  t.same(parseShard(' 1 / 1 '), { index: 1, count: 1 });
  t.throws(() => parseShard('2of4'), { code: 'MATRIX_BAD_SHARD' });
  t.throws(() => parseShard('5/4'), { code: 'MATRIX_BAD_SHARD' });
});

t.test('60 GitHub and GitLab matrix shapes', async (t) => {
  const jobs = buildMatrix({ kernels: ['k1'], topologies: ['t1'], suites: ['s1', 's2'] });
  t.equal(
    JSON.stringify(toGitHubMatrix(jobs)),
    '{"include":[{"id":"k1__t1__s1","kernel":"k1","topology":"t1","suite":"s1"},{"id":"k1__t1__s2","kernel":"k1","topology":"t1","suite":"s2"}]}',
  );
  t.same(toGitLabMatrix(jobs), {
    parallel: {
      matrix: [
        { JOB_ID: ['k1__t1__s1'], KERNEL: ['k1'], TOPOLOGY: ['t1'], SUITE: ['s1'] },
        { JOB_ID: ['k1__t1__s2'], KERNEL: ['k1'], TOPOLOGY: ['t1'], SUITE: ['s2'] },
      ],
    },
  });
  const big = buildMatrix({ kernels: Array.from({ length: 21 }, (_, i) => `k${i}`), topologies: ['t'], suites: Array.from({ length: 10 }, (_, i) => `s${i}`) });
  t.equal(big.length, 210);
  t.throws(() => toGitLabMatrix(big), { code: 'MATRIX_TOO_LARGE' });
  t.equal(toGitLabMatrix(shard(big, 1, 2)).parallel.matrix.length, 105);
});

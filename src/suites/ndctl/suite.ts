/**
 * ndctl's own CXL test suite (`meson test --suite cxl`, ndctl/test/cxl-*.sh), run in the guest
 * on the kernel under test, one check per test. The tests run on cxl_test, the kernel's mock CXL
 * hierarchy (tools/testing/cxl), not on QEMU's devices: the machine has no CXL hardware and a
 * kernel needs the mock modules (kernel-config/cxl-test.config, which the kernel builder turns
 * into them). ndctl is built with its tests in the guest's own tree (image/ndctl.ts).
 *
 * Each test runs alone under meson, with a step marker before it: its console findings are its
 * own, its TIMEOUT is its own hang, and its skip carries its own reason.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ndctlRecipe, NDCTL_BUILD } from '../../image/ndctl.js';
import type { KernelArtifact } from '../../kernel/artifact.js';
import type { KernelSpec } from '../../kernel/resolve.js';
import { shellCommand } from '../../exec.js';
import type { CheckApi, Suite, SuiteContext } from '../check.js';
import { checkIdOf, listedTests, testRecord, verdictOf } from './meson.js';

/** meson's own bound on one test (ndctl's test/meson.build gives each 600 s). */
const MESON_TIMEOUT_S = 600;

const BUILD_IT = 'build a kernel with it: --kernel-debian-source linux-source-7.2 (or --kernel-src TREE) --config-fragment kernel-config/cxl-test.config';

/** The guest's PATH for the tests: the journalctl stand-in first (image/ndctl.ts). */
const PATH = '/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export const ndctlSuite: Suite = {
  name: 'ndctl',
  description: 'ndctl\'s own CXL test suite (meson test --suite cxl) on cxl_test, the kernel\'s mock CXL hierarchy: needs a kernel built with kernel-config/cxl-test.config',
  defaultTopology: 'cxl-test',
  // Tests such as cxl-events and cxl-region-replay list every bus's regions: real devices would be counted with the mock ones.
  unsuitedTopology: (t) => (t.hostBridges.length ? `ndctl's tests run on cxl_test's mock hierarchy, and topology ${t.name} adds real CXL devices that tests listing every bus would count: use --topology cxl-test` : undefined),
  checksAtRun: 'ndctl.setup, then one check per test of ndctl\'s cxl meson suite, ndctl.cxl.<test> (cxl-topology.sh is ndctl.cxl.topology), listed in the guest by meson',
  recipe: ndctlRecipe,
  withoutCxlHardware: true,
  kernelSpecProblem(spec: KernelSpec) {
    if (spec.kind === 'distro') return `Debian's kernels do not ship cxl_test, the mock CXL hierarchy ndctl's CXL tests run on (tools/testing/cxl): ${BUILD_IT}`;
    if (spec.kind === 'prebuilt' && !spec.modules) return `a kernel without modules (--kernel without --modules) has no cxl_test: its mock modules replace cxl_acpi, cxl_core and others, which must be modules; ${BUILD_IT}`;
    return undefined;
  },
  async kernelProblem(kernel: KernelArtifact) {
    const dep = kernel.modulesDir ? await readFile(join(kernel.modulesDir, 'modules.dep'), 'utf8').catch(() => '') : '';
    return /(^|\/)cxl_test\.ko(\.\w+)?:/m.test(dep) ? undefined : `kernel ${kernel.release ?? kernel.image} has no cxl_test module (none in ${kernel.modulesDir ?? 'its modules'}/modules.dep): ${BUILD_IT}`;
  },
  run: runNdctl,
};

async function runNdctl(ctx: SuiteContext): Promise<void> {
  let tests: string[] = [];
  const setup = await ctx.check('ndctl.setup', 'udev runs, ndctl\'s build tree lists its cxl tests, and cxl_test loads with its mock memdevs and unloads', async (c: CheckApi) => {
    // The guest's init runs no udev; the tests need it (see image/ndctl.ts).
    const udev = await c.guest.run('start-udevd', '/usr/lib/systemd/systemd-udevd --daemon && udevadm trigger --action=add && udevadm settle', { timeoutMs: 120_000 });
    const list = await c.guest.run('meson-list', `cd ${NDCTL_BUILD} && meson test --no-rebuild --list`, { timeoutMs: 120_000 });
    tests = listedTests(list.stdout, 'cxl');
    const load = await c.guest.run('modprobe-cxl-test', 'modprobe cxl_test && udevadm settle && cxl list -M -b cxl_test | jq length && modprobe -r cxl_test', { timeoutMs: 120_000 });
    const memdevs = Number(load.stdout.trim().split('\n').at(-1));
    return {
      passed: udev.exitCode === 0 && list.exitCode === 0 && tests.length > 0 && load.exitCode === 0 && memdevs > 0,
      expected: { udevd: 'started', tests: 'at least one in suite cxl', cxlTest: 'loads, its mock memdevs probed, unloads' },
      observed: { udevExit: udev.exitCode, tests, listExit: list.exitCode, cxlTestExit: load.exitCode, memdevs, cxlTestStderr: load.stderr.trim().slice(0, 500) },
    };
  }, { informational: true });
  for (const test of tests) {
    await ctx.check(checkIdOf(test), `ndctl's test ${test} (meson test --suite cxl ${test})`, async (c: CheckApi) => {
      c.require('ndctl.setup passed (udev, the build tree, cxl_test)', setup.verdict === 'pass', setup.reason);
      const logbase = `cxlh-${test.replace(/\W+/g, '-')}`;
      const ran = await c.guest.run(`meson-${test}`, `cd ${NDCTL_BUILD} && PATH=${PATH} meson test --no-rebuild --print-errorlogs --suite cxl --logbase ${logbase} ${shellCommand([test])}`, {
        timeoutMs: (MESON_TIMEOUT_S + 60) * 1000,
      });
      const log = await c.guest.run(`meson-${test}-log`, `cat ${NDCTL_BUILD}/meson-logs/${logbase}.json`, { timeoutMs: 30_000 });
      const record = testRecord(log.stdout, test);
      c.require(`meson recorded ${test}`, record !== undefined, `meson exited ${ran.exitCode ?? ran.signal}; ${log.stderr.trim() || 'no record of it in its log'}`);
      const v = verdictOf(record!, MESON_TIMEOUT_S);
      if (v.verdict === 'skip') c.skip(v.reason);
      const observed = { result: record!.result, returncode: record!.returncode, durationS: record!.duration };
      return v.verdict === 'pass'
        ? { passed: true, expected: { result: 'OK' }, observed }
        : { passed: false, expected: { result: 'OK' }, observed, reason: v.reason };
    }, { timeoutMs: (MESON_TIMEOUT_S + 120) * 1000 });
  }
}

/**
 * ndctl's meson, read (src/suites/ndctl/meson.ts), on output recorded from ndctl 81's build tree
 * as the guest has it: the cxl suite's tests in the list, and their check ids.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { checkIdOf, listedTests, testRecord, verdictOf } from '../../src/suites/ndctl/meson.js';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/ndctl/${name}`, import.meta.url), 'utf8');

t.test('10 the cxl suite in `meson test --list` of ndctl 81: its twelve tests, in meson\'s order', async (t) => {
  const list = fixture('meson-list-v81.txt');
  t.same(listedTests(list, 'cxl'), [
    'cxl-topology.sh', 'cxl-region-sysfs.sh', 'cxl-labels.sh', 'cxl-create-region.sh', 'cxl-xor-region.sh', 'cxl-events.sh',
    'cxl-sanitize.sh', 'cxl-destroy-region.sh', 'cxl-qos-class.sh', 'cxl-poison.sh', 'cxl-update-firmware.sh', 'cxl-security.sh',
  ]);
  t.equal(listedTests(list, 'dax').length, 13, 'the other suites are told apart');
  t.same(listedTests('garbage\n\nndctl:cxl / \n', 'cxl'), []);
});

t.test('20 a test\'s check id: ndctl.cxl.<its name without the cxl- prefix and .sh>', async (t) => {
  t.equal(checkIdOf('cxl-topology.sh'), 'ndctl.cxl.topology');
  t.equal(checkIdOf('cxl-update-firmware.sh'), 'ndctl.cxl.update-firmware');
  t.equal(checkIdOf('libndctl', 'ndctl'), 'ndctl.ndctl.libndctl');
});

t.test('30 a test\'s record in meson\'s JSON log, and the verdict it means, with the test\'s own words', async (t) => {
  // Recorded on 7.2.13 built with cxl-test.config: ndctl's suite by hand (OK, FAIL), a firmware
  // update under a 3 s bound (TIMEOUT), and a run whose guest had no udevadm yet (SKIP, exit 77);
  // each record's env (the whole environment) left out.
  const log = fixture('testlog-7.2.13.jsonl');
  const ok = testRecord(log, 'cxl-labels.sh')!;
  t.match(ok, { name: 'ndctl:cxl / cxl-labels.sh', result: 'OK', returncode: 0 });
  t.same(verdictOf(ok, 600), { verdict: 'pass' });

  const fail = testRecord(log, 'cxl-topology.sh')!;
  t.equal(fail.result, 'FAIL');
  t.same(verdictOf(fail, 600), { verdict: 'fail', reason: 'FAIL (exit 1): Warning: no matching devices found | test/cxl-topology.sh: failed at line 183' });

  const hung = testRecord(log, 'cxl-update-firmware.sh')!;
  t.match(hung, { result: 'TIMEOUT', returncode: -15 });
  t.same(verdictOf(hung, 3), { verdict: 'fail', reason: 'hung: still running after meson\'s bound of 3 s (killed), in: ++ ./cxl/cxl update-firmware -b cxl_test -F /tmp/fw_file_niWg --wait mem10' });

  const skipped = testRecord(log, 'cxl-xor-region.sh')!;
  t.match(skipped, { result: 'SKIP', returncode: 77 });
  t.same(verdictOf(skipped, 600), { verdict: 'skip', reason: 'ndctl\'s test skipped itself (exit 77): /opt/ndctl/src/test/cxl-xor-region.sh: line 17: udevadm: command not found | test/cxl-xor-region.sh: failed at line 17' });

  t.equal(testRecord(log, 'cxl-events.sh'), undefined, 'a test the log does not hold');
  t.equal(testRecord('not json\n{"name": 1}\n', 'cxl-labels.sh'), undefined);
});

t.test('40 ndctl\'s do_skip words are the reason when the test gave them', async (t) => {
  const record = { name: 'ndctl:cxl / cxl-translate.sh', result: 'SKIP' as const, returncode: 77, duration: 0.2, stdout: 'kernel 7.2.13: cxl_translate module not available\n', stderr: '+ do_skip\n' };
  t.same(verdictOf(record, 600), { verdict: 'skip', reason: 'ndctl\'s test skipped itself (exit 77): cxl_translate module not available' });
});

/**
 * The private apt lists are a cache entry like any other: a failed update keeps nothing, lists
 * that are not whole are never believed, and a failed refresh leaves the last whole lists as
 * they were. No network: the mirror is a closed port on 127.0.0.1.
 */
import t, { type Test } from 'tap';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { privateApt, wholeListsUpdated } from '../../src/kernel/apt.js';

const CLOSED = 'http://127.0.0.1:9/debian';

function freshCache(t: Test): string {
  const root = mkdtempSync(join(tmpdir(), 'cxlh-apt-'));
  const was = process.env.CXL_HARNESS_CACHE;
  process.env.CXL_HARNESS_CACHE = root;
  t.teardown(() => {
    if (was === undefined) delete process.env.CXL_HARNESS_CACHE;
    else process.env.CXL_HARNESS_CACHE = was;
  });
  return root;
}

/** Lists as a whole update leaves them: the suite's Packages list, then the stamp. */
function wholeLists(state: string, suite: string, when: Date): void {
  mkdirSync(join(state, 'lists'), { recursive: true });
  writeFileSync(join(state, 'lists', `deb.debian.org_debian_dists_${suite}_main_binary-amd64_Packages.lz4`), 'x');
  writeFileSync(join(state, 'updated'), when.toISOString());
}

t.test('10 an update that fetched nothing keeps nothing of the suite', async (t) => {
  const root = freshCache(t);
  await t.rejects(privateApt('sid', CLOSED), { code: 'APT_UPDATE_FAILED' });
  t.notOk(existsSync(join(root, 'apt', 'sid')), 'no apt/sid left to be believed next time');
});

t.test('20 whole lists: the stamp and the suite\'s Packages list, checked', async (t) => {
  const state = mkdtempSync(join(tmpdir(), 'cxlh-apt-state-'));
  t.equal(wholeListsUpdated(state, 'sid'), undefined, 'nothing');
  writeFileSync(join(state, 'updated'), new Date().toISOString());
  t.equal(wholeListsUpdated(state, 'sid'), undefined, 'a stamp without lists is not whole');
  wholeLists(state, 'trixie', new Date());
  t.equal(wholeListsUpdated(state, 'sid'), undefined, 'another suite\'s list is not this one\'s');
  const when = new Date(Date.now() - 1000);
  wholeLists(state, 'sid', when);
  t.equal(wholeListsUpdated(state, 'sid'), when.toISOString());
});

t.test('30 a stamp without lists is fetched again, not believed', async (t) => {
  const root = freshCache(t);
  const state = join(root, 'apt', 'sid', 'state');
  mkdirSync(state, { recursive: true });
  writeFileSync(join(state, 'updated'), new Date().toISOString());
  // A mirror without the suite answers at once (a closed port costs apt's retries).
  await t.rejects(privateApt('sid', `file:${root}/no-mirror`), { code: 'KERNEL_SUITE_UNKNOWN' }, 'the update ran: the stamp alone was not trusted');
});

t.test('40 a failed refresh of old whole lists keeps them, as old as they are', async (t) => {
  const root = freshCache(t);
  const state = join(root, 'apt', 'sid', 'state');
  const old = new Date(Date.now() - 13 * 3600 * 1000);
  wholeLists(state, 'sid', old);
  const apt = await privateApt('sid', CLOSED);
  t.equal(apt.listsUpdated, old.toISOString(), 'the lists say when they were really fetched');
  t.equal(wholeListsUpdated(state, 'sid'), old.toISOString(), 'and are untouched');
});

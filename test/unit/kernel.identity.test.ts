import t from 'tap';
import { parseMakefileVersion, patchsetHash } from '../../src/kernel/identity.js';
import { sha256 } from '../../src/cache.js';

t.test('patchsetHash follows KCIDB: sha256 over each patch sha256 hex plus newline', async (t) => {
  const one = sha256('patch one\n');
  const two = sha256('patch two\n');
  // Known vectors computed with coreutils: printf '%s\n%s\n' $one $two | sha256sum
  t.equal(one, '240d3de1d568dc10605d663fa3b7b56681a4224236a78be1beccf36ba751d669');
  t.equal(two, 'b27f9d859bc1ae4314c6a53e065692dce936ea55731a5f06446432bbf7d7eeac');
  t.equal(patchsetHash([one, two]), '096e29aaa15f948dc01b1ab6925a32218ebe6302603c906bf2735d3bb794e001');
  t.equal(patchsetHash([one]), '1d74407fc9d00338a4a94cd0387d5ef19838d4881e6a4a271cad9e337b11ac7f');
  t.not(patchsetHash([two, one]), patchsetHash([one, two]), 'order matters');
  t.equal(patchsetHash([]), '', 'no patches: empty string');
});

t.test('parseMakefileVersion', async (t) => {
  const mk = (sub: string, extra: string) => `# SPDX-License-Identifier: GPL-2.0\nVERSION = 7\nPATCHLEVEL = 2\nSUBLEVEL = ${sub}\nEXTRAVERSION =${extra}\nNAME = Baby Opossum Posse\n`;
  t.equal(parseMakefileVersion(mk('13', '')), '7.2.13');
  t.equal(parseMakefileVersion(mk('0', ' -rc4')), '7.2.0-rc4');
  t.equal(parseMakefileVersion('all:\n\techo hi\n'), undefined);
});

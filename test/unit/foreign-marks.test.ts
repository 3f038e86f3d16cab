import assert from 'node:assert/strict';
import { test } from 'node:test';
import { foreignMarkWarnings } from '../../src/apply/foreign-marks.js';
import type { Program } from '../../src/state/program.js';

const program = (actions: Program['chains'][number]['rules'][number]['actions'], origin = 'ip/mangle/PREROUTING -A PREROUTING -j X'): Program => ({
  chains: [{ name: 'ip/mangle/PREROUTING', rules: [{ match: {}, actions, origin }] }],
});

test('foreign marks: a rule setting the whole mark, or bits inside the mask, is named; bits outside the mask are not', () => {
  assert.match(foreignMarkWarnings(program([{ kind: 'mark', and: 0, xor: 1 }]), 0xff)[0]!, /writes packet mark bits 0xff, inside multihome's mark_mask 0xff/);
  assert.match(foreignMarkWarnings(program([{ kind: 'mark', and: 0xffffffff, xor: 0x4 }]), 0xff)[0]!, /packet mark bits 0x4/);
  assert.deepEqual(foreignMarkWarnings(program([{ kind: 'mark', and: 0xffffffff, xor: 0x4000 }]), 0xff), []);
  assert.deepEqual(foreignMarkWarnings(program([{ kind: 'mark', and: 0xffff00ff, xor: 0x100 }]), 0xff), [], 'Docker-style bits elsewhere');
  assert.match(foreignMarkWarnings(program([{ kind: 'save-mark', nfmask: 0xffffffff, ctmask: 0xffffffff }]), 0xff)[0]!, /connection mark bits 0xff/);
  assert.match(foreignMarkWarnings(program([{ kind: 'restore-mark', nfmask: 0xff00, ctmask: 0xff00 }]), 0xff00)[0]!, /packet mark bits 0xff00/);
  assert.deepEqual(foreignMarkWarnings(program([{ kind: 'accept' }]), 0xff), []);
  assert.equal(
    foreignMarkWarnings({ chains: [...program([{ kind: 'mark', and: 0, xor: 1 }]).chains, ...program([{ kind: 'mark', and: 0, xor: 1 }]).chains] }, 0xff)
      .length,
    1,
    'the same rule seen twice (iptables-nft in both dumps) is named once',
  );
});

// Routes to one destination keep the order of the dump: the kernel's order,
// which decides between routes of equal score (find_rr_leaf).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { importDump } from '../../src/state/import/index.js';

test('importDump keeps the dump order among routes to one destination (IPv6 throw appended after a unicast)', () => {
  const text = [
    '2001:db8:9::/64 via 2001:db8:1::2 dev v1 metric 1024 pref medium',
    'throw 2001:db8:9::/64 metric 1024 pref medium',
    '2001:db8:1::/64 dev v1 proto kernel metric 256 pref medium',
  ].join('\n');
  const s = importDump([{ name: 'ip-6-route.txt', text }]);
  const nine = s.routes.filter((r) => r.dst === '2001:db8:9::/64');
  assert.deepEqual(
    nine.map((r) => r.type),
    ['unicast', 'throw'],
  );
  const reversed = importDump([{ name: 'ip-6-route.txt', text: [text.split('\n')[1], text.split('\n')[0]].join('\n') }]);
  assert.deepEqual(
    reversed.routes.filter((r) => r.dst === '2001:db8:9::/64').map((r) => r.type),
    ['throw', 'unicast'],
  );
});

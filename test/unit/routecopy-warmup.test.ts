import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRoute, messageCount, RTM, type RouteKey } from '../../src/routecopy/codec.js';
import { REHEARSAL_EVENTS, rehearsalEvents } from '../../src/routecopy/warmup.js';
import { formatKey } from '../../src/routecopy/store.js';

// a value as decodeRoute makes it: unicast, universe, no flags; RTA_GATEWAY 10.1.0.1, RTA_OIF 2
const VALUE = String.fromCharCode(1, 0, 0, 0, 8, 0, 5, 0, 10, 1, 0, 1, 8, 0, 4, 0, 2, 0, 0, 0);

test('rehearsalEvents: adds of main with the value given, then the deletes of the same keys, one message each', () => {
  const { adds, deletes } = rehearsalEvents(VALUE, () => true);
  assert.equal(adds.length, REHEARSAL_EVENTS);
  assert.equal(deletes.length, REHEARSAL_EVENTS);
  const keys = new Set<string>();
  for (const [i, b] of adds.entries()) {
    assert.equal(messageCount(b), 1);
    const a = decodeRoute(b, 0)!;
    const d = decodeRoute(deletes[i]!, 0)!;
    assert.equal(b.readUInt16LE(4), RTM.NEWROUTE);
    assert.equal(deletes[i]!.readUInt16LE(4), RTM.DELROUTE);
    assert.deepEqual([a.table, a.protocol, a.value, a.oifs], [254, 3, VALUE, [2]]);
    assert.equal(formatKey(d), formatKey(a));
    keys.add(formatKey(a));
  }
  assert.equal(keys.size, REHEARSAL_EVENTS, 'distinct keys');
  // in 240.0.0.0/4, reserved: never a route anyone uses
  assert.deepEqual([...keys].slice(0, 2), ['240.0.0.0/24', '240.0.1.0/24']);
});

test('rehearsalEvents: keys main holds are left out, from the adds and the deletes', () => {
  const held = new Set(['240.0.1.0/24', '240.0.3.0/24']);
  const { adds, deletes } = rehearsalEvents(VALUE, (k: RouteKey) => !held.has(formatKey(k)), { n: 6 });
  const names = (bs: Buffer[]) => bs.map((b) => formatKey(decodeRoute(b, 0)!));
  assert.deepEqual(names(adds), ['240.0.0.0/24', '240.0.2.0/24', '240.0.4.0/24', '240.0.5.0/24']);
  assert.deepEqual(names(deletes), names(adds));
});

test('rehearsalEvents: another table and protocol (the listener rehearses echoes of the copies)', () => {
  const { adds } = rehearsalEvents(String.fromCharCode(1, 0, 0, 0), () => true, { n: 2, table: 100, protocol: 78 });
  assert.deepEqual(
    adds.map((b) => [decodeRoute(b, 0)!.table, b[16 + 5]]),
    [
      [100, 78],
      [100, 78],
    ],
  );
});

test('rehearsalEvents: IPv6, /80s of 100::/64 (the discard-only block)', () => {
  const { adds, deletes } = rehearsalEvents(VALUE, () => true, { n: 300, family: 6 });
  const routes = adds.map((b) => decodeRoute(b, 0)!);
  assert.ok(routes.every((r) => r.family === 6 && r.len === 80 && r.dst[0] === 1 && r.dst.subarray(1, 8).every((x) => x === 0)));
  assert.equal(new Set(routes.map((r) => formatKey(r))).size, 300, 'distinct keys');
  assert.deepEqual(
    routes.slice(0, 2).map((r) => formatKey(r)),
    ['100::/80', '100::1:0:0:0/80'],
  );
  assert.equal(deletes.length, 300);
});

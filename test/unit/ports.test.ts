import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPortRange, normalisePortRanges, parsePortRange, PORT_PROTOCOLS, PROTOCOLS, type PortRange } from '../../src/net/ports.js';

const r = (from: number, to = from): PortRange => ({ from, to });

test('parsePortRange: numbers are single ports from 1 to 65535', () => {
  assert.deepEqual(parsePortRange(1), { ok: true, range: r(1) });
  assert.deepEqual(parsePortRange(443), { ok: true, range: r(443) });
  assert.deepEqual(parsePortRange(65535), { ok: true, range: r(65535) });
});

test('parsePortRange: numbers outside 1..65535 or not whole are rejected', () => {
  for (const n of [0, 65536, 70000, -1, 1.5, NaN, Infinity]) {
    assert.deepEqual(parsePortRange(n), { ok: false, reason: `port ${n} must be a whole number from 1 to 65535` }, `port ${n}`);
  }
});

test('parsePortRange: strings with a port or a range "a-b"', () => {
  assert.deepEqual(parsePortRange('80'), { ok: true, range: r(80) });
  assert.deepEqual(parsePortRange('8000-8080'), { ok: true, range: r(8000, 8080) });
  assert.deepEqual(parsePortRange(' 8000 - 8080 '), { ok: true, range: r(8000, 8080) });
  assert.deepEqual(parsePortRange('1-65535'), { ok: true, range: r(1, 65535) });
  assert.deepEqual(parsePortRange('53-53'), { ok: true, range: r(53) });
});

test('parsePortRange: string ports outside 1..65535', () => {
  assert.deepEqual(parsePortRange('0'), { ok: false, reason: '"0": ports must be from 1 to 65535' });
  assert.deepEqual(parsePortRange('65536'), { ok: false, reason: '"65536": ports must be from 1 to 65535' });
  assert.deepEqual(parsePortRange('0-80'), { ok: false, reason: '"0-80": ports must be from 1 to 65535' });
  assert.deepEqual(parsePortRange('80-70000'), { ok: false, reason: '"80-70000": ports must be from 1 to 65535' });
});

test('parsePortRange: a backwards range says how to write it', () => {
  assert.deepEqual(parsePortRange('90-80'), { ok: false, reason: '"90-80": the range runs backwards; write "80-90"' });
  // backwards by a single port is still backwards
  assert.deepEqual(parsePortRange('81-80'), { ok: false, reason: '"81-80": the range runs backwards; write "80-81"' });
  assert.deepEqual(parsePortRange('65535-1'), { ok: false, reason: '"65535-1": the range runs backwards; write "1-65535"' });
});

test('parsePortRange: text that is not a port or a range', () => {
  for (const s of ['', 'http', '80-', '-80', '80--90', '80-90-100', '8o', '80,443', '123456', '1.5', '0x50', '+80']) {
    assert.deepEqual(parsePortRange(s), { ok: false, reason: `"${s}" is not a port or a range like "8000-8080"` }, JSON.stringify(s));
  }
});

test('formatPortRange', () => {
  assert.equal(formatPortRange(r(443)), '443');
  assert.equal(formatPortRange(r(8000, 8080)), '8000-8080');
});

test('normalisePortRanges: sorts, merges overlapping and adjacent ranges', () => {
  assert.deepEqual(normalisePortRanges([r(443), r(80)]), [r(80), r(443)]);
  // overlapping
  assert.deepEqual(normalisePortRanges([r(100, 200), r(150, 250)]), [r(100, 250)]);
  // adjacent: 80 and 81 touch
  assert.deepEqual(normalisePortRanges([r(81), r(80)]), [r(80, 81)]);
  assert.deepEqual(normalisePortRanges([r(1, 10), r(11, 20)]), [r(1, 20)]);
  // contained
  assert.deepEqual(normalisePortRanges([r(1, 100), r(50, 60)]), [r(1, 100)]);
  // duplicates
  assert.deepEqual(normalisePortRanges([r(22), r(22), r(22)]), [r(22)]);
  // a gap of one port stays a gap
  assert.deepEqual(normalisePortRanges([r(80), r(82)]), [r(80), r(82)]);
  // a chain
  assert.deepEqual(normalisePortRanges([r(443), r(102), r(85, 100), r(80), r(101), r(81, 90)]), [r(80, 102), r(443)]);
  assert.deepEqual(normalisePortRanges([]), []);
});

test('normalisePortRanges: the input list and its ranges are not changed', () => {
  const input = [r(90, 100), r(80, 95)];
  const copy = input.map((x) => ({ ...x }));
  const out = normalisePortRanges(input);
  assert.deepEqual(out, [r(80, 100)]);
  assert.deepEqual(input, copy);
});

test('normalisePortRanges: equal sets give equal output', () => {
  assert.deepEqual(normalisePortRanges([r(80), r(443), r(81, 85)]), normalisePortRanges([r(81, 84), r(443), r(85), r(80)]));
});

test('PROTOCOLS and PORT_PROTOCOLS', () => {
  assert.equal(PROTOCOLS.tcp, 6);
  assert.equal(PROTOCOLS.udp, 17);
  assert.equal(PROTOCOLS.icmp, 1);
  assert.equal(PROTOCOLS.icmpv6, 58);
  assert.equal(PROTOCOLS['ipv6-icmp'], 58);
  assert.deepEqual([...PORT_PROTOCOLS].sort(), ['sctp', 'tcp', 'udp', 'udplite']);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrefix, type Prefix } from '../../src/net/ip.js';
import type { DecodedRoute } from '../../src/routecopy/codec.js';
import { copyFilter, toBytes } from '../../src/routecopy/filter.js';

function prefix(text: string): Prefix {
  const p = parsePrefix(text);
  assert.ok(p.ok, text);
  return p.prefix;
}

/** A route of main as decodeRoute gives it, from "10.0.0.0/8" text (bytes beyond the length are zeros). */
function route(dst: string, o: Partial<DecodedRoute> = {}): DecodedRoute {
  const p = prefix(dst);
  const { bytes } = toBytes(p);
  // the kernel sends RTA_DST for every route but the default one
  const dstBytes = p.length === 0 ? new Uint8Array(0) : bytes;
  return {
    family: p.family,
    dst: dstBytes,
    len: p.length,
    tos: 0,
    metric: p.family === 6 ? 1024 : 0,
    table: 254,
    protocol: 4,
    type: 1,
    scope: 0,
    oif: 2,
    oifs: [2],
    value: '\x01\0\0\0',
    cloned: false,
    ...o,
  };
}

const copy = (exclude: { prefixes?: string[]; devices?: string[]; protocols?: number[] } = {}) => ({
  exclude: { prefixes: (exclude.prefixes ?? []).map(prefix), devices: exclude.devices ?? [], protocols: exclude.protocols ?? [] },
  protocol: 78,
  check: 60000,
});

test('copyFilter: the default route, other tables and cached clones are not copied', () => {
  const f = copyFilter(copy(), new Set());
  assert.equal(f(route('10.0.0.0/8')), true);
  assert.equal(f(route('2001:db8::/32')), true);
  assert.equal(f(route('0.0.0.0/0')), false);
  assert.equal(f(route('::/0')), false);
  // a default route with a metric or tos is still a default route
  assert.equal(f(route('0.0.0.0/0', { metric: 100 })), false);
  for (const table of [0, 100, 253, 255, 252, 1000]) assert.equal(f(route('10.0.0.0/8', { table })), false, `table ${table}`);
  assert.equal(f(route('2001:db8::5/128', { cloned: true })), false);
  assert.equal(f(route('10.1.2.3/32', { cloned: true })), false);
  // host routes and tos routes are copied
  assert.equal(f(route('192.0.2.1/32')), true);
  assert.equal(f(route('10.0.0.0/8', { tos: 0x10 })), true);
});

test('copyFilter: IPv6 link-local and multicast routes are not copied', () => {
  const f = copyFilter(copy(), new Set());
  assert.equal(f(route('fe80::/64')), false);
  assert.equal(f(route('fe80::1/128')), false);
  assert.equal(f(route('febf:ffff::/32')), false); // still inside fe80::/10
  assert.equal(f(route('fe80::/10')), false);
  assert.equal(f(route('fec0::/10')), true); // just outside
  assert.equal(f(route('fe00::/9')), true); // shorter than fe80::/10: covers more than link-local
  assert.equal(f(route('ff00::/8')), false);
  assert.equal(f(route('ff02::1/128')), false);
  assert.equal(f(route('fe00::/7')), true); // covers ff00::/8 and fe80::/10, inside neither
  assert.equal(f(route('fd00::/8')), true);
  // the same bytes in IPv4 mean nothing special
  assert.equal(f(route('254.128.0.0/16')), true);
  assert.equal(f(route('255.0.0.0/8')), true);
});

test('copyFilter: route types', () => {
  const f = copyFilter(copy(), new Set());
  const types: [number, boolean][] = [
    [0, false], // unspec
    [1, true], // unicast
    [2, false], // local
    [3, false], // broadcast
    [4, false], // anycast
    [5, false], // multicast
    [6, true], // blackhole
    [7, true], // unreachable
    [8, true], // prohibit
    [9, true], // throw
    [10, false], // nat
    [11, false], // xresolve
  ];
  for (const [type, copied] of types) {
    assert.equal(f(route('10.0.0.0/8', { type, oif: 0, oifs: type === 1 ? [2] : [] })), copied, `type ${type}`);
    assert.equal(f(route('2001:db8::/32', { type })), copied, `IPv6 type ${type}`);
  }
});

test('copyFilter: excluded prefixes (at and inside, not covering), IPv4 and IPv6, odd lengths', () => {
  const f = copyFilter(copy({ prefixes: ['10.0.0.0/8', '172.16.0.0/12', '192.168.16.0/20', '2001:db8:100::/40', '100.64.0.1/32'] }), new Set());
  // at
  assert.equal(f(route('10.0.0.0/8')), false);
  assert.equal(f(route('172.16.0.0/12')), false);
  assert.equal(f(route('192.168.16.0/20')), false);
  assert.equal(f(route('2001:db8:100::/40')), false);
  assert.equal(f(route('100.64.0.1/32')), false);
  // inside
  assert.equal(f(route('10.1.2.0/24')), false);
  assert.equal(f(route('10.255.255.255/32')), false);
  assert.equal(f(route('172.31.0.0/16')), false);
  assert.equal(f(route('192.168.31.0/24')), false);
  assert.equal(f(route('192.168.16.128/25')), false);
  assert.equal(f(route('2001:db8:1ff::/48')), false);
  assert.equal(f(route('2001:db8:100::1/128')), false);
  // shorter routes that cover an excluded prefix are copied
  assert.equal(f(route('8.0.0.0/5')), true);
  assert.equal(f(route('172.0.0.0/8')), true);
  assert.equal(f(route('192.168.0.0/16')), true);
  assert.equal(f(route('192.168.0.0/19')), true);
  assert.equal(f(route('2001:db8::/32')), true);
  assert.equal(f(route('100.64.0.0/31')), true);
  // next to them
  assert.equal(f(route('11.0.0.0/8')), true);
  assert.equal(f(route('172.32.0.0/16')), true);
  assert.equal(f(route('192.168.32.0/24')), true);
  assert.equal(f(route('192.168.15.0/24')), true);
  assert.equal(f(route('2001:db8:200::/48')), true);
  assert.equal(f(route('100.64.0.0/32')), true);
  // families do not mix: 10::/8-like IPv6 bytes are not 10.0.0.0/8
  assert.equal(f(route('a00::/8')), true);
  assert.equal(f(route('a00::/16')), true);
  // the default route excluded by prefix too (it is never copied anyway)
  const all = copyFilter(copy({ prefixes: ['0.0.0.0/0'] }), new Set());
  assert.equal(all(route('10.0.0.0/8')), false);
  assert.equal(all(route('2001:db8::/32')), true);
});

test("copyFilter: excluded devices, including a multipath route's other nexthops", () => {
  const f = copyFilter(copy({ devices: ['wg0', 'tun9'] }), new Set([7, 9]));
  assert.equal(f(route('10.0.0.0/8', { oif: 2, oifs: [2] })), true);
  assert.equal(f(route('10.0.0.0/8', { oif: 7, oifs: [7] })), false);
  assert.equal(f(route('10.0.0.0/8', { oif: 9, oifs: [9] })), false);
  assert.equal(f(route('10.0.0.0/8', { oif: 0, oifs: [2, 9] })), false);
  assert.equal(f(route('10.0.0.0/8', { oif: 0, oifs: [2, 3] })), true);
  assert.equal(f(route('2001:db8::/32', { oif: 0, oifs: [3, 7] })), false);
  assert.equal(f(route('10.0.0.0/8', { type: 6, oif: 0, oifs: [] })), true);
  // the caller's set is read at each call: a device that appears later counts
  const devices = new Set<number>();
  const g = copyFilter(copy({ devices: ['wg1'] }), devices);
  assert.equal(g(route('10.0.0.0/8', { oif: 12, oifs: [12] })), true);
  devices.add(12);
  assert.equal(g(route('10.0.0.0/8', { oif: 12, oifs: [12] })), false);
});

test('copyFilter: excluded protocols', () => {
  const f = copyFilter(copy({ protocols: [186, 16] }), new Set()); // bgp, dhcp
  assert.equal(f(route('10.0.0.0/8', { protocol: 186 })), false);
  assert.equal(f(route('10.0.0.0/8', { protocol: 16 })), false);
  assert.equal(f(route('10.0.0.0/8', { protocol: 4 })), true);
  assert.equal(f(route('10.0.0.0/8', { protocol: 2 })), true);
  assert.equal(f(route('2001:db8::/32', { protocol: 186 })), false);
});

test('copyFilter: an empty or missing exclude copies everything else', () => {
  const f = copyFilter({ exclude: {}, protocol: 78, check: 60000 }, new Set());
  assert.equal(f(route('10.0.0.0/8')), true);
  assert.equal(f(route('10.0.0.0/8', { protocol: 186, oifs: [7] })), true);
  assert.equal(f(route('0.0.0.0/0')), false);
  // conditions combine: every exclusion applies
  const g = copyFilter(copy({ prefixes: ['10.0.0.0/8'], protocols: [186] }), new Set([7]));
  assert.equal(g(route('11.0.0.0/8')), true);
  assert.equal(g(route('11.0.0.0/8', { protocol: 186 })), false);
  assert.equal(g(route('11.0.0.0/8', { oifs: [7] })), false);
  assert.equal(g(route('10.0.0.0/9')), false);
});

// Golden decisions for every case of reference/linux-routing-semantics.md §6
// (each seen on Linux 6.18 in a namespace). The base setup: R with
// veth0 10.0.0.1/24 (ISP1, gw .254), veth1 10.1.0.1/24 (ISP2), veth2
// 192.168.1.1/24 (LAN); main default via 10.0.0.254; table 100 default via
// 10.1.0.254; table 200 default via 192.168.1.254; ip_forward=1, rp_filter=0.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { explain } from '../../src/sim/explain.js';
import type { Packet } from '../../src/sim/types.js';
import type { LinkState, RouteState, RuleState, State } from '../../src/state/types.js';

const link = (name: string, index: number, addr: string, len: number): LinkState => ({
  name,
  index,
  up: true,
  carrier: true,
  addresses: [{ family: 4, address: addr, prefixlen: len, scope: 'global' }],
});
const route = (o: Partial<RouteState> & { dst: string }): RouteState => ({
  family: 4,
  table: 254,
  type: 'unicast',
  tos: 0,
  metric: 0,
  protocol: 3,
  scope: 0,
  flags: [],
  ...o,
});
const rule = (o: Partial<RuleState> & { pref: number }): RuleState => ({ family: 4, action: 'lookup', protocol: 0, ...o });
const DEFAULT_RULES = [rule({ pref: 0, table: 255 }), rule({ pref: 32766, table: 254 }), rule({ pref: 32767, table: 253 })];

function world(extra: { rules?: RuleState[]; routes?: RouteState[]; sysctls?: Record<string, string> } = {}): State {
  return {
    links: [
      { name: 'lo', index: 1, up: true, carrier: true, addresses: [{ family: 4, address: '127.0.0.1', prefixlen: 8, scope: 'host' }] },
      link('veth0', 2, '10.0.0.1', 24),
      link('veth1', 3, '10.1.0.1', 24),
      link('veth2', 4, '192.168.1.1', 24),
    ],
    rules: [...DEFAULT_RULES, ...(extra.rules ?? [])],
    routes: [
      route({ dst: 'default', gateway: '10.0.0.254', dev: 'veth0' }),
      route({ dst: 'default', table: 100, gateway: '10.1.0.254', dev: 'veth1' }),
      route({ dst: 'default', table: 200, gateway: '192.168.1.254', dev: 'veth2' }),
      ...(extra.routes ?? []),
    ],
    nft: null,
    sysctls: { 'net/ipv4/ip_forward': '1', 'net/ipv4/conf/all/forwarding': '1', 'net/ipv4/conf/all/rp_filter': '0', ...(extra.sysctls ?? {}) },
  };
}

const get = (s: State, p: Partial<Packet> & { dst: string }) => explain(s, { family: 4, src: '0.0.0.0', ...p });
const T = (s: State, p: Partial<Packet> & { dst: string }) => {
  const d = get(s, p);
  return d.error ?? d.table;
};

test('case 1: fwmark 0 without a mask matches every mark', () => {
  const s = world({ rules: [rule({ pref: 100, table: 100 })] }); // ip prints `fwmark 0` as no selector
  assert.equal(T(s, { dst: '8.8.8.8', mark: 5 }), 100);
});

test('case 2: fwmark 0/0xffffffff matches only the unmarked', () => {
  const s = world({ rules: [rule({ pref: 100, table: 100, fwmark: 0, fwmask: 0xffffffff })] });
  assert.equal(T(s, { dst: '8.8.8.8', mark: 5 }), 'main');
  assert.equal(T(s, { dst: '8.8.8.8' }), 100);
});

test('case 3: fwmark 0x3/0x1 tests only the masked bits', () => {
  const s = world({ rules: [rule({ pref: 100, table: 100, fwmark: 3, fwmask: 1 })] });
  assert.equal(T(s, { dst: '8.8.8.8', mark: 2 }), 'main');
  assert.equal(T(s, { dst: '8.8.8.8', mark: 0xff }), 100);
});

test('case 4: rules added without pref go first (32765 lookup 100, then 32764 lookup 200)', () => {
  const s = world({ rules: [rule({ pref: 32765, table: 100 }), rule({ pref: 32764, table: 200 })] });
  assert.equal(T(s, { dst: '8.8.8.8' }), 200);
});

test('case 5: goto skips to its target rule', () => {
  const s = world({
    rules: [rule({ pref: 100, fwmark: 1, fwmask: 0xffffffff, action: 'goto', goto: 300 }), rule({ pref: 200, table: 100 }), rule({ pref: 300, table: 200 })],
  });
  assert.equal(T(s, { dst: '8.8.8.8', mark: 1 }), 200);
  assert.equal(T(s, { dst: '8.8.8.8', mark: 2 }), 100);
});

test('case 6: `not` inverts the whole conjunction', () => {
  const s = world({ rules: [rule({ pref: 100, not: true, from: '192.168.1.0/24', fwmark: 1, fwmask: 0xffffffff, table: 100 })] });
  assert.equal(T(s, { dst: '8.8.8.8', src: '192.168.1.5', iif: 'veth2', mark: 1 }), 'main');
  assert.equal(T(s, { dst: '8.8.8.8', src: '192.168.1.5', iif: 'veth2', mark: 2 }), 100);
});

test("case 7: iif lo matches only the host's own lookups", () => {
  const s = world({ rules: [rule({ pref: 100, iif: 'lo', table: 100 })] });
  assert.equal(T(s, { dst: '8.8.8.8' }), 100);
  assert.equal(T(s, { dst: '8.8.8.8', src: '192.168.1.5', iif: 'veth2' }), 'main');
});

test('case 8: ipproto udp matches a plain IPv4 query (UDP by default); tcp does not', () => {
  const s = world({ rules: [rule({ pref: 100, ipproto: 17, table: 100 })] });
  assert.equal(T(s, { dst: '8.8.8.8' }), 100);
  assert.equal(T(s, { dst: '8.8.8.8', proto: 6 }), 'main');
});

test('case 9: tos 0x10 matches 0x10, 0x12, 0xb0 but not 0x14, 0xb8', () => {
  const s = world({ rules: [rule({ pref: 100, tos: 0x10, table: 100 })] });
  for (const tos of [0x10, 0x12, 0xb0]) assert.equal(T(s, { dst: '8.8.8.8', tos }), 100, `tos ${tos}`);
  for (const tos of [0x14, 0xb8]) assert.equal(T(s, { dst: '8.8.8.8', tos }), 'main', `tos ${tos}`);
});

test('case 10: a route with a matching TOS wins over lower metrics', () => {
  const s = world({
    routes: [
      route({ dst: '8.8.8.0/24', tos: 0x10, gateway: '10.1.0.254', dev: 'veth1' }),
      route({ dst: '8.8.8.0/24', metric: 5, gateway: '10.0.0.254', dev: 'veth0' }),
      route({ dst: '8.8.8.0/24', metric: 10, gateway: '192.168.1.254', dev: 'veth2' }),
    ],
  });
  assert.equal(get(s, { dst: '8.8.8.8', tos: 0xb0 }).dev, 'veth1');
  assert.equal(get(s, { dst: '8.8.8.8' }).dev, 'veth0');
});

test('case 11: longest prefix beats metric; an unreachable at the winning prefix is an error', () => {
  const s = world({
    routes: [
      route({ dst: '8.8.0.0/16', metric: 1, gateway: '10.0.0.254', dev: 'veth0' }),
      route({ dst: '8.8.8.0/24', metric: 1000, gateway: '10.1.0.254', dev: 'veth1' }),
    ],
  });
  assert.equal(get(s, { dst: '8.8.8.8' }).dev, 'veth1');
  const u = world({
    routes: [route({ dst: '8.8.8.8', type: 'unreachable', metric: 5 }), route({ dst: '8.8.8.8', metric: 10, gateway: '10.0.0.254', dev: 'veth0' })],
  });
  assert.equal(get(u, { dst: '8.8.8.8' }).error, 'EHOSTUNREACH');
});

test('case 12: prohibit, blackhole and throw in main', () => {
  for (const [type, err] of [
    ['prohibit', 'EACCES'],
    ['blackhole', 'EINVAL'],
    ['throw', 'ENETUNREACH'],
  ] as const) {
    const s = world({ routes: [route({ dst: '8.8.8.8', type })] });
    assert.equal(get(s, { dst: '8.8.8.8' }).error, err, type);
  }
});

test('case 13: throw returns to the rules at once; a missing table is skipped', () => {
  const s = world({
    rules: [rule({ pref: 100, table: 100 }), rule({ pref: 200, table: 999 }), rule({ pref: 300, table: 300 })],
    routes: [route({ dst: '8.8.0.0/16', table: 100, type: 'throw' }), route({ dst: '8.8.8.0/24', table: 300, gateway: '192.168.1.254', dev: 'veth2' })],
  });
  assert.equal(T(s, { dst: '8.8.8.8' }), 300);
  assert.equal(T(s, { dst: '8.8.4.4' }), 'main');
  assert.equal(T(s, { dst: '1.1.1.1' }), 100);
});

test("case 14: suppress_prefixlength 0 skips main's default only; 24 also skips a /24", () => {
  const mk = (n: number) =>
    world({
      rules: [rule({ pref: 100, table: 254, suppressPrefixlength: n }), rule({ pref: 200, table: 100 })],
      routes: [route({ dst: '8.8.8.0/24', gateway: '10.0.0.254', dev: 'veth0' })],
    });
  const s = mk(0);
  assert.equal(T(s, { dst: '1.1.1.1' }), 100);
  assert.equal(T(s, { dst: '8.8.8.8' }), 'main');
  assert.equal(T(s, { dst: '10.0.0.1' }), 'local');
  assert.equal(T(mk(24), { dst: '8.8.8.8' }), 100);
});

test('case 15: rp_filter (all, dev) for a packet from 8.8.8.8 arriving on veth1', () => {
  const s = (all: number, dev: number) => world({ sysctls: { 'net/ipv4/conf/all/rp_filter': String(all), 'net/ipv4/conf/veth1/rp_filter': String(dev) } });
  const p = { dst: '192.168.1.5', src: '8.8.8.8', iif: 'veth1' };
  for (const [all, dev, ok] of [
    [0, 0, true],
    [0, 2, true],
    [0, 1, false],
    [1, 0, false],
    [2, 1, true],
  ] as const) {
    const d = get(s(all, dev), p);
    assert.equal(d.error === null && d.outcome === 'forward', ok, `rp_filter ${all},${dev}: ${d.error}`);
    if (!ok) assert.equal(d.error, 'EINVAL');
  }
});

test('case 16: strict rp_filter with fwmark rules needs src_valid_mark', () => {
  const mk = (svm: string) =>
    world({
      rules: [rule({ pref: 100, fwmark: 2, fwmask: 0xffffffff, table: 100 })],
      sysctls: { 'net/ipv4/conf/all/rp_filter': '1', 'net/ipv4/conf/all/src_valid_mark': svm },
    });
  const p = { dst: '10.1.0.1', src: '8.8.8.8', iif: 'veth1', mark: 2 };
  assert.equal(get(mk('0'), p).error, 'EINVAL');
  const ok = get(mk('1'), p);
  assert.deepEqual([ok.error, ok.outcome], [null, 'local']);
});

test('case 17: carrier down with ignore_routes_with_linkdown falls back to a shorter prefix', () => {
  const mk = (ignore: string) =>
    world({
      routes: [
        route({ dst: '5.5.5.0/24', gateway: '10.1.0.254', dev: 'veth1', flags: ['linkdown'] }),
        route({ dst: '5.5.0.0/16', gateway: '10.0.0.254', dev: 'veth0' }),
      ],
      sysctls: { 'net/ipv4/conf/all/ignore_routes_with_linkdown': ignore },
    });
  assert.equal(get(mk('0'), { dst: '5.5.5.5' }).dev, 'veth1');
  assert.equal(get(mk('1'), { dst: '5.5.5.5' }).dev, 'veth0');
});

test('case 18: a mark set in mangle OUTPUT reroutes, but the source chosen first stays (needs SNAT)', () => {
  const s: State = {
    ...world({ rules: [rule({ pref: 100, fwmark: 2, fwmask: 0xffffffff, table: 100 })] }),
    program: {
      chains: [
        {
          name: 'mangle/OUTPUT',
          hook: 'output',
          type: 'route',
          priority: -150,
          families: [4],
          rules: [
            {
              match: { l4proto: { values: [17] }, dport: { values: [{ from: 9999, to: 9999 }] } },
              actions: [{ kind: 'mark', and: 0, xor: 2 }],
              origin: '-A OUTPUT -p udp --dport 9999 -j MARK --set-mark 2',
            },
          ],
        },
      ],
    },
  };
  const d = get(s, { dst: '8.8.8.8', proto: 17, dport: 9999 });
  assert.deepEqual([d.outcome, d.dev, d.src, d.snat, d.mark], ['forward', 'veth1', '10.0.0.1', null, 2]);
});

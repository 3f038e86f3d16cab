// The simulator gaps of issue 13, without root: the kernel's hidden "custom
// rules" flag (and what the trace says when it is unknown), IPv6
// source-specific routes, RFC 6724 source selection, the source of the
// bound-device fallback, and IPv6 suppress_ifgroup on a multipath route.
// test/selftests/ checks the same against the kernel.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { explain } from '../../src/sim/explain.js';
import { renderDecision } from '../../src/sim/render.js';
import type { Packet } from '../../src/sim/types.js';
import type { AddressState, LinkState, RouteState, RuleState, State } from '../../src/state/types.js';

const rule = (family: 4 | 6, pref: number, table: number, extra: Partial<RuleState> = {}): RuleState => ({
  family,
  pref,
  action: 'lookup',
  table,
  protocol: 2,
  ...extra,
});
const DEFAULTS = [rule(4, 0, 255), rule(4, 32766, 254), rule(4, 32767, 253), rule(6, 0, 255), rule(6, 32766, 254)];
const addr = (address: string, prefixlen: number, scope = 'global', flags?: string[]): AddressState => ({
  family: address.includes(':') ? 6 : 4,
  address,
  prefixlen,
  scope,
  ...(flags ? { flags } : {}),
});
const link = (name: string, index: number, addresses: AddressState[], group?: number): LinkState => ({
  name,
  index,
  up: true,
  carrier: true,
  addresses,
  ...(group ? { group } : {}),
});
const route = (o: Partial<RouteState> & { dst: string }): RouteState => ({
  family: o.dst.includes(':') ? 6 : 4,
  table: 254,
  type: 'unicast',
  tos: 0,
  metric: o.dst.includes(':') ? 1024 : 0,
  protocol: 3,
  scope: 0,
  flags: [],
  ...o,
});

function world(o: { links?: LinkState[]; routes?: RouteState[]; rules?: RuleState[]; hidden?: State['hidden'] } = {}): State {
  return {
    links: o.links ?? [
      link('lo', 1, [addr('127.0.0.1', 8, 'host')]),
      link('d0', 2, [addr('198.51.100.1', 24), addr('2001:db8:1::1', 64)]),
      link('d1', 3, [addr('192.0.2.1', 24), addr('2001:db8:2::1', 64)]),
    ],
    rules: o.rules ?? DEFAULTS,
    routes: o.routes ?? [],
    nft: null,
    sysctls: { 'net/ipv4/ip_forward': '1', 'net/ipv6/conf/all/forwarding': '1' },
    ...(o.hidden ? { hidden: o.hidden } : {}),
  };
}
const out = (dst: string, extra: Partial<Packet> = {}): Packet => ({
  family: dst.includes(':') ? 6 : 4,
  src: dst.includes(':') ? '::' : '0.0.0.0',
  dst,
  ...extra,
});
const traced = (s: State, p: Packet) => {
  const d = explain(s, p);
  return { d, text: renderDecision(d) };
};

test('no rule ever changed: a local address is answered from table main, and the trace says it is assumed', () => {
  const unknown = traced(world(), out('198.51.100.1'));
  assert.deepEqual([unknown.d.outcome, unknown.d.table], ['local', 'main']);
  assert.match(unknown.text, /assumed: a dump cannot show it/);
  const fresh = traced(world({ hidden: { customRules4: false } }), out('198.51.100.1'));
  assert.deepEqual([fresh.d.table, /assumed/.test(fresh.text)], ['main', false]);
  assert.equal(explain(world({ hidden: { customRules4: true } }), out('198.51.100.1')).table, 'local');
  // Any rule beyond the defaults shows the flag is set: table local.
  assert.equal(explain(world({ rules: [...DEFAULTS, rule(4, 100, 100)] }), out('198.51.100.1')).table, 'local');
});

test('rp_filter 0: the quick check unless a rule or local route was ever added; the trace says when that would differ', () => {
  const routes = [
    route({ dst: '203.0.113.0/24', gateway: '198.51.100.2', dev: 'd0' }),
    route({ dst: '198.51.100.255', table: 255, type: 'broadcast', scope: 253, dev: 'd0', protocol: 2, prefsrc: '198.51.100.1' }),
  ];
  const broadcastSource: Packet = { family: 4, src: '198.51.100.255', dst: '203.0.113.1', iif: 'd1' };
  const unknown = traced(world({ routes }), broadcastSource);
  assert.equal(unknown.d.outcome, 'forward');
  assert.match(unknown.text, /full reverse-path check drops this packet/);
  assert.equal(explain(world({ routes, hidden: { customRules4: true } }), broadcastSource).error, 'EINVAL');
  assert.equal(
    explain(world({ routes: [...routes, route({ dst: '10.9.9.9', table: 255, type: 'local', scope: 254, dev: 'd0' })] }), broadcastSource).error,
    'EINVAL',
  );
});

test('IPv6 source-specific routes: by source within a destination; a destination none of whose sources match is passed over', () => {
  const s = world({
    routes: [
      route({ dst: '2001:db8:6::/64', from: '2001:db8:100::/56', gateway: '2001:db8:1::2', dev: 'd0' }),
      route({ dst: '2001:db8:6::/64', gateway: '2001:db8:2::2', dev: 'd1' }),
      route({ family: 6, metric: 1024, dst: 'default', gateway: '2001:db8:1::9', dev: 'd0' }),
    ],
  });
  assert.equal(explain(s, { family: 6, src: '2001:db8:100::5', dst: '2001:db8:6::1', iif: 'd1' }).gateway, '2001:db8:1::2');
  // Not the plain 2001:db8:6::/64 route: the default (fib6_node_lookup_1 backtracks past the node).
  assert.equal(explain(s, { family: 6, src: '2001:db8:300::5', dst: '2001:db8:6::1', iif: 'd1' }).gateway, '2001:db8:1::9');
  assert.equal(explain(s, out('2001:db8:6::1')).gateway, '2001:db8:1::9');
});

test('IPv6 source selection ranks every address (RFC 6724), IPv4 falls back on another device when bound to lo', () => {
  const links = [
    link('lo', 1, [addr('127.0.0.1', 8, 'host'), addr('::1', 128, 'host')]),
    link('d0', 2, [addr('2001:db8:1::1', 64), addr('198.51.100.1', 24)]),
    link('d1', 3, [addr('fe80::1', 64, 'link')]),
    link('d2', 4, [addr('2001:db8:5::1', 64), addr('2001:db8:5::2', 64, 'global', ['deprecated'])]),
  ];
  const s = world({ links, routes: [route({ dst: '2001:db8:5:9::/64', dev: 'd1' }), route({ dst: '2001:db8:77::/64', dev: 'd2' })] });
  assert.equal(explain(s, out('2001:db8:5:9::1')).src, '2001:db8:5::1'); // longest matching prefix, not d0's first global
  assert.equal(explain(s, out('2001:db8:77::2')).src, '2001:db8:5::1'); // not the deprecated ::2, though it is the same address
  assert.equal(explain(s, out('192.0.2.7', { oif: 'lo' })).src, '198.51.100.1');
});

test('IPv6 suppress_ifgroup on a multipath route: the outcome depends on the nexthop the hash picks', () => {
  const links = [link('lo', 1, []), link('d0', 2, [addr('2001:db8:1::1', 64)]), link('d1', 3, [addr('2001:db8:2::1', 64)], 5)];
  const s = world({
    links,
    rules: [...DEFAULTS, rule(6, 100, 100, { suppressIfgroup: 5 })],
    routes: [
      route({
        dst: '2001:db8:9::/64',
        table: 100,
        nexthops: [
          { gateway: '2001:db8:1::2', dev: 'd0', weight: 1, flags: [] },
          { gateway: '2001:db8:2::2', dev: 'd1', weight: 1, flags: [] },
        ],
      }),
      route({ dst: '2001:db8:9::/64', gateway: '2001:db8:1::3', dev: 'd0' }),
    ],
  });
  const { d, text } = traced(s, out('2001:db8:9::1'));
  assert.deepEqual([d.table, d.gateway], [100, '2001:db8:1::2']);
  assert.deepEqual(
    d.alternatives?.map((a) => [a.picks.map((n) => n.dev), a.decision.table, a.decision.gateway]),
    [[['d1'], 'main', '2001:db8:1::3']],
  );
  assert.match(text, /if the hash picks 2001:db8:2::2 dev d1 \(suppress_ifgroup 5: d1 in that group\): leaves via 2001:db8:1::3 dev d0/);
});

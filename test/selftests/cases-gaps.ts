// Not from the kernel's selftests: the simulator gaps issue 13 names, as
// scenarios in the same form, so that the fix of each is checked against the
// kernel like the transcribed checks. Each `expect` is what the kernel was
// seen to do (Linux 6.18) and what the kernel source says it does.
import { addresses, carrier, check, dummies, get4, get6, ip, sysctl, type Check, type Query, type Scenario, type Step } from './scenario.js';

const FORWARDING: Step = sysctl('net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1');
const TWO: Step[] = [FORWARDING, ...dummies(2), ip('-6 address add 2001:db8:1::1/64 dev dummy0'), ip('-6 address add 2001:db8:2::1/64 dev dummy1')];

/**
 * 1. IPv6 source-specific routes (net/ipv6/ip6_fib.c): a destination with
 * `from` routes is looked up by source too; the first lookup passes over a
 * destination none of whose source prefixes holds the source (its plain
 * routes too), except the root; backtracking (an unusable route) tries the
 * shorter source prefixes, then the plain routes of the same destination.
 */
function sourceRoutes(): Scenario {
  const setup: Step[] = [
    ...TWO,
    ip('-6 route add 2001:db8:5::/64 from 2001:db8:100::/56 via 2001:db8:1::2'),
    ip('-6 route add 2001:db8:5::/64 from 2001:db8:100:1::/64 via 2001:db8:2::2'),
    ip('-6 route add 2001:db8:5::/48 via 2001:db8:2::2'),
    ip('-6 route add 2001:db8:6::/64 from 2001:db8:100::/56 via 2001:db8:1::2'),
    ip('-6 route add 2001:db8:6::/64 via 2001:db8:2::2'),
    ip('-6 route add 2001:db8:7::/64 from 2001:db8:100::/56 via 2001:db8:2::2'),
    ip('-6 route add 2001:db8:7::/64 via 2001:db8:1::2'),
    ip('-6 route add default from 2001:db8:200::/64 via 2001:db8:2::2'),
    ip('-6 route add default via 2001:db8:1::2'),
  ];
  const via = (dev: string) => ({ dev });
  const first: Check[] = [
    check('the longest source prefix of the destination', get6('2001:db8:5::1 from 2001:db8:100:1::1 iif dummy0'), via('dummy1')),
    check('a shorter source prefix', get6('2001:db8:5::1 from 2001:db8:100::1 iif dummy1'), via('dummy0')),
    check('no source prefix holds the source: a shorter destination', get6('2001:db8:5::1 from 2001:db8:300::1 iif dummy0'), via('dummy1')),
    check(
      "no source prefix holds the source: the destination's plain route is passed over",
      get6('2001:db8:6::1 from 2001:db8:300::1 iif dummy0'),
      via('dummy0'),
    ),
    check('the source prefix before the plain route', get6('2001:db8:6::1 from 2001:db8:100::5 iif dummy1'), via('dummy0')),
    check('a source-less lookup passes over a destination with source routes', get6('2001:db8:6::1'), via('dummy0')),
    check('the root: a source default route', get6('2001:db8:9::1 from 2001:db8:200::1 iif dummy0'), via('dummy1')),
    check('the root: the plain default route', get6('2001:db8:9::1 from 2001:db8:300::1 iif dummy0'), via('dummy0')),
    check('the host sending from a source prefix', get6('2001:db8:7::1 from 2001:db8:100::7'), via('dummy1')),
  ];
  // dummy1 loses carrier and its routes are ignored: backtracking goes to the plain route of the same destination.
  const backtrack: Step[] = [sysctl('net.ipv6.conf.dummy1.ignore_routes_with_linkdown=1'), ...carrier('dummy1', false)];
  const second: Check[] = [
    check('an unusable source route: the plain route of the same destination', get6('2001:db8:7::1 from 2001:db8:100::7 iif dummy0'), via('dummy0')),
    check('an unusable longest source route: the shorter source prefix', get6('2001:db8:5::1 from 2001:db8:100:1::1 iif dummy0'), via('dummy0')),
  ];
  return {
    script: 'gaps',
    section: 'ipv6 source-specific routes',
    phases: [
      { setup, checks: first },
      { setup: backtrack, checks: second },
    ],
  };
}

/**
 * 2. IPv6 source address selection (net/ipv6/addrconf.c ipv6_dev_get_saddr,
 * RFC 6724): every device's addresses compete, ranked by scope, not
 * deprecated, the output device, label, longest matching prefix.
 * 3. IPv4 source selection (net/ipv4/devinet.c inet_select_addr): the bound
 * device's on-link fallback (RT_SCOPE_LINK: another device's address for lo,
 * 127.0.0.1 once lo has route_localnet), a device route (no gateway: the
 * device's first primary address), a gateway route (the address whose subnet
 * holds the gateway); a secondary address never.
 */
function sourceSelection(): Scenario {
  const setup: Step[] = [
    FORWARDING,
    ...dummies(4),
    ...addresses('dummy0', '2001:db8:1::1/64', '198.51.100.1/24'),
    ...addresses('dummy1', '10.1.0.1/24', '10.2.0.1/24', '10.1.0.9/24'),
    ...addresses('dummy2', '2001:db8:5::1/64', 'fd00:5::1/64'),
    ...addresses('dummy3', '2001:db8:3::2/64'),
    ip('-6 address add 2001:db8:3::1/64 dev dummy3 preferred_lft 0'),
    ip('-6 route add 2001:db8:5:9::/64 dev dummy1'),
    ip('-6 route add fd12::/16 dev dummy1'),
    ip('-6 route add 2001:db8:77::/64 dev dummy3'),
    ip('route add 10.2.0.128/25 dev dummy1'),
    ip('route add 172.20.0.0/16 via 10.2.0.254 dev dummy1'),
  ];
  const rows: [string, Query, string | undefined, string][] = [
    ['IPv6 output device without a global address: the longest matching prefix elsewhere', get6('2001:db8:5:9::1'), 'dummy1', '2001:db8:5::1'],
    ['IPv6 unique local destination: the address of the same label', get6('fd12::1'), 'dummy1', 'fd00:5::1'],
    ['IPv6 deprecated address avoided', get6('2001:db8:77::1'), 'dummy3', '2001:db8:3::2'],
    ['IPv6 link-local destination: only the output device', get6('fe80::99 oif dummy1'), undefined, 'fe80::ff:fe00:11'],
    ["IPv4 bound to lo, no route: another device's address", get4('192.0.2.1 oif lo'), 'lo', '198.51.100.1'],
    ['IPv4 bound to a device, no route: its first primary address', get4('203.0.113.5 oif dummy1'), 'dummy1', '10.1.0.1'],
    ['IPv4 device route: the first primary address, not the one of its subnet', get4('10.2.0.200'), 'dummy1', '10.1.0.1'],
    ["IPv4 gateway route: the address of the gateway's subnet", get4('172.20.1.1'), 'dummy1', '10.2.0.1'],
  ];
  const checks = rows.map(([name, q, dev, prefsrc]) => check(name, q, { ...(dev ? { dev } : {}), prefsrc }));
  const localnet = [check('IPv4 bound to lo with route_localnet: 127.0.0.1', get4('192.0.2.1 oif lo'), { dev: 'lo', prefsrc: '127.0.0.1' })];
  return {
    script: 'gaps',
    section: 'source address selection',
    phases: [
      { setup, checks },
      { setup: [sysctl('net.ipv4.conf.lo.route_localnet=1')], checks: localnet },
    ],
  };
}

/**
 * 4. suppress_ifgroup on multipath routes: IPv4 judges nexthop #0
 * (fib4_rule_suppress), IPv6 the nexthop the hash picked (fib6_rule_suppress):
 * there the outcome depends on the hash, and the simulator gives both.
 */
function suppressIfgroup(): Scenario {
  const setup: Step[] = [
    ...TWO,
    ip('link set dev dummy1 group 5'),
    ip('address add 198.51.100.1/24 dev dummy0'),
    ip('address add 192.0.2.1/24 dev dummy1'),
    ip('-6 route add 2001:db8:9::/64 table 100 nexthop via 2001:db8:1::2 dev dummy0 nexthop via 2001:db8:2::2 dev dummy1'),
    ip('-6 route add 2001:db8:9::/64 via 2001:db8:1::3 dev dummy0'),
    ip('-6 rule add pref 100 lookup 100 suppress_ifgroup 5'),
    ip('route add 203.0.113.0/24 table 100 nexthop via 192.0.2.2 dev dummy1 nexthop via 198.51.100.2 dev dummy0'),
    ip('route add 203.0.114.0/24 table 100 nexthop via 198.51.100.2 dev dummy0 nexthop via 192.0.2.2 dev dummy1'),
    ip('route add 203.0.113.0/24 via 198.51.100.3'),
    ip('route add 203.0.114.0/24 via 198.51.100.3'),
    ip('rule add pref 100 lookup 100 suppress_ifgroup 5'),
  ];
  const many = (family: 4 | 6, base: string, n: number) => Array.from({ length: n }, (_, i) => (family === 4 ? get4 : get6)(`${base}${i + 1}`));
  const checks: Check[] = [
    { name: 'IPv6: suppressed when the hash picks the nexthop in the group', queries: many(6, '2001:db8:9::', 64), expect: { tablesSeen: [100, 254] } },
    { name: 'IPv4: nexthop #0 in the group: always suppressed', queries: many(4, '203.0.113.', 32), expect: { table: 254 } },
    { name: 'IPv4: nexthop #0 not in the group: never suppressed', queries: many(4, '203.0.114.', 32), expect: { table: 100 } },
  ];
  return { script: 'gaps', section: 'suppress_ifgroup on multipath', phases: [{ setup, checks }] };
}

/**
 * 5. The kernel's "custom rules were ever added" and "custom local routes"
 * flags (kernel-flags.ts): invisible in a dump once the rule or route is gone,
 * they decide the table `ip route get` names for a local address and whether
 * rp_filter 0 checks the source with a lookup (a subnet broadcast source
 * passes the quick check and fails the full one; it arrives on dummy1 and
 * leaves by dummy0: with one device for both the quick check is not taken).
 */
function hiddenFlags(): Scenario[] {
  const setup: Step[] = [
    FORWARDING,
    ...dummies(2),
    ip('address add 198.51.100.1/24 dev dummy0'),
    ip('address add 192.0.2.1/24 dev dummy1'),
    ip('route add 203.0.113.0/24 via 198.51.100.2'),
  ];
  const checks = (table: number, accepted: boolean): Check[] => [
    check(`a local address from table ${table === 254 ? 'main' : 'local'} (fibmatch)`, get4('fibmatch 198.51.100.1'), { table }),
    check(`a local address from table ${table === 254 ? 'main' : 'local'}`, get4('198.51.100.1'), { table }),
    check(`a subnet broadcast source ${accepted ? 'passes' : 'fails'} rp_filter 0`, get4('203.0.113.1 from 198.51.100.255 iif dummy1'), { ok: accepted }),
  ];
  const rules: Scenario = {
    script: 'gaps',
    section: 'custom rules ever added',
    phases: [
      { setup, checks: checks(254, true) },
      { setup: [ip('rule add pref 100 lookup 100'), ip('rule del pref 100')], checks: checks(255, false) },
    ],
  };
  const local: Scenario = {
    script: 'gaps',
    section: 'a custom local route',
    phases: [
      {
        setup: [...setup, ip('route add local 10.9.9.9 dev dummy0')],
        checks: [check('a subnet broadcast source fails rp_filter 0', get4('203.0.113.1 from 198.51.100.255 iif dummy1'), { ok: false })],
      },
    ],
  };
  return [rules, local];
}

export const GAPS: Scenario[] = [sourceRoutes(), sourceSelection(), suppressIfgroup(), ...hiddenFlags()];

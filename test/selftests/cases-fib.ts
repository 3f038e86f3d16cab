// tools/testing/selftests/net/fib_tests.sh (Linux 6.x), its `ip route get`
// checks: unregister, down and carrier events (fibmatch with and without oif,
// the dead/linkdown flags), the IPv4 dsfield routes, the multipath oif and
// preferred-source tests, and the suppress test (whose only check is that the
// kernel survives: here its `ip route get` is compared, with no expectation).
// The mangle tests' connections become the `ip route get` they depend on (the
// iptables MARK part of them needs traffic and is left out).
//
// Left out: checks that are not route lookups (route add/replace/append and
// address metrics read with `ip route ls`, notifications, garbage collection,
// RA handling, neighbour resolution, rp_filter and load balancing by traffic
// through tc mirred, socat, mausezahn and perf), the VRF variants, the
// nexthop-object variants (ipv{4,6}_mpath_oif_nh_test: the simulator does not
// model nexthop objects), and ipv4_local_rt_cache (it runs on the host's own
// namespace). Dummy devices are veths (dummy() in scenario.ts); `carrier
// on|off` is the veth peer up/down.
import type { Family } from '../../src/net/ip.js';
import { carrier, check, dummy, get, get4, get6, ip, sysctl, up, veth, type Check, type Phase, type Scenario, type Step } from './scenario.js';

/** setup(): ns1 with forwarding on and dummy0 = 198.51.100.1/24, 2001:db8:1::1/64. */
const SETUP: Step[] = [
  sysctl('net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1'),
  ...dummy('dummy0', 0x10),
  ip('address add 198.51.100.1/24 dev dummy0'),
  ip('-6 address add 2001:db8:1::1/64 dev dummy0'),
];

/** dummy1 and the multipath routes of the unregister and down tests. */
const MPATH: Step[] = [
  ...dummy('dummy1', 0x11),
  ip('address add 192.0.2.1/24 dev dummy1'),
  ip('-6 address add 2001:db8:2::1/64 dev dummy1'),
  ip('route add 203.0.113.0/24 nexthop via 198.51.100.2 dev dummy0 nexthop via 192.0.2.2 dev dummy1'),
  ip('-6 route add 2001:db8:3::/64 nexthop via 2001:db8:1::2 dev dummy0 nexthop via 2001:db8:2::2 dev dummy1'),
];

const ok = { ok: true };
const fails = { ok: false };
const fib = (family: Family, dst: string) => get(family, `fibmatch ${dst}`);

/** IPv4 then IPv6 fibmatch of the same check, as the script pairs them. */
const both = (v4: string, v6: string, name: (f: string) => string, expect: object): Check[] => [
  check(name('IPv4'), fib(4, v4), expect),
  check(name('IPv6'), fib(6, v6), expect),
];

function unregister(): Scenario[] {
  const unicast: Phase[] = [
    { setup: SETUP, checks: both('198.51.100.2', '2001:db8:1::2', (f) => `${f} fibmatch`, ok) },
    { setup: [ip('link del dev dummy0')], checks: both('198.51.100.2', '2001:db8:1::2', (f) => `${f} fibmatch - no route`, fails) },
  ];
  const multipath: Phase[] = [
    { setup: [...SETUP, ...MPATH], checks: both('203.0.113.1', '2001:db8:3::1', (f) => `${f} fibmatch`, ok) },
    {
      setup: [ip('link del dev dummy0')],
      checks: [
        check('IPv4 - multipath route removed on delete', fib(4, '203.0.113.1'), fails),
        check('IPv6 - multipath down to single path', fib(6, '2001:db8:3::1'), ok),
      ],
    },
    { setup: [ip('link del dev dummy1')], checks: [check('IPv6 - no route', fib(6, '2001:db8:3::1'), fails)] },
  ];
  return [
    { script: 'fib_tests', section: 'fib_unreg_unicast_test', phases: unicast },
    { script: 'fib_tests', section: 'fib_unreg_multipath_test', phases: multipath },
  ];
}

/** fib_down_multipath_test_do: one device down, one up. */
function downUp(down: string, up: string, when: string): Check[] {
  const v = (f: string, s: string) => `${when}: ${f} ${s}`;
  const flags = (f: Family, dev: string, not: boolean) =>
    check(v(f === 4 ? 'IPv4' : 'IPv6', `flags on ${not ? 'up' : 'down'} device`), fib(f, f === 4 ? '203.0.113.1' : '2001:db8:3::1'), {
      nexthopFlags: { dev, flags: ['dead', 'linkdown'], not },
    });
  return [
    check(v('IPv4', 'fibmatch on down device'), get4(`fibmatch 203.0.113.1 oif ${down}`), fails),
    check(v('IPv6', 'fibmatch on down device'), get6(`fibmatch 2001:db8:3::1 oif ${down}`), fails),
    check(v('IPv4', 'fibmatch on up device'), get4(`fibmatch 203.0.113.1 oif ${up}`), ok),
    check(v('IPv6', 'fibmatch on up device'), get6(`fibmatch 2001:db8:3::1 oif ${up}`), ok),
    flags(4, down, false),
    flags(6, down, false),
    flags(4, up, true),
    flags(6, up, true),
  ];
}

function down(): Scenario[] {
  const unicast: Phase[] = [
    { setup: SETUP, checks: both('198.51.100.2', '2001:db8:1::2', (f) => `start: ${f} fibmatch`, ok) },
    { setup: [ip('link set dev dummy0 down')], checks: both('198.51.100.2', '2001:db8:1::2', (f) => `route deleted on down: ${f} fibmatch`, fails) },
  ];
  const multipath: Phase[] = [
    { setup: [...SETUP, ...MPATH], checks: both('203.0.113.1', '2001:db8:3::1', (f) => `verify start point: ${f} fibmatch`, ok) },
    { setup: [ip('link set dev dummy0 down')], checks: downUp('dummy0', 'dummy1', 'one device down, one up') },
    { setup: [...up('dummy0'), ip('link set dev dummy1 down')], checks: downUp('dummy1', 'dummy0', 'other device down and up') },
    { setup: [ip('link set dev dummy0 down')], checks: both('203.0.113.1', '2001:db8:3::1', (f) => `both devices down: ${f} fibmatch`, fails) },
  ];
  return [
    { script: 'fib_tests', section: 'fib_down_unicast_test', phases: unicast },
    { script: 'fib_tests', section: 'fib_down_multipath_test', phases: multipath },
  ];
}

/** fibmatch answers, then whether they carry `linkdown`. */
const withFlag = (v4: string, v6: string, when: string, linkdown: boolean): Check[] => [
  ...both(v4, v6, (f) => `${when}: ${f} fibmatch`, ok),
  ...both(v4, v6, (f) => `${when}: ${f} ${linkdown ? '' : 'no '}linkdown flag`, { linkdown }),
];

function carrierTests(): Scenario[] {
  const addr2 = [ip('address add 192.0.2.1/24 dev dummy0'), ip('-6 address add 2001:db8:2::1/64 dev dummy0')];
  // Local routes are not affected by carrier: never `linkdown`.
  const local: Phase[] = [
    { setup: [...SETUP, ...carrier('dummy0', true)], checks: withFlag('198.51.100.1', '2001:db8:1::1', 'start point', false) },
    { setup: carrier('dummy0', false), checks: withFlag('198.51.100.1', '2001:db8:1::1', 'carrier off on nexthop', false) },
    { setup: addr2, checks: withFlag('192.0.2.1', '2001:db8:2::1', 'route to local address with carrier down', false) },
  ];
  const unicast: Phase[] = [
    { setup: [...SETUP, ...carrier('dummy0', true)], checks: withFlag('198.51.100.2', '2001:db8:1::2', 'start point', false) },
    { setup: carrier('dummy0', false), checks: withFlag('198.51.100.2', '2001:db8:1::2', 'carrier down', true) },
    { setup: addr2, checks: withFlag('192.0.2.2', '2001:db8:2::2', 'second address added with carrier down', true) },
  ];
  return [
    { script: 'fib_tests', section: 'fib_carrier_local_test', phases: local },
    { script: 'fib_tests', section: 'fib_carrier_unicast_test', phases: unicast },
  ];
}

/** fib_suppress_test: its ping flood only has to survive; the lookup it makes is compared. */
const suppress: Scenario = {
  script: 'fib_tests',
  section: 'fib_suppress_test',
  phases: [
    {
      setup: [...SETUP, ...dummy('dummy1', 0x11), ip('-6 route add default dev dummy1'), ip('-6 rule add table main suppress_prefixlength 0')],
      checks: [check('FIB rule suppress test', get6('1234::1'))],
    },
  ],
};

/** route_setup(): veth1 and veth3 to ns2 (here the peer namespace), with their addresses. */
const ROUTE_SETUP: Step[] = [
  ...SETUP,
  ...veth('veth1', 'veth2'),
  ...veth('veth3', 'veth4'),
  ip('-6 address add 2001:db8:101::1/64 dev veth1 nodad'),
  ip('-6 address add 2001:db8:103::1/64 dev veth3 nodad'),
  ip('address add 172.16.101.1/24 dev veth1'),
  ip('address add 172.16.103.1/24 dev veth3'),
];

/** ipv4_rt_dsfield: a generic route and one for DSCP 0x10; ECN bits never count. */
function dsfield(): Scenario {
  const specific = { dst: '172.16.102.0/24', tos: 0x10, gateway: '172.16.103.2' };
  const generic = { dst: '172.16.102.0/24', tos: 0, gateway: '172.16.101.2' };
  const ecn = ['Not-ECT', 'ECT(1)', 'ECT(0)', 'CE'];
  const checks = [
    ...ecn.map((e, i) => check(`IPv4 route with DSCP and ECN:${e}`, get4(`fibmatch 172.16.102.1 dsfield 0x1${i}`), { route: specific })),
    ...ecn.map((e, i) => check(`IPv4 route with unknown DSCP and ECN:${e}`, get4(`fibmatch 172.16.102.1 dsfield 0x1${4 + i}`), { route: generic })),
    ...ecn.map((e, i) => check(`IPv4 route with no DSCP and ECN:${e}`, get4(`fibmatch 172.16.102.1 dsfield 0x0${i}`), { route: generic })),
  ];
  const setup = [...ROUTE_SETUP, ip('route add 172.16.102.0/24 via 172.16.101.2'), ip('route add 172.16.102.0/24 dsfield 0x10 via 172.16.103.2')];
  return { script: 'fib_tests', section: 'ipv4_rt_dsfield', phases: [{ setup, checks }] };
}

/** ipv{4,6}_mangle_test without the mangling: the rule on ports routes the connection, the unreachable route blocks the rest. */
function mangle(family: Family): Scenario {
  const v = family === 6 ? '-6 ' : '';
  const [net, host] = family === 6 ? ['2001:db8:101::/64', '2001:db8:101::2'] : ['172.16.101.0/24', '172.16.101.2'];
  const setup = [
    ...ROUTE_SETUP,
    ip(`${v}rule add pref 100 ipproto udp sport 12345 dport 54321 table 123`),
    ip(`${v}route add table 123 ${net} dev veth1`),
    ip(`${v}route add unreachable ${host}/${family === 6 ? 128 : 32}`),
  ];
  const checks = [
    check('Connection with correct parameters', get(family, `${host} ipproto udp sport 12345 dport 54321`), { table: 123, dev: 'veth1' }),
    check('Connection with incorrect parameters', get(family, `${host} ipproto udp sport 11111 dport 54321`), fails),
  ];
  return { script: 'fib_tests', section: `ipv${family}_mangle_test`, phases: [{ setup, checks }] };
}

/** ipv4_mpath_balance_preferred_test: 254 destinations, each from a given source. */
function preferred(): Scenario {
  const setup = [...ROUTE_SETUP, ip('route add 172.16.105.0/24 nexthop via 172.16.101.2 nexthop via 172.16.103.2')];
  const all = (src: string) => Array.from({ length: 254 }, (_, i) => get4(`172.16.105.${i + 1} from ${src}`));
  const checks: Check[] = [
    { name: 'IPv4 multipath loadbalance from veth1', queries: all('172.16.101.1'), expect: { dev: 'veth1' } },
    { name: 'IPv4 multipath loadbalance from veth3', queries: all('172.16.103.1'), expect: { dev: 'veth3' } },
    { name: 'IPv4 multipath loadbalance from dummy', queries: all('198.51.100.1'), expect: { devsSeen: ['veth1', 'veth3'] } },
  ];
  return { script: 'fib_tests', section: 'ipv4_mpath_balance_preferred_test', phases: [{ setup, checks }] };
}

/**
 * The IPv6 lookup honours the oif of a lookup with a source only since a fix
 * newer than the kernel this suite was written on (6.18): there the hash still
 * picks among all siblings, as the simulator says (it gives the set).
 */
const IPV6_OIF_WITH_SOURCE = 'IPv6 honours the oif of a locally generated lookup with a source only in kernels newer than 6.18';

/**
 * ipv{4,6}_mpath_oif_test: 100 destinations with an oif, with and without a
 * source. (The _nh variants, with nexthop objects, are left out: the
 * simulator does not model nexthop objects.)
 */
function mpathOif(family: Family): Scenario {
  const six = family === 6;
  const [gw0, gw1, dst, src] = six
    ? ['2001:db8:1::2', '2001:db8:2::2', '2001:db8:10::', '2001:db8:100::1']
    : ['198.51.100.2', '192.0.2.2', '203.0.113.', '192.0.2.17'];
  const prefix = six ? '2001:db8:10::/64' : '203.0.113.0/24';
  const setup = [
    ...SETUP,
    ...dummy('dummy1', 0x11),
    ip(six ? 'address add 2001:db8:2::1/64 dev dummy1' : 'address add 192.0.2.1/28 dev dummy1'),
    ip(six ? 'address add 2001:db8:100::1/128 dev lo' : 'address add 192.0.2.17/32 dev lo'),
    ip(`route add ${prefix} nexthop via ${gw0} dev dummy0 nexthop via ${gw1} dev dummy1`),
  ];
  const all = (words: string) => Array.from({ length: 100 }, (_, i) => get(family, `${dst}${i + 1} ${words}`));
  const name = (s: string) => `IPv${family} multipath via ${s}`;
  const checks: Check[] = [
    { name: name('first nexthop'), queries: all('oif dummy0'), expect: { dev: 'dummy0' } },
    { name: name('second nexthop'), queries: all('oif dummy1'), expect: { dev: 'dummy1' } },
    {
      name: name('first nexthop with source address'),
      queries: all(`oif dummy0 from ${src}`),
      expect: { dev: 'dummy0' },
      ...(six ? { newerKernel: IPV6_OIF_WITH_SOURCE } : {}),
    },
    {
      name: name('second nexthop with source address'),
      queries: all(`oif dummy1 from ${src}`),
      expect: { dev: 'dummy1' },
      ...(six ? { newerKernel: IPV6_OIF_WITH_SOURCE } : {}),
    },
  ];
  return { script: 'fib_tests', section: `ipv${family}_mpath_oif_test`, phases: [{ setup, checks }] };
}

export const FIB_TESTS: Scenario[] = [
  ...unregister(),
  ...down(),
  ...carrierTests(),
  suppress,
  dsfield(),
  mangle(4),
  mangle(6),
  preferred(),
  mpathOif(4),
  mpathOif(6),
];

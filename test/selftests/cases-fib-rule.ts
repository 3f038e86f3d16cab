// tools/testing/selftests/net/fib_rule_tests.sh (Linux 6.x), its `ip route get`
// checks. Each match of fib_rule{4,6}_test_match_n_redirect is a phase: the rule
// is added (auto pref 32765) and deleted again by the next phase, as the script's
// fib_rule{4,6}_del_by_pref does; the check passes when the answer names (or, for
// the "no redirect" query, does not name) table 100.
//
// Left out, as the script itself skips them with iproute2 6.1 (no `dscp`,
// `flowlabel` or port masks in `ip rule`): the dscp, dscp-mask, flowlabel and
// masked-port matches. Left out here: the `dsfield 1..3` checks (a refused
// `ip rule add`, not a route lookup) and the VRF variants (fib_rule{4,6}_vrf).
// The connect tests (nettest TCP/UDP connections with a DS field) become the
// `ip route get` of the connection they open: same destination, tos, protocol.
import type { Family } from '../../src/net/ip.js';
import { check, dummy, get, ip, sysctl, veth, type Check, type Phase, type Scenario, type Step } from './scenario.js';

const RTABLE = 100;
const RTABLE_PEER = 101;
const GW = { 4: '192.51.100.2', 6: '2001:db8:1::2' } as const;
const SRC = { 4: '192.51.100.3', 6: '2001:db8:1::3' } as const;

/** setup(): testns with dummy0 = 192.51.100.1/24, 2001:db8:1::1/64. */
const SETUP: Step[] = [...dummy('dummy0', 0x10), ip('address add 192.51.100.1/24 dev dummy0'), ip('-6 address add 2001:db8:1::1/64 dev dummy0')];

interface Match {
  /** the `ip rule add` selector */
  match: string;
  /** the route get words that should, and should not, hit table 100 */
  getmatch: string;
  getnomatch: string;
  description: string;
  nomatchDescription: string;
}

/** fib_rule{4,6}_test_match_n_redirect as one phase. */
function redirect(family: Family, m: Match, before: Step[]): Phase {
  const v = family === 6 ? '-6 ' : '';
  const rule = `rule${family === 6 ? 6 : 4} check:`;
  const checks: Check[] = [
    check(`${rule} ${m.description}`, get(family, `${GW[family]} ${m.getmatch}`), { table: RTABLE }),
    check(`${rule} ${m.nomatchDescription}`, get(family, `${GW[family]} ${m.getnomatch}`), { notTable: RTABLE }),
  ];
  return { setup: [...before, ip(`${v}rule add ${m.match} table ${RTABLE}`)], checks };
}

const same = (match: string, nomatch: string, description: string, nomatchDescription: string): Match => ({
  match,
  getmatch: match,
  getnomatch: nomatch,
  description,
  nomatchDescription,
});
const other = (match: string, getmatch: string, getnomatch: string, description: string, nomatchDescription: string): Match => ({
  match,
  getmatch,
  getnomatch,
  description,
  nomatchDescription,
});

/** The matches of fib_rule{4,6}_test in script order (those iproute2 6.1 can express). */
function matches(family: Family): Match[] {
  const [src, tag] = [SRC[family], family === 6 ? 'ipv6-icmp' : 'icmp'];
  const tos = ['0x10', '0x11', '0x12', '0x13'];
  return [
    same('oif dummy0', 'oif lo', 'oif redirect to table', 'oif no redirect to table'),
    same(`from ${src} iif dummy0`, `from ${src} iif lo`, 'iif redirect to table', 'iif no redirect to table'),
    ...tos.map((t) => other('tos 0x10', `tos ${t}`, 'tos 0x20', `tos ${t} redirect to table`, 'tos 0x20 no redirect to table')),
    ...tos.map((t) =>
      other(
        'tos 0x10',
        `from ${src} iif dummy0 tos ${t}`,
        `from ${src} iif dummy0 tos 0x20`,
        `iif tos ${t} redirect to table`,
        'iif tos 0x20 no redirect to table',
      ),
    ),
    other('fwmark 0x64', 'mark 0x64', 'mark 0x63', 'fwmark redirect to table', 'fwmark no redirect to table'),
    other('uidrange 100-100', 'uid 100', 'uid 101', 'uid redirect to table', 'uid no redirect to table'),
    same('sport 666 dport 777', 'sport 667 dport 778', 'sport and dport redirect to table', 'sport and dport no redirect to table'),
    other(
      'sport 100-200 dport 300-400',
      'sport 100 dport 400',
      'sport 100 dport 401',
      'sport and dport range redirect to table',
      'sport and dport range no redirect to table',
    ),
    same('ipproto tcp', 'ipproto udp', 'ipproto tcp match', 'ipproto udp no match'),
    same(`ipproto ${tag}`, 'ipproto tcp', `ipproto ${tag} match`, `ipproto ${family === 6 ? 'ipv6-tcp' : 'tcp'} no match`),
  ];
}

/** fib_rule{4,6}_test: the table 100 default route, then one phase per match. */
function ruleTest(family: Family): Scenario {
  const v = family === 6 ? '-6 ' : '';
  const phases: Phase[] = [];
  matches(family).forEach((m, i) => {
    const before: Step[] =
      i === 0 ? [...SETUP, ip(`${v}route add table ${RTABLE} default via ${GW[family]} dev dummy0 onlink`)] : [ip(`${v}rule del pref 32765`)];
    // fib_rule4_test enables forwarding and turns rp_filter off on dummy0 before the iif match.
    if (family === 4 && i === 1) before.push(sysctl('net.ipv4.ip_forward=1', 'net.ipv4.conf.dummy0.rp_filter=0'));
    phases.push(redirect(family, m, before));
  });
  return { script: 'fib_rule_tests', section: `fib_rule${family}_test`, phases };
}

/**
 * fib_rule{4,6}_connect_test: setup_peer (veth0 to the peer, a table 101 route to
 * the peer's loopback address) and `dsfield 0x04 lookup 101`; the UDP and TCP
 * connections with DS field 0x04–0x07 must reach the peer, 0x20 must not.
 */
function connectTest(family: Family): Scenario {
  const v6 = family === 6;
  const remote = v6 ? '2001:db8::1:11' : '198.51.100.11';
  const setup: Step[] = [
    ...SETUP,
    ...veth('veth0', 'veth1'),
    ip('address add 192.0.2.10 peer 192.0.2.11/32 dev veth0'),
    ip('address add 2001:db8::10 peer 2001:db8::11/128 dev veth0 nodad'),
    ip(`route add table ${RTABLE_PEER} 198.51.100.11/32 via 192.0.2.11`),
    ip(`route add table ${RTABLE_PEER} 2001:db8::1:11/128 via 2001:db8::11`),
    ip(`-${family} rule add dsfield 0x04 table ${RTABLE_PEER}`),
  ];
  const rule = `rule${family} dsfield`;
  const checks: Check[] = [];
  for (const ds of ['0x04', '0x05', '0x06', '0x07']) {
    for (const proto of ['udp', 'tcp'])
      checks.push(check(`${rule} ${proto} connect (dsfield ${ds})`, get(family, `${remote} tos ${ds} ipproto ${proto}`), { table: RTABLE_PEER, dev: 'veth0' }));
  }
  for (const proto of ['udp', 'tcp'])
    checks.push(check(`${rule} ${proto} no connect (dsfield 0x20)`, get(family, `${remote} tos 0x20 ipproto ${proto}`), { ok: false }));
  return { script: 'fib_rule_tests', section: `fib_rule${family}_connect_test`, phases: [{ setup, checks }] };
}

export const FIB_RULE_TESTS: Scenario[] = [ruleTest(6), ruleTest(4), connectTest(6), connectTest(4)];

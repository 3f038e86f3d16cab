// The seed router, dual-stack: the same namespaces and IPv4 addresses, plus
// IPv6 on every link (documentation prefixes), for the IPv6 failover tests of
// the three ways a LAN reaches an IPv6 internet through two uplinks:
//   - NAT66 / NPTv6: the LAN uses fd00:99::/64 (ULA) behind the router;
//   - prefix per uplink: each provider routes a /64 of its own to the router
//     (2001:db8:1:99::/64 from isp1, 2001:db8:2:99::/64 from isp2), which the
//     router advertises on the LAN (radvd), so hosts hold an address of each.
// The internet host answers on 203.0.113.10 and 2001:db8:ffff::10.
import { SEED_TOPOLOGY } from './seed.js';
import type { Topology } from './topology.js';

export const SEED6_SERVER = '2001:db8:ffff::10';
/** The prefixes the providers delegate to the router for its LAN (prefix per uplink). */
const SEED6_DELEGATED = { isp1: '2001:db8:1:99::/64', isp2: '2001:db8:2:99::/64' } as const;

const V6: Record<string, string[]> = {
  'lan/eth0': ['fd00:99::10/64'],
  'router/eth0': ['fd00:99::1/64'],
  'router/eth1': ['2001:db8:1::2/64'],
  'isp1/eth0': ['2001:db8:1::1/64'],
  'router/eth4': ['2001:db8:2::2/64'],
  'isp2/eth0': ['2001:db8:2::1/64'],
  'isp1/up': ['2001:db8:ff01::1/64'],
  'inet/isp1': ['2001:db8:ff01::2/64'],
  'isp2/up': ['2001:db8:ff02::1/64'],
  'inet/isp2': ['2001:db8:ff02::2/64'],
};

export const SEED6_TOPOLOGY: Topology = {
  ...SEED_TOPOLOGY,
  name: 'seed6',
  namespaces: SEED_TOPOLOGY.namespaces.map((n) => ({
    ...n,
    sysctls: [...n.sysctls, ['net.ipv6.conf.all.forwarding', n.role === 'isp1' || n.role === 'isp2' ? '1' : '0']],
    loopback: n.role === 'inet' ? [...n.loopback, `${SEED6_SERVER}/128`] : n.loopback,
  })),
  links: SEED_TOPOLOGY.links.map((l) => ({
    a: { ...l.a, addrs: [...l.a.addrs, ...(V6[`${l.a.role}/${l.a.ifname}`] ?? [])] },
    b: { ...l.b, addrs: [...l.b.addrs, ...(V6[`${l.b.role}/${l.b.ifname}`] ?? [])] },
  })),
  routes: [
    ...SEED_TOPOLOGY.routes,
    { role: 'lan', spec: ['-6', 'default', 'via', 'fd00:99::1', 'dev', 'eth0'] },
    { role: 'router', spec: ['-6', 'default', 'via', '2001:db8:1::1', 'dev', 'eth1'] },
    { role: 'isp1', spec: ['-6', 'default', 'via', '2001:db8:ff01::2', 'dev', 'up'] },
    { role: 'isp2', spec: ['-6', 'default', 'via', '2001:db8:ff02::2', 'dev', 'up'] },
    // each provider routes its delegated LAN prefix to the router
    { role: 'isp1', spec: ['-6', SEED6_DELEGATED.isp1, 'via', '2001:db8:1::2', 'dev', 'eth0'] },
    { role: 'isp2', spec: ['-6', SEED6_DELEGATED.isp2, 'via', '2001:db8:2::2', 'dev', 'eth0'] },
    { role: 'inet', spec: ['-6', '2001:db8:1::/48', 'via', '2001:db8:ff01::1', 'dev', 'isp1', 'src', SEED6_SERVER] },
    { role: 'inet', spec: ['-6', '2001:db8:2::/48', 'via', '2001:db8:ff02::1', 'dev', 'isp2', 'src', SEED6_SERVER] },
  ],
  internet: { ...SEED_TOPOLOGY.internet },
};

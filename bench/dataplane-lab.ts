// The data-path bench's lab: a LAN host → a router with 8 uplinks → one
// provider namespace that all 8 uplinks reach → a server host. The first two
// uplinks carry the seed's names and addresses (eth1, eth4), so
// examples/seed.yaml applies to this router unchanged; the other six are
// eth5…eth10 on 100.64.K.0/24. Built with src/lab (labUp/labDown), so a run that
// dies leaves a record `multihome lab down` can clean up.
import type { Topology } from '../src/lab/index.js';

export const SERVER = '203.0.113.10';
const LAN_HOST = '192.168.99.10';
export const LAN_PREFIX = '192.168.99.0/24';

export interface Uplink {
  /** the provider's name in the configs */
  name: string;
  /** the router's interface */
  dev: string;
  /** the router's address on it (the SNAT address) */
  addr: string;
  gateway: string;
  /** the interface's other end, in the provider namespace */
  peer: string;
}

export const UPLINKS: Uplink[] = [
  { name: 'isp1', dev: 'eth1', addr: '205.254.211.179', gateway: '205.254.211.254', peer: 'r1' },
  { name: 'isp2', dev: 'eth4', addr: '67.17.28.12', gateway: '67.17.28.14', peer: 'r2' },
  ...[3, 4, 5, 6, 7, 8].map((k) => ({ name: `isp${k}`, dev: `eth${k + 2}`, addr: `100.64.${k}.2`, gateway: `100.64.${k}.1`, peer: `r${k}` })),
];

// rp_filter loose (2) on the router in every configuration: the seed's way marks no reply, so its
// replies arrive unmarked on the uplink the mark chose, which strict mode drops (src/lab/seed-recipe.ts);
// one setting for all five keeps the kernel's path the same.
const ROUTER_SYSCTLS: [string, string][] = [
  ['net.ipv4.ip_forward', '0'],
  ['net.ipv4.conf.all.rp_filter', '2'],
  ['net.ipv4.conf.default.rp_filter', '2'],
];
const FORWARDER: [string, string][] = [
  ['net.ipv4.ip_forward', '1'],
  ['net.ipv4.conf.all.rp_filter', '0'],
  ['net.ipv4.conf.default.rp_filter', '0'],
];

export const DATAPLANE_TOPOLOGY: Topology = {
  name: 'dataplane',
  routerRole: 'router',
  namespaces: [
    // the connection-rate client opens tens of thousands of connections a round: every local port
    { role: 'lan', sysctls: [['net.ipv4.ip_local_port_range', '1024 65535']], loopback: [] },
    { role: 'router', sysctls: ROUTER_SYSCTLS, loopback: [] },
    { role: 'isp', sysctls: FORWARDER, loopback: [] },
    { role: 'server', sysctls: [['net.ipv4.conf.all.rp_filter', '0']], loopback: [`${SERVER}/32`] },
  ],
  links: [
    { a: { role: 'lan', ifname: 'eth0', addrs: [`${LAN_HOST}/24`] }, b: { role: 'router', ifname: 'eth0', addrs: ['192.168.99.1/24'] } },
    ...UPLINKS.map((u) => ({ a: { role: 'router', ifname: u.dev, addrs: [`${u.addr}/24`] }, b: { role: 'isp', ifname: u.peer, addrs: [`${u.gateway}/24`] } })),
    { a: { role: 'isp', ifname: 'up', addrs: ['198.51.100.1/30'] }, b: { role: 'server', ifname: 'eth0', addrs: ['198.51.100.2/30'] } },
  ],
  routes: [
    { role: 'lan', spec: ['default', 'via', '192.168.99.1', 'dev', 'eth0'] },
    { role: 'router', spec: ['default', 'via', UPLINKS[0]!.gateway, 'dev', UPLINKS[0]!.dev] },
    { role: 'isp', spec: [`${SERVER}/32`, 'via', '198.51.100.2', 'dev', 'up'] },
    // without NAT (the baseline) the server answers the LAN address itself: back by isp1, main's default
    { role: 'isp', spec: [LAN_PREFIX, 'via', UPLINKS[0]!.addr, 'dev', UPLINKS[0]!.peer] },
    { role: 'server', spec: ['default', 'via', '198.51.100.1', 'dev', 'eth0', 'src', SERVER] },
  ],
  internet: { role: 'server', server: SERVER, arrival: {} },
};

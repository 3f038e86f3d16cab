// The seed router (../shared/seed, linux-ip.net "multiple internet connections")
// as a lab: an office LAN behind a router with two providers that both reach one
// "internet" host. Addresses are the recipe's own; the internet side uses only
// documentation ranges (198.51.100.0/24, 203.0.113.0/24) that never leave the lab.
import type { Flow, Topology } from './topology.js';

const IPV4_FORWARD = 'net.ipv4.ip_forward';

export const SEED_SERVER = '203.0.113.10';

export const SEED_TOPOLOGY: Topology = {
  name: 'seed',
  routerRole: 'router',
  namespaces: [
    { role: 'lan', sysctls: [[IPV4_FORWARD, '0']], loopback: [] },
    {
      role: 'router',
      // Forwarding starts off: turning it on is the job of what is applied.
      // Strict reverse-path filtering, as many distributions ship it, so that
      // asymmetric routing mistakes show up as dropped replies.
      sysctls: [
        [IPV4_FORWARD, '0'],
        ['net.ipv4.conf.all.rp_filter', '1'],
        ['net.ipv4.conf.default.rp_filter', '1'],
      ],
      loopback: [],
    },
    // The providers only forward; rp_filter off so that un-NATed LAN packets
    // travel on and are seen (and counted) arriving at the internet host,
    // which then has no route back to them.
    {
      role: 'isp1',
      sysctls: [
        [IPV4_FORWARD, '1'],
        ['net.ipv4.conf.all.rp_filter', '0'],
        ['net.ipv4.conf.default.rp_filter', '0'],
      ],
      loopback: [],
    },
    {
      role: 'isp2',
      sysctls: [
        [IPV4_FORWARD, '1'],
        ['net.ipv4.conf.all.rp_filter', '0'],
        ['net.ipv4.conf.default.rp_filter', '0'],
      ],
      loopback: [],
    },
    {
      role: 'inet',
      sysctls: [
        [IPV4_FORWARD, '0'],
        ['net.ipv4.conf.all.rp_filter', '0'],
        ['net.ipv4.conf.default.rp_filter', '0'],
      ],
      loopback: [`${SEED_SERVER}/32`],
    },
  ],
  links: [
    { a: { role: 'lan', ifname: 'eth0', addrs: ['192.168.99.10/24'] }, b: { role: 'router', ifname: 'eth0', addrs: ['192.168.99.1/24'] } },
    { a: { role: 'router', ifname: 'eth1', addrs: ['205.254.211.179/24'] }, b: { role: 'isp1', ifname: 'eth0', addrs: ['205.254.211.254/24'] } },
    { a: { role: 'router', ifname: 'eth4', addrs: ['67.17.28.12/24'] }, b: { role: 'isp2', ifname: 'eth0', addrs: ['67.17.28.14/24'] } },
    { a: { role: 'isp1', ifname: 'up', addrs: ['198.51.100.1/30'] }, b: { role: 'inet', ifname: 'isp1', addrs: ['198.51.100.2/30'] } },
    { a: { role: 'isp2', ifname: 'up', addrs: ['198.51.100.5/30'] }, b: { role: 'inet', ifname: 'isp2', addrs: ['198.51.100.6/30'] } },
  ],
  routes: [
    { role: 'lan', spec: ['default', 'via', '192.168.99.1', 'dev', 'eth0'] },
    { role: 'router', spec: ['default', 'via', '205.254.211.254', 'dev', 'eth1'] },
    // Each provider knows only its own customer net (connected) and its upstream.
    { role: 'isp1', spec: ['default', 'via', '198.51.100.2', 'dev', 'up'] },
    { role: 'isp2', spec: ['default', 'via', '198.51.100.6', 'dev', 'up'] },
    // The internet reaches each provider's customer net through that provider,
    // and deliberately has no route to 192.168.99.0/24: un-NATed traffic fails.
    // `src` the server address: a UDP answer from a 0.0.0.0 socket takes its
    // source from the route, and must come from the address the client asked,
    // or the router's conntrack cannot match it to the query.
    { role: 'inet', spec: ['205.254.211.0/24', 'via', '198.51.100.1', 'dev', 'isp1', 'src', SEED_SERVER] },
    { role: 'inet', spec: ['67.17.28.0/24', 'via', '198.51.100.5', 'dev', 'isp2', 'src', SEED_SERVER] },
  ],
  internet: { role: 'inet', server: SEED_SERVER, arrival: { isp1: 'isp1', isp2: 'isp2' } },
};

const ISP1 = { uplink: 'isp1', source: '205.254.211.179' };
const ISP2 = { uplink: 'isp2', source: '67.17.28.12' };

/** The seed policy: office web (TCP 80/443) via isp2, everything else via isp1 (the default). */
export const SEED_FLOWS: Flow[] = [
  { name: 'lan tcp/80', from: 'lan', proto: 'tcp', to: SEED_SERVER, port: 80, expect: ISP2 },
  { name: 'lan tcp/443', from: 'lan', proto: 'tcp', to: SEED_SERVER, port: 443, expect: ISP2 },
  { name: 'lan tcp/22', from: 'lan', proto: 'tcp', to: SEED_SERVER, port: 22, expect: ISP1 },
  { name: 'lan udp/53', from: 'lan', proto: 'udp', to: SEED_SERVER, port: 53, expect: ISP1 },
  // The policy says TCP: QUIC on UDP 443 stays on the default uplink.
  { name: 'lan udp/443', from: 'lan', proto: 'udp', to: SEED_SERVER, port: 443, expect: ISP1 },
  // The router's own traffic is not marked in PREROUTING, so it follows main.
  { name: 'router tcp/80', from: 'router', proto: 'tcp', to: SEED_SERVER, port: 80, expect: ISP1 },
];

/** What multihome does beyond the recipe: a socket bound to an uplink's address leaves by that uplink. */
export const SEED_MULTIHOME_FLOWS: Flow[] = [
  ...SEED_FLOWS,
  { name: 'router tcp/80 from isp2 addr', from: 'router', proto: 'tcp', to: SEED_SERVER, port: 80, bind: '67.17.28.12', expect: ISP2 },
];

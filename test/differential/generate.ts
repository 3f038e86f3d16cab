// Random but valid routing worlds and packets for the differential test
// (the kernel's `ip route get` is the oracle for src/sim). Pure: everything
// comes from a seeded PRNG, so a seed names a world and its packets exactly.
//
// A world is what test/differential/oracle.ts installs in a fresh namespace:
// 2–4 veth interfaces (some without carrier), IPv4 and some IPv6 addresses,
// routes in main and 1–3 extra tables, rules with every selector and action,
// and the sysctls the routing decision reads. The packets lean toward the
// tricky cases of reference/linux-routing-semantics.md: suppress_*, throw,
// goto, rp_filter with marks, linkdown, tos, multipath, `not`, detached iif.
//
// Left out on purpose, because `ip route get` cannot be compared on them (or
// the simulator does not claim to model them):
// - multicast destinations (224/4, ff00::/8): the input path joins groups and
//   mroute, the output path picks devices by other means (reference §2 "On
//   input, anycast/multicast → EINVAL" is only the no-group case);
// - IPv6 source-specific routes (`from` on a route): a node's plain routes are
//   hidden from other sources with backtracking the simulator does not model;
// - IPv6 anycast destinations (the subnet-router address of a connected /64):
//   the host answers for them, the simulator treats them as a non-unicast route;
// - IPv6 with forwarding=0: every lookup then carries RT6_LOOKUP_F_REACHABLE,
//   which sends neighbour probes (rt6_probe) and lets neighbour state (which
//   then changes between lookups) pick among routes: IPv6 forwarding is always 1;
// - IPv6 routes with tos (the kernel has none), IPv6 link-local addresses
//   (addr_gen_mode=1: none are made, so no DAD races), custom `local` routes
//   (net->ipv4.fib_has_custom_local_routes changes the rp_filter fast path),
//   bc_forwarding, VRFs, nexthop objects, realms;
// - destination 0.0.0.0 for local output (the kernel answers it as a loopback
//   packet without a lookup) and the input device `lo`;
// - ports on ICMP packets: on input the flow dissector has no ports for ICMP,
//   while `ip route get` would put them in an output flow anyway;
// - IPv6 suppress_ifgroup when one destination has multipath siblings on devices of
//   different groups (fib6_rule_suppress judges the sibling the hash picked).
// Several default routes in one table are allowed: fib_select_default only
// changes the result when the neighbour table knows a gateway, and these
// namespaces never resolve a neighbour (no traffic is sent).
import { familyBits, formatAddress, networkOf, parseAddress, parsePrefix, type Family } from '../../src/net/ip.js';
import type { Packet } from '../../src/sim/types.js';
import type { RouteState, RouteType, RuleState } from '../../src/state/types.js';
import { prngUnit } from '../../src/util/prng.js';

/** The generator's PRNG: numbers in [0, 1). */
export const mulberry32 = prngUnit;

export class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  /** inclusive */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(list: readonly T[]): T {
    if (list.length === 0) throw new Error('pick from an empty list');
    return list[Math.floor(this.next() * list.length)]!;
  }
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    const total = items.reduce((s, [, w]) => s + w, 0);
    let x = this.next() * total;
    for (const [v, w] of items) {
      x -= w;
      if (x < 0) return v;
    }
    return items[items.length - 1]![0];
  }
}

/** A seed for the n-th world of a run. */
export const worldSeed = (runSeed: number, n: number): number => (Math.imul(runSeed >>> 0, 0x9e3779b1) + Math.imul(n + 1, 0x85ebca6b)) >>> 0;

export interface LinkSpec {
  name: string;
  /** false: the veth peer stays down (NO-CARRIER, routes get `linkdown`) */
  carrier: boolean;
  group: number;
  /** "10.0.0.1/24" */
  v4: string[];
  v6: string[];
  /** set down after the routes are in: single-nexthop routes through it go, multipath ones keep it as `dead` */
  adminDown?: boolean;
}

/** A route to install; `append` uses `ip route append` (same key as an earlier route: a second alias, or an IPv6 sibling). */
export type GenRoute = RouteState & { append?: boolean };

export interface WorldSpec {
  seed: number;
  links: LinkSpec[];
  /** written in this order (`all`/ip_forward first: they overwrite every device's forwarding) */
  sysctls: [string, string][];
  /** in insertion order (order matters within a prefix and for rules of equal pref) */
  routes: GenRoute[];
  rules: RuleState[];
  /** `ip rule del pref 0 lookup local` first (the rules then hold a `lookup local` elsewhere, as VRF setups do) */
  moveLocalRule?: boolean;
}

const V4_REMOTE = [
  'default',
  '198.51.100.0/24',
  '198.51.100.0/25',
  '198.51.100.128/25',
  '198.51.100.64/26',
  '198.51.100.77',
  '203.0.113.0/24',
  '203.0.113.0/28',
  '8.8.0.0/16',
  '8.8.8.0/24',
  '8.8.8.8',
  '192.0.2.0/24',
  '10.0.0.0/8',
  '172.16.0.0/12',
];
const V6_REMOTE = [
  'default',
  '2001:db8:100::/48',
  '2001:db8:100::/64',
  '2001:db8:100:1::/64',
  '2001:db8:100::77',
  '2001:db8:200::/56',
  '2001:db8::/32',
  'fd00::/8',
];
const V4_PUBLIC = ['1.1.1.1', '9.9.9.9', '8.8.4.4', '100.64.1.1', '185.1.2.3'];
const V6_PUBLIC = ['2a00:1450::1', '2600::5', 'fd12::1'];
// Some ids above 2^16 and 2^31: numbers the kernel holds as u32.
const EXTRA_TABLES = [100, 101, 102, 200, 70000, 3000000000];
const RULE_TOS = [0x04, 0x08, 0x0c, 0x10, 0x14, 0x18, 0x1c];
const RULE_DSFIELD = [0x04, 0x10, 0x20, 0xb8];
const ROUTE_TOS = [0x04, 0x08, 0x10, 0x14, 0x18, 0x1c, 0xb8];
const PACKET_TOS = [0x04, 0x08, 0x0c, 0x10, 0x12, 0x14, 0x18, 0x1c, 0x20, 0xb8];
const MARKS = [1, 2, 3, 4, 0x10, 0xff, 0x100, 0x101, 0x80000001];
const MASKS = [0xffffffff, 0xffffffff, 0xff, 0xf, 0x1, 0x3, 0xff00, 0x80000000];
const PORT_RANGES = [
  { from: 53, to: 53 },
  { from: 80, to: 80 },
  { from: 443, to: 443 },
  { from: 1000, to: 2000 },
  { from: 1, to: 1024 },
  { from: 5000, to: 5000 },
];
const UID_RANGES = [
  { from: 0, to: 0 },
  { from: 1000, to: 1999 },
  { from: 1, to: 65535 },
  { from: 500, to: 500 },
  { from: 100000, to: 4294967294 },
];

const addrOf = (text: string) => parseAddress(text)!;
const fmt = (family: Family, value: bigint) => formatAddress({ family, value });

/** The network prefix text of an interface address "10.0.0.1/24" → "10.0.0.0/24". */
function subnetOf(cidr: string): { family: Family; value: bigint; length: number; text: string } {
  const [a, l] = cidr.split('/');
  const n = networkOf(addrOf(a!), Number(l));
  return { ...n, text: `${fmt(n.family, n.value)}/${n.length}` };
}

/** A random address inside a prefix ("default" → a public address); host part never 0 for IPv6 (anycast). */
function hostIn(rng: Rng, family: Family, prefix: string): string {
  if (prefix === 'default') return rng.pick(family === 4 ? V4_PUBLIC : V6_PUBLIC);
  const p = parsePrefix(prefix);
  if (!p.ok) throw new Error(`bad prefix ${prefix}`);
  const bits = familyBits(family);
  const hostBits = bits - p.prefix.length;
  if (hostBits === 0) return fmt(family, p.prefix.value);
  const span = hostBits >= 30 ? 1n << 30n : 1n << BigInt(hostBits);
  let off = BigInt(Math.floor(rng.float() * Number(span)));
  if (family === 6 && off === 0n) off = 1n;
  return fmt(family, p.prefix.value + off);
}

interface Gw {
  dev: string;
  gateway: string;
}

/** Gateways on a link's subnets (not its own address). */
function gatewaysOf(l: LinkSpec, family: Family): Gw[] {
  const out: Gw[] = [];
  const cidrs = family === 4 ? l.v4 : l.v6;
  const own = new Set(cidrs.map((c) => addrOf(c.split('/')[0]!).value));
  for (const cidr of cidrs) {
    const s = subnetOf(cidr);
    const size = 1n << BigInt(familyBits(family) - s.length);
    if (size < 2n) continue;
    // A /31 has no network or broadcast address: the peer is the other one.
    const cands = size === 2n ? [0n, 1n] : family === 4 ? [2n, 5n, size - 2n] : [2n, 0xfen];
    for (const k of cands) {
      const v = s.value + k;
      const inside = size === 2n || (k > 0n && k < size - (family === 4 ? 1n : 0n));
      if (!own.has(v) && inside && !out.some((g) => g.gateway === fmt(family, v))) out.push({ dev: l.name, gateway: fmt(family, v) });
    }
  }
  return out;
}

const route = (o: Partial<RouteState> & { family: Family; table: number; dst: string; type: RouteType }): RouteState => ({
  tos: 0,
  metric: o.family === 6 ? 1024 : 0,
  protocol: 4,
  scope: 0,
  flags: [],
  ...o,
});

export function generateWorld(seed: number): WorldSpec {
  const rng = new Rng(seed);
  const nLinks = rng.int(2, 4);
  const links: LinkSpec[] = [];
  const withV6 = rng.chance(0.7);
  for (let i = 0; i < nLinks; i++) {
    const v4: string[] = [];
    if (!rng.chance(0.07)) {
      const len = rng.weighted([
        [24, 60],
        [16, 8],
        [28, 15],
        [30, 10],
        [31, 3],
        [32, 4],
      ] as const);
      const net = (0x0a000000 + i * 0x10000) >>> 0; // 10.i.0.0
      v4.push(`${fmt(4, BigInt(net) + 1n)}/${len}`);
      if (len <= 30 && rng.chance(0.1)) v4.push(`${fmt(4, BigInt(net) + 2n)}/${len}`); // a secondary address
      if (rng.chance(0.2)) v4.push(`172.16.${i}.1/24`);
    }
    const v6 = withV6 && rng.chance(0.75) ? [`2001:db8:${i}::1/64`] : [];
    links.push({
      name: `v${i}`,
      carrier: rng.chance(0.75),
      group: rng.weighted([
        [0, 80],
        [1, 12],
        [2, 8],
      ] as const),
      v4,
      v6,
      ...(rng.chance(0.06) ? { adminDown: true } : {}),
    });
  }

  const sysctls: [string, string][] = [];
  const ipv4conf = (dev: string, key: string, v: number) => sysctls.push([`net.ipv4.conf.${dev}.${key}`, String(v)]);
  sysctls.push(['net.ipv4.ip_forward', rng.chance(0.88) ? '1' : '0']);
  const rpAll = rng.weighted([
    [0, 45],
    [1, 30],
    [2, 25],
  ] as const);
  ipv4conf('all', 'rp_filter', rpAll);
  ipv4conf('all', 'src_valid_mark', rng.chance(0.2) ? 1 : 0);
  ipv4conf('all', 'ignore_routes_with_linkdown', rng.chance(0.2) ? 1 : 0);
  ipv4conf('all', 'accept_local', rng.chance(0.1) ? 1 : 0);
  ipv4conf('all', 'route_localnet', rng.chance(0.08) ? 1 : 0);
  ipv4conf('all', 'send_redirects', rng.chance(0.2) ? 0 : 1);
  sysctls.push(['net.ipv6.conf.all.ignore_routes_with_linkdown', rng.chance(0.25) ? '1' : '0']);
  for (const l of links) {
    ipv4conf(
      l.name,
      'rp_filter',
      rng.weighted([
        [0, 50],
        [1, 25],
        [2, 25],
      ] as const),
    );
    if (rng.chance(0.15)) ipv4conf(l.name, 'forwarding', rng.chance(0.5) ? 0 : 1);
    if (rng.chance(0.2)) ipv4conf(l.name, 'src_valid_mark', 1);
    if (rng.chance(0.25)) ipv4conf(l.name, 'ignore_routes_with_linkdown', 1);
    if (rng.chance(0.08)) ipv4conf(l.name, 'accept_local', 1);
    if (rng.chance(0.05)) ipv4conf(l.name, 'route_localnet', 1);
    if (rng.chance(0.1)) ipv4conf(l.name, 'send_redirects', 0);
    if (withV6 && rng.chance(0.2)) sysctls.push([`net.ipv6.conf.${l.name}.ignore_routes_with_linkdown`, '1']);
  }

  const extraTables = [...EXTRA_TABLES].sort(() => rng.float() - 0.5).slice(0, rng.int(1, 3));
  const tables = [254, ...extraTables, ...(rng.chance(0.15) ? [253] : [])];
  const routes: GenRoute[] = [];
  const routeKeys = new Set<string>();
  // Some worlds are crowded: many routes on few prefixes, many rules.
  const dense = rng.chance(0.15);
  for (const family of [4, 6] as Family[]) {
    const famLinks = links.filter((l) => (family === 4 ? l.v4 : l.v6).length > 0);
    if (family === 6 && famLinks.length === 0) continue;
    const gws = links.flatMap((l) => gatewaysOf(l, family));
    const subnets = famLinks.flatMap((l) => (family === 4 ? l.v4 : l.v6).map((c) => subnetOf(c).text));
    const n = Math.round((family === 4 ? rng.int(6, 20) : rng.int(3, 10)) * (dense ? 2.5 : 1));
    const remote = family === 4 ? V4_REMOTE : V6_REMOTE;
    for (let i = 0; i < n; i++) {
      let r: RouteState;
      // Several routes at one prefix (other metric or tos): copy an earlier destination.
      const same = routes.filter((x) => x.family === family);
      if (same.length > 0 && rng.chance(0.25)) {
        const base = rng.pick(same);
        r = makeRoute(rng, family, base.table, base.dst, gws, links);
      } else {
        const dst = rng.chance(0.18) && subnets.length > 0 ? subnetPart(rng, family, rng.pick(subnets)) : rng.pick(remote);
        r = makeRoute(rng, family, rng.pick(tables), dst, gws, links);
      }
      const key = family === 4 ? `4|${r.table}|${r.dst}|${r.tos}|${r.metric}` : `6|${r.table}|${r.dst}|${r.metric}`;
      if (routeKeys.has(key)) {
        // `ip route append`: IPv4 keeps a second alias after the first, IPv6 makes gateway routes siblings.
        if (rng.chance(0.35)) routes.push({ ...r, append: true });
        continue;
      }
      routeKeys.add(key);
      routes.push(r);
    }
  }

  const rules: RuleState[] = [];
  const moveLocalRule = rng.chance(0.1);
  // IPv6 suppress_ifgroup looks at the device of the nexthop the hash picked: with
  // multipath siblings on devices of different groups the outcome depends on the hash.
  const groupsAt = new Map<string, Set<number>>();
  for (const r of routes.filter((x) => x.family === 6 && x.type === 'unicast')) {
    const key = `${r.table}|${r.dst}|${r.metric}`;
    const set = groupsAt.get(key) ?? new Set<number>();
    for (const nh of r.nexthops ?? [{ dev: r.dev }]) set.add(links.find((l) => l.name === nh.dev)?.group ?? 0);
    groupsAt.set(key, set);
  }
  const mixedGroups6 = [...groupsAt.values()].some((g) => g.size > 1);
  for (const family of [4, 6] as Family[]) {
    if (family === 6 && !links.some((l) => l.v6.length > 0)) continue;
    const own = makeRules(rng, family, links, extraTables, routes, dense ? 2 : 1);
    if (family === 6 && mixedGroups6) for (const r of own) delete r.suppressIfgroup;
    if (moveLocalRule) own.splice(rng.int(0, own.length), 0, { family, pref: rng.pick([100, 500, 1000, 32765]), action: 'lookup', table: 255, protocol: 0 });
    rules.push(...own);
  }
  return { seed, links, sysctls, routes, rules, ...(moveLocalRule ? { moveLocalRule } : {}) };
}

/** A prefix inside or around a connected subnet: the subnet itself, a half, one host, or the /16 around it. */
function subnetPart(rng: Rng, family: Family, subnet: string): string {
  const p = parsePrefix(subnet);
  if (!p.ok) return subnet;
  const bits = familyBits(family);
  const choice = rng.int(0, 3);
  if (choice === 0 || p.prefix.length >= bits - 1) return subnet;
  if (choice === 1) {
    const len = p.prefix.length + 1;
    const half = rng.chance(0.5) ? 0n : 1n << BigInt(bits - len);
    return `${fmt(family, p.prefix.value + half)}/${len}`;
  }
  if (choice === 2) return hostIn(rng, family, subnet);
  const len = Math.max(0, p.prefix.length - (family === 4 ? 8 : 16));
  const n = networkOf({ family, value: p.prefix.value }, len);
  return len === 0 ? 'default' : `${fmt(family, n.value)}/${len}`;
}

function makeRoute(rng: Rng, family: Family, table: number, dst: string, gws: Gw[], links: LinkSpec[]): RouteState {
  const metric = family === 4 ? rng.pick([0, 0, 5, 10, 100, 1024]) : rng.pick([1024, 1024, 256, 100, 2000, 1]);
  const tos = family === 4 && rng.chance(0.22) ? rng.pick(ROUTE_TOS) : 0;
  const kind = rng.weighted([
    ['via', gws.length > 0 ? 30 : 0],
    ['dev', 12],
    ['multipath', gws.length > 1 ? 12 : 0],
    ['onlink', family === 4 ? 3 : 0],
    ['unreachable', 6],
    ['prohibit', 5],
    ['blackhole', 5],
    ['throw', 8],
  ] as const);
  const base = { family, table, dst, tos, metric };
  switch (kind) {
    case 'via': {
      const g = rng.pick(gws);
      return route({ ...base, type: 'unicast', gateway: g.gateway, dev: g.dev });
    }
    case 'dev': {
      const l = rng.pick(links);
      return route({ ...base, type: 'unicast', dev: l.name, scope: family === 4 ? 253 : 0 });
    }
    case 'onlink': {
      const l = rng.pick(links);
      return route({ ...base, type: 'unicast', gateway: rng.pick(['192.0.2.1', '203.0.113.9']), dev: l.name, flags: ['onlink'] });
    }
    case 'multipath': {
      const k = Math.min(gws.length, rng.int(2, 3));
      const pool = [...gws];
      const nexthops = [];
      for (let i = 0; i < k; i++) {
        const g = pool.splice(rng.int(0, pool.length - 1), 1)[0]!;
        nexthops.push({ gateway: g.gateway, dev: g.dev, weight: rng.pick([1, 1, 2, 3, 5]), flags: [] });
      }
      return route({ ...base, type: 'unicast', nexthops });
    }
    default:
      return route({ ...base, type: kind });
  }
}

function makeRules(rng: Rng, family: Family, links: LinkSpec[], extraTables: number[], routes: RouteState[], scale: number): RuleState[] {
  const n = Math.round(rng.int(3, family === 4 ? 12 : 7) * scale);
  // Ties, the default rules' neighbourhood, and prefs after `32767 lookup default` up to u32.
  const prefPool = [100, 200, 300, 500, 1000, 1000, 2000, 32765, 40000, 4000000000];
  const prefs = Array.from({ length: n }, () => (rng.chance(0.7) ? rng.pick(prefPool) : rng.int(1, 3000)));
  if (rng.chance(0.05)) prefs[rng.int(0, n - 1)] = 32766; // a tie with `lookup main`
  const addrs = links.flatMap((l) => (family === 4 ? l.v4 : l.v6));
  const subnets = addrs.map((c) => subnetOf(c).text);
  const locals = addrs.map((c) => c.split('/')[0]!);
  const routeDsts = routes.filter((r) => r.family === family && r.dst !== 'default').map((r) => r.dst);
  const remote = (family === 4 ? V4_REMOTE : V6_REMOTE).filter((p) => p !== 'default');
  const prefixPool = () => {
    const kind = rng.weighted([
      ['subnet', subnets.length > 0 ? 4 : 0],
      ['remote', 4],
      ['route', routeDsts.length > 0 ? 3 : 0],
      ['local', locals.length > 0 ? 2 : 0],
      ['zero', family === 4 ? 1 : 0],
      ['loop', family === 4 ? 0.5 : 0],
    ] as const);
    switch (kind) {
      case 'subnet':
        return rng.pick(subnets);
      case 'route':
        return rng.pick(routeDsts);
      case 'local':
        return rng.pick(locals);
      case 'zero':
        return '0.0.0.0';
      case 'loop':
        return '127.0.0.0/8';
      default:
        return rng.pick(remote);
    }
  };
  const devs = () =>
    rng.weighted([
      [rng.pick(links).name, 8],
      ['lo', 2],
      ['ghost0', 1.5],
    ] as const);
  const out: RuleState[] = [];
  const keys = new Set<string>();
  for (let i = 0; i < n; i++) {
    const pref = prefs[i]!;
    const r: RuleState = { family, pref, action: 'lookup', protocol: 0 };
    if (rng.chance(0.3)) r.from = prefixPool();
    if (rng.chance(0.25)) r.to = prefixPool();
    if (rng.chance(0.1)) r.tos = rng.pick(family === 4 ? RULE_TOS : RULE_DSFIELD);
    if (rng.chance(0.3)) {
      r.fwmask = rng.pick(MASKS);
      r.fwmark = ((rng.chance(0.15) ? 0 : rng.pick(MARKS)) & r.fwmask) >>> 0;
      if (r.fwmark === 0 && r.fwmask === 0xffffffff && rng.chance(0.5)) r.fwmark = 1;
    }
    if (rng.chance(0.2)) r.iif = devs();
    if (rng.chance(0.08))
      r.oif = rng.weighted([
        [rng.pick(links).name, 8],
        ['ghost1', 1],
      ] as const);
    if (rng.chance(0.08)) r.uidrange = rng.pick(UID_RANGES);
    if (rng.chance(0.12)) r.ipproto = rng.pick(family === 4 ? [6, 17, 1] : [6, 17, 58]);
    if (rng.chance(0.07)) r.sport = rng.pick(PORT_RANGES);
    if (rng.chance(0.1)) r.dport = rng.pick(PORT_RANGES);
    if (rng.chance(0.12)) r.not = true;
    const action = rng.weighted([
      ['lookup', 68],
      ['goto', 9],
      ['nop', 4],
      ['unreachable', 4],
      ['prohibit', 3],
      ['blackhole', 3],
    ] as const);
    if (action === 'lookup') {
      r.table = rng.weighted([
        [rng.pick(extraTables), 60],
        [254, 15],
        [253, 5],
        [255, 5],
        [999, 5],
      ] as const);
      if (rng.chance(0.25)) r.suppressPrefixlength = rng.pick(family === 4 ? [0, 0, 8, 16, 24, 25, 32] : [0, 0, 32, 48, 64, 128]);
      if (rng.chance(0.1)) r.suppressIfgroup = rng.pick([0, 1, 2]);
      // The classic: `lookup main suppress_prefixlength 0` ahead of the provider tables.
      if (rng.chance(0.08)) {
        r.table = 254;
        r.suppressPrefixlength = 0;
      }
    } else if (action === 'goto') {
      const later = prefs.filter((p) => p > pref);
      r.action = 'goto';
      r.goto = later.length > 0 && rng.chance(0.8) ? rng.pick(later) : pref + rng.int(1, 50);
    } else {
      r.action = action;
      // A reject rule without selectors would end most lookups: give it one.
      if (!r.from && !r.to && r.fwmark === undefined && !r.iif && !r.tos && r.ipproto === undefined && !r.dport && !r.sport && !r.uidrange && !r.oif) {
        if (rng.chance(0.5)) r.to = prefixPool();
        else {
          r.fwmark = rng.pick(MARKS);
          r.fwmask = 0xffffffff;
        }
      }
    }
    const key = JSON.stringify(r);
    if (keys.has(key)) continue;
    keys.add(key);
    out.push(r);
  }
  return out;
}

/** Packets for a world, weighted toward what its rules and routes select on. */
export function generatePackets(world: WorldSpec, seed: number, count: number): Packet[] {
  const rng = new Rng(seed ^ 0x5bd1e995);
  const out: Packet[] = [];
  const hasV6 = world.links.some((l) => l.v6.length > 0);
  for (let i = 0; i < count; i++) {
    const family: Family = hasV6 && rng.chance(0.3) ? 6 : 4;
    const forwarded = rng.chance(0.62);
    out.push(makePacket(rng, world, family, forwarded));
  }
  return out;
}

function makePacket(rng: Rng, w: WorldSpec, family: Family, forwarded: boolean): Packet {
  const rules = w.rules.filter((r) => r.family === family);
  const routes = w.routes.filter((r) => r.family === family);
  const addrs = w.links.flatMap((l) => (family === 4 ? l.v4 : l.v6));
  const locals = addrs.map((c) => c.split('/')[0]!);
  const subnets = addrs.map((c) => subnetOf(c));
  const remote = family === 4 ? V4_REMOTE : V6_REMOTE;
  const pickPrefix = (): string => {
    const kind = rng.weighted([
      ['route', routes.length > 0 ? 5 : 0],
      ['rule', rules.some((r) => r.to || r.from) ? 3 : 0],
      ['subnet', subnets.length > 0 ? 3 : 0],
      ['remote', 2],
    ] as const);
    if (kind === 'route') return rng.pick(routes).dst;
    if (kind === 'rule') {
      const r = rng.pick(rules.filter((x) => x.to || x.from));
      return (rng.chance(0.5) ? (r.to ?? r.from) : (r.from ?? r.to))!;
    }
    if (kind === 'subnet') return rng.pick(subnets).text;
    return rng.pick(remote);
  };
  const anyHost = () => {
    const p = pickPrefix();
    return p === '0.0.0.0' ? rng.pick(V4_PUBLIC) : hostIn(rng, family, p);
  };
  const broadcast = () => {
    const s = subnets.filter((x) => x.family === 4 && x.length < 31);
    if (s.length === 0) return anyHost();
    const x = rng.pick(s);
    return fmt(4, x.value + (1n << BigInt(32 - x.length)) - 1n);
  };
  const dstKind = rng.weighted([
    ['host', 80],
    ['local', locals.length > 0 ? 8 : 0],
    ['broadcast', family === 4 ? 3 : 0],
    ['loopback', family === 4 ? 2 : 0],
    ['public', 5],
    ['limited', family === 4 && forwarded ? 1 : 0],
    ['zeronet', family === 4 && forwarded ? 0.5 : 0],
  ] as const);
  const dst =
    dstKind === 'host'
      ? anyHost()
      : dstKind === 'local'
        ? rng.pick(locals)
        : dstKind === 'broadcast'
          ? broadcast()
          : dstKind === 'loopback'
            ? '127.0.0.5'
            : dstKind === 'limited'
              ? '255.255.255.255'
              : dstKind === 'zeronet'
                ? '0.1.2.3'
                : rng.pick(family === 4 ? V4_PUBLIC : V6_PUBLIC);
  const p: Packet = { family, src: family === 4 ? '0.0.0.0' : '::', dst };
  if (forwarded) {
    p.iif = rng.pick(w.links).name;
    const srcKind = rng.weighted([
      ['host', 75],
      ['neighbour', subnets.length > 0 ? 15 : 0],
      ['local', locals.length > 0 ? 4 : 0],
      ['loopback', family === 4 ? 1.5 : 0],
      ['zero', family === 4 ? 1 : 0],
      ['multicast', family === 4 ? 1 : 0],
      ['broadcast', family === 4 ? 0.5 : 0],
    ] as const);
    p.src =
      srcKind === 'host'
        ? anyHost()
        : srcKind === 'neighbour'
          ? hostIn(rng, family, rng.pick(subnets).text)
          : srcKind === 'local'
            ? rng.pick(locals)
            : srcKind === 'loopback'
              ? '127.0.0.1'
              : srcKind === 'zero'
                ? '0.0.0.0'
                : srcKind === 'multicast'
                  ? '224.0.0.9'
                  : '255.255.255.255';
  } else {
    const srcKind = rng.weighted([
      ['none', 55],
      ['local', locals.length > 0 ? 38 : 0],
      ['loopback', family === 4 ? 3 : 0],
      ['foreign', 2],
    ] as const);
    if (srcKind === 'local') p.src = rng.pick(locals);
    else if (srcKind === 'loopback') p.src = '127.0.0.1';
    else if (srcKind === 'foreign') p.src = anyHost();
    if (rng.chance(0.18)) p.oif = rng.pick(w.links).name;
    const uids = rules.filter((r) => r.uidrange).map((r) => r.uidrange!);
    if (rng.chance(uids.length > 0 ? 0.4 : 0.1)) {
      const u = uids.length > 0 && rng.chance(0.8) ? rng.pick(uids) : rng.pick(UID_RANGES);
      p.uid = rng.pick([u.from, u.to, u.to + 1, Math.max(0, u.from - 1)]);
    }
  }
  const marks = rules.filter((r) => r.fwmark !== undefined).map((r) => r.fwmark!);
  if (rng.chance(0.55)) {
    p.mark = (marks.length > 0 && rng.chance(0.7) ? rng.pick(marks) | (rng.chance(0.2) ? rng.pick(MARKS) : 0) : rng.pick(MARKS)) >>> 0;
    if (p.mark === 0) delete p.mark;
  }
  if (rng.chance(0.3)) {
    const toses = [...rules.filter((r) => r.tos).map((r) => r.tos!), ...routes.filter((r) => r.tos).map((r) => r.tos)];
    p.tos = toses.length > 0 && rng.chance(0.6) ? rng.pick(toses) | (rng.chance(0.2) ? 0x02 : 0) : rng.pick(PACKET_TOS);
  }
  const protos = rules.filter((r) => r.ipproto !== undefined).map((r) => r.ipproto!);
  if (rng.chance(0.6)) p.proto = protos.length > 0 && rng.chance(0.5) ? rng.pick(protos) : rng.pick(family === 4 ? [6, 17, 1] : [6, 17, 58]);
  const proto = p.proto ?? (family === 4 ? 17 : 0);
  if (proto === 6 || proto === 17) {
    const ranges = rules.flatMap((r) => [r.sport, r.dport]).filter((x): x is { from: number; to: number } => x !== undefined);
    const port = () => {
      const r = ranges.length > 0 && rng.chance(0.7) ? rng.pick(ranges) : rng.pick(PORT_RANGES);
      return rng.pick([r.from, r.to, r.to + 1, Math.max(1, r.from - 1), rng.int(r.from, r.to)]);
    };
    if (rng.chance(0.5)) p.sport = port();
    if (rng.chance(0.6)) p.dport = port();
  }
  return p;
}

// The lookup inside one IPv6 routing table: which tree nodes are tried
// (net/ipv6/ip6_fib.c fib6_node_lookup, fib6_backtrack) and which route of a
// node wins (net/ipv6/route.c fib6_table_lookup → rt6_select). Pure.
import { parsePrefix, prefixContains, type Address, type Prefix } from '../net/ip.js';
import type { Nexthop, RouteState } from '../state/types.js';
import type { TableIndex } from './table-index.js';
import { hopsOf, MISS, ROUTE_ERRORS, type Flow, type TableOutcome } from './lookup-common.js';
import type { World } from './world.js';

/** net/ipv6/addrconf.h ip6_ignore_linkdown: the device's own value (writing `all` copies it to every device). */
function ignoreLinkdown6(w: World, dev: string): boolean {
  const v = w.sysctl(`net/ipv6/conf/${dev}/ignore_routes_with_linkdown`) ?? w.sysctl('net/ipv6/conf/all/ignore_routes_with_linkdown');
  return v !== undefined && v !== '0';
}

const UNSPECIFIED: Address = { family: 6, value: 0n };
const FROM = new Map<string, Prefix>();
function fromPrefix(text: string): Prefix | null {
  let p = FROM.get(text);
  if (!p) {
    const r = parsePrefix(text, 6);
    if (!r.ok) return null;
    FROM.set(text, (p = r.prefix));
  }
  return p;
}

/**
 * The routes of one destination entry, grouped as the kernel's tree holds
 * them: each source prefix holding the flow's source (a node of the entry's
 * subtree), longest first; then the routes without `from`.
 */
function groupsAt(idx: TableIndex, e: number, src: Address): { bySource: RouteState[][]; plain: RouteState[] } {
  const routes = idx.routesAt(e);
  const plain = routes.filter((r) => !r.from);
  const sources = new Map<string, { length: number; routes: RouteState[] }>();
  for (const r of routes) {
    const p = r.from ? fromPrefix(r.from) : null;
    if (!p || !prefixContains(p, src)) continue;
    let g = sources.get(r.from!);
    if (!g) sources.set(r.from!, (g = { length: p.length, routes: [] }));
    g.routes.push(r);
  }
  return { bySource: [...sources.values()].sort((a, b) => b.length - a.length).map((g) => g.routes), plain };
}

/**
 * The nodes tried, in order, each a list of routes. Without source-specific
 * routes: every destination prefix holding the address, longest first
 * (fib6_backtrack walks to the parent until rt6_select finds a route).
 * With them (CONFIG_IPV6_SUBTREES): the first lookup (fib6_node_lookup_1)
 * passes over a destination whose subtree has no source prefix holding the
 * flow's source — its plain routes too — unless it is the root (`default`);
 * once a node is found, backtracking tries at each destination its matching
 * source prefixes, longest first, then its plain routes.
 */
function* nodes(idx: TableIndex, fl: Flow): Generator<{ e: number; routes: RouteState[] }> {
  const src = fl.src ?? UNSPECIFIED;
  let started = false;
  for (let e = idx.first(fl.dst); e >= 0; e = idx.next(e)) {
    if (!idx.hasFrom(e)) {
      started = true;
      yield { e, routes: idx.routesAt(e) };
      continue;
    }
    const { bySource, plain } = groupsAt(idx, e, src);
    if (!started && bySource.length === 0 && idx.lengthAt(e) !== 0) continue;
    started = true;
    for (const routes of bySource) yield { e, routes };
    if (plain.length > 0) yield { e, routes: plain };
  }
}

/**
 * One IPv6 table (net/ipv6/route.c fib6_table_lookup → rt6_select → find_rr_leaf,
 * find_match, rt6_score_route; then fib6_select_path). Unlike IPv4, a device
 * scores instead of filtering: a nexthop on the wanted device scores 2, any other 0,
 * and only a strict lookup (RT6_LOOKUP_F_IFACE: output with an oif and no source,
 * ip6_route_output_flags_noref) refuses the others. On input the arrival device is
 * the wanted one (ip6_pol_route_input passes flowi6_iif as oif). Reject routes are
 * scored like the rest (their nexthop is lo). At each node the routes of the
 * lowest metric compete first (the best score, the first on ties); only when none
 * qualifies do all the others. A multipath route's siblings are separate entries;
 * the one chosen is then re-picked by hash among the live siblings (only those on
 * the oif when strict). No neighbour state is modelled: without
 * RT6_LOOKUP_F_REACHABLE (forwarding=1) it plays no part.
 */
export function tableLookup6(w: World, idx: TableIndex, fl: Flow): TableOutcome {
  const want = fl.oif ?? (fl.iif !== 'lo' ? fl.iif : undefined);
  const strict = fl.oif !== undefined && fl.src === null;
  const score = (nh: Nexthop): number => {
    if (nh.flags.includes('dead')) return -1;
    if (nh.flags.includes('linkdown') && nh.dev && ignoreLinkdown6(w, nh.dev)) return -1;
    if (!want || (nh.dev ?? 'lo') === want) return 2;
    return strict ? -1 : 0;
  };
  for (const { e, routes } of nodes(idx, fl)) {
    const best = rt6Select(routes, score);
    if (!best) continue;
    const { route, nh } = best;
    if (route.type === 'throw') return { kind: 'throw', route };
    const err = ROUTE_ERRORS[route.type];
    if (err) return { kind: 'error', error: err, route };
    let nexthops = [nh];
    if (route.nexthops && route.nexthops.length > 1) {
      const live = route.nexthops.filter((x) => score(x) >= 0);
      nexthops = strict ? live.filter((x) => x.dev === want) : live;
    }
    return { kind: 'route', route, type: route.type, hops: hopsOf(route), length: idx.lengthAt(e), nexthops };
  }
  return MISS;
}

/** rt6_select on one node's routes (in metric order): the lowest metric's best score first, then the rest. */
function rt6Select(routes: RouteState[], score: (nh: Nexthop) => number): { route: RouteState; nh: Nexthop } | null {
  const n = routes.length;
  const lowest = routes[0]!.metric;
  let best: { route: RouteState; nh: Nexthop } | null = null;
  let bestScore = -1;
  const consider = (from: number, sameMetric: boolean): number => {
    for (let k = from; k < n; k++) {
      const r = routes[k]!;
      if (sameMetric && r.metric !== lowest) return k;
      for (const nh of hopsOf(r)) {
        const m = score(nh);
        if (m > bestScore) {
          bestScore = m;
          best = { route: r, nh };
        }
      }
    }
    return n;
  };
  const cont = consider(0, true);
  if (!best && cont < n) consider(cont, false);
  return best;
}

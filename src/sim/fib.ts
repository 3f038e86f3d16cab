// The routing decision itself: the rule database (net/core/fib_rules.c
// fib_rules_lookup / fib_rule_match) and the lookup in one table
// (net/ipv4/fib_trie.c fib_table_lookup), as reference/linux-routing-semantics.md
// §1–2 describe them. Pure.
import { prefixContains, v4Number, type Address, type Family } from '../net/ip.js';
import { ruleText, tableName } from '../state/format.js';
import type { Nexthop, RouteState, RuleState } from '../state/types.js';
import type { Errno, TraceStep } from './types.js';
import type { TableIndex } from './table-index.js';
import { devConf, type CompiledPrefix, type CompiledRule, type World } from './world.js';

/** The lookup key (reference §0). */
export interface Flow {
  family: Family;
  /** null: no source yet (local output before a source is chosen): 0.0.0.0 for rules */
  src: Address | null;
  dst: Address;
  /** arrival device; "lo" for locally generated lookups */
  iif: string;
  oif?: string;
  mark: number;
  tos: number;
  uid: number;
  proto: number;
  sport: number;
  dport: number;
}

export interface Hit {
  rule: RuleState;
  table: number;
  route: RouteState;
  /** the route's type and all its nexthops (dead ones too), read without touching the route object */
  type: RouteState['type'];
  hops: Nexthop[];
  /** prefix length of the matched route */
  length: number;
  /** the nexthops the kernel may use (multipath: all usable ones) */
  nexthops: Nexthop[];
}

export type FibResult = { ok: true; hit: Hit } | { ok: false; error: Exclude<Errno, null>; rule: RuleState | null; table: number | null; route: RouteState | null };

type TableOutcome =
  | { kind: 'miss' }
  | { kind: 'throw'; route: RouteState }
  | { kind: 'error'; error: Exclude<Errno, null>; route: RouteState }
  | { kind: 'route'; route: RouteState; type: RouteState['type']; hops: Nexthop[]; length: number; nexthops: Nexthop[] };

/** No route in the table: one shared object, a lookup that misses allocates nothing. */
const MISS: TableOutcome = { kind: 'miss' };

const ROUTE_ERRORS: Partial<Record<RouteState['type'], Exclude<Errno, null>>> = {
  unreachable: 'EHOSTUNREACH',
  prohibit: 'EACCES',
  blackhole: 'EINVAL',
};


/** fib_rule_match, with `not` inverting the whole conjunction. Selectors were compiled in world.ts. */
export function ruleMatches(c: CompiledRule, fl: Flow): boolean {
  // Every selector sits on the compiled rule itself: one object, one shape.
  let m =
    (c.iif === null || c.iif === fl.iif) &&
    (c.oif === null || c.oif === fl.oif) &&
    (c.fwmark < 0 || (((c.fwmark ^ fl.mark) & c.fwmask) >>> 0) === 0) &&
    (c.uidFrom < 0 || (fl.uid >= c.uidFrom && fl.uid <= c.uidTo)) &&
    (c.from === null || prefixHolds(c.from, fl.src, fl)) &&
    (c.to === null || prefixHolds(c.to, fl.dst, fl)) &&
    (c.tos === 0 || (fl.family === 4 ? (fl.tos & 0x1c) === c.tos : (fl.tos & 0xfc) === c.tos)) &&
    (c.ipproto < 0 || c.ipproto === fl.proto) &&
    (c.sportFrom < 0 || (fl.sport >= c.sportFrom && fl.sport <= c.sportTo)) &&
    (c.dportFrom < 0 || (fl.dport >= c.dportFrom && fl.dport <= c.dportTo));
  if (c.not) m = !m;
  return m;
}

function prefixHolds(p: CompiledPrefix, a: Address | null, fl: Flow): boolean {
  if (a === null) {
    // IPv4 local output without a source looks up saddr 0.0.0.0; IPv6 `from` rules never match it.
    return fl.family === 4 && p.zero;
  }
  if (p.v4 !== null) return a.family === 4 && ((v4Number(a) & p.v4.mask) >>> 0) === p.v4.net;
  return prefixContains(p.prefix, a);
}

/**
 * A single-nexthop route's nexthop, made once per route and kept on the route
 * under a symbol (invisible to JSON and to equality of State): a WeakMap
 * lookup per packet was a tenth of the simulator's time.
 */
const HOPS = Symbol('nexthops');
function hopsOf(r: RouteState): Nexthop[] {
  if (r.nexthops) return r.nexthops;
  const cached = (r as RouteState & { [HOPS]?: Nexthop[] })[HOPS];
  if (cached) return cached;
  const h: Nexthop[] = [{ gateway: r.gateway, dev: r.dev, weight: 1, flags: r.flags }];
  Object.defineProperty(r, HOPS, { value: h, enumerable: false });
  return h;
}

function usable(w: World, nh: Nexthop, fl: Flow): boolean {
  if (nh.flags.length > 0) {
    if (nh.flags.includes('dead')) return false;
    // IPv4 only: IPv6 has its own ignore_routes_with_linkdown, which the reference does not cover yet.
    if (nh.flags.includes('linkdown') && nh.dev && fl.family === 4 && devConf(w, nh.dev).ignoreLinkdown) return false;
  }
  return !fl.oif || nh.dev === fl.oif;
}

function usableNexthops(w: World, hops: Nexthop[], fl: Flow): Nexthop[] {
  // The common case (every nexthop usable) allocates nothing.
  let all = true;
  for (let i = 0; i < hops.length && all; i++) all = usable(w, hops[i]!, fl);
  return all ? hops : hops.filter((nh) => usable(w, nh, fl));
}

/** One table: every matching prefix longest first; at each, the first usable route. */
export function tableLookup(w: World, table: number, fl: Flow, index?: TableIndex | null): TableOutcome {
  const idx = index === undefined ? w.tables[fl.family].get(table) : index;
  if (!idx) return MISS;
  if (fl.family === 6) return tableLookup6(w, idx, fl);
  for (let e = idx.first(fl.dst); e >= 0; e = idx.next(e)) {
    const n = idx.countAt(e);
    for (let k = 0; k < n; k++) {
      // Typed arrays beside the routes: no route object is read until the winner.
      const tos = idx.tosAt(e, k);
      if (tos && tos !== (fl.tos & 0x1c)) continue;
      const type = idx.typeAt(e, k);
      if (type === 'throw') return { kind: 'throw', route: idx.routeAt(e, k) };
      const err = ROUTE_ERRORS[type];
      if (err) return { kind: 'error', error: err, route: idx.routeAt(e, k) };
      // A dead route (every nexthop dead) has no usable nexthop either.
      const hops = idx.hopsAt(e, k);
      const nexthops = usableNexthops(w, hops, fl);
      if (nexthops.length === 0) continue;
      return { kind: 'route', route: idx.routeAt(e, k), type, hops, length: idx.lengthAt(e), nexthops };
    }
  }
  return MISS;
}

/** net/ipv6/addrconf.h ip6_ignore_linkdown: the device's own value (writing `all` copies it to every device). */
function ignoreLinkdown6(w: World, dev: string): boolean {
  const v = w.sysctl(`net/ipv6/conf/${dev}/ignore_routes_with_linkdown`) ?? w.sysctl('net/ipv6/conf/all/ignore_routes_with_linkdown');
  return v !== undefined && v !== '0';
}

/**
 * One IPv6 table (net/ipv6/route.c fib6_table_lookup → rt6_select → find_rr_leaf,
 * find_match, rt6_score_route; then fib6_select_path). Unlike IPv4, a device
 * scores instead of filtering: a nexthop on the wanted device scores 2, any other 0,
 * and only a strict lookup (RT6_LOOKUP_F_IFACE: output with an oif and no source,
 * ip6_route_output_flags_noref) refuses the others. On input the arrival device is
 * the wanted one (ip6_pol_route_input passes flowi6_iif as oif). Reject routes are
 * scored like the rest (their nexthop is lo). At each prefix the routes of the
 * lowest metric compete first (the best score, the first on ties); only when none
 * qualifies do all the others. A multipath route's siblings are separate entries;
 * the one chosen is then re-picked by hash among the live siblings (only those on
 * the oif when strict). No neighbour state is modelled: without
 * RT6_LOOKUP_F_REACHABLE (forwarding=1) it plays no part.
 */
function tableLookup6(w: World, idx: TableIndex, fl: Flow): TableOutcome {
  const want = fl.oif ?? (fl.iif !== 'lo' ? fl.iif : undefined);
  const strict = fl.oif !== undefined && fl.src === null;
  const score = (nh: Nexthop): number => {
    if (nh.flags.includes('dead')) return -1;
    if (nh.flags.includes('linkdown') && nh.dev && ignoreLinkdown6(w, nh.dev)) return -1;
    if (!want || (nh.dev ?? 'lo') === want) return 2;
    return strict ? -1 : 0;
  };
  for (let e = idx.first(fl.dst); e >= 0; e = idx.next(e)) {
    const n = idx.countAt(e);
    const lowest = idx.routeAt(e, 0).metric;
    let best: { route: RouteState; nh: Nexthop } | null = null;
    let bestScore = -1;
    const consider = (from: number, sameMetric: boolean): number => {
      for (let k = from; k < n; k++) {
        const r = idx.routeAt(e, k);
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
    if (!best) continue;
    const { route, nh } = best as { route: RouteState; nh: Nexthop };
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

function suppressed(w: World, r: RuleState, out: { route: RouteState; length: number; nexthops: Nexthop[] }): string | null {
  if (r.suppressPrefixlength !== undefined && out.length <= r.suppressPrefixlength) {
    return `prefix length ${out.length} ≤ suppress_prefixlength ${r.suppressPrefixlength}`;
  }
  if (r.suppressIfgroup !== undefined) {
    // IPv4: nexthop #0 of the route, not the multipath choice (fib4_rule_suppress);
    // IPv6: the device of the chosen nexthop (fib6_rule_suppress reads rt6i_idev).
    const first = r.family === 6 ? out.nexthops[0]?.dev : (out.route.nexthops?.[0]?.dev ?? out.route.dev);
    const group = first ? (w.links.get(first)?.group ?? 0) : undefined;
    if (group === r.suppressIfgroup) return `nexthop device ${first} is in ifgroup ${group}`;
  }
  return null;
}

/** fib_rules_lookup: walk the rules in order until one yields a result or an error. */
export function fibLookup(w: World, fl: Flow, trace: TraceStep[] | null): FibResult {
  const rules = w.compiled[fl.family];
  // Text is built only when a trace is wanted: the hot path (benchmarks, bulk comparison) skips it.
  for (let i = 0; i < rules.length; i++) {
    const c = rules[i]!;
    if (!ruleMatches(c, fl)) continue;
    const r = c.rule;
    switch (r.action) {
      case 'nop':
        if (trace) trace.push({ stage: 'rule', text: `${ruleText(r)}: nop, next rule` });
        continue;
      case 'goto': {
        const target = rules.findIndex((x) => x.rule.pref === r.goto);
        if (target < 0) {
          if (trace) trace.push({ stage: 'rule', text: `${ruleText(r)}: goto ${r.goto} has no target rule, so it does nothing` });
          continue;
        }
        if (trace) trace.push({ stage: 'rule', text: `${ruleText(r)}: goto ${r.goto}` });
        i = target - 1;
        continue;
      }
      case 'unreachable':
        if (trace) trace.push({ stage: 'rule', text: `${ruleText(r)}: unreachable` });
        return { ok: false, error: 'ENETUNREACH', rule: r, table: null, route: null };
      case 'prohibit':
        if (trace) trace.push({ stage: 'rule', text: `${ruleText(r)}: prohibit` });
        return { ok: false, error: 'EACCES', rule: r, table: null, route: null };
      case 'blackhole':
        if (trace) trace.push({ stage: 'rule', text: `${ruleText(r)}: blackhole` });
        return { ok: false, error: 'EINVAL', rule: r, table: null, route: null };
      case 'lookup': {
        const table = r.table!;
        const out = tableLookup(w, table, fl, c.index);
        if (out.kind === 'miss') {
          if (trace) trace.push({ stage: 'rule', text: `${ruleText(r)}: no route in table ${tableName(table)}, next rule` });
          continue;
        }
        if (out.kind === 'throw') {
          if (trace) trace.push({ stage: 'rule', text: `${ruleText(r)}: throw ${out.route.dst} in table ${tableName(table)}, next rule` });
          continue;
        }
        if (out.kind === 'error') {
          if (trace) trace.push({ stage: 'rule', text: `${ruleText(r)}: table ${tableName(table)} has ${out.route.type} ${out.route.dst}` });
          return { ok: false, error: out.error, rule: r, table, route: out.route };
        }
        const why = suppressed(w, r, out);
        if (why) {
          if (trace) trace.push({ stage: 'rule', text: `${ruleText(r)}: found ${out.route.dst} in table ${tableName(table)} but ${why}: suppressed, next rule` });
          continue;
        }
        if (trace) trace.push({ stage: 'rule', text: `${ruleText(r)}: table ${tableName(table)} has ${out.route.dst}`, detail: { pref: r.pref, table } });
        return { ok: true, hit: { rule: r, table, route: out.route, type: out.type, hops: out.hops, length: out.length, nexthops: out.nexthops } };
      }
    }
  }
  if (trace) trace.push({ stage: 'rule', text: 'no rule gave a route' });
  return { ok: false, error: 'ENETUNREACH', rule: null, table: null, route: null };
}

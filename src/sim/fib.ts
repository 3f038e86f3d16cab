// The routing decision itself: the rule database (net/core/fib_rules.c
// fib_rules_lookup / fib_rule_match) over the lookups in single tables
// (table-lookup.ts), as reference/linux-routing-semantics.md §1–2 describe
// them. Pure.
import { prefixContains, v4Number, type Address } from '../net/ip.js';
import { ruleText, tableName } from '../state/format.js';
import type { Nexthop, RouteState, RuleState } from '../state/types.js';
import { mergedLookup } from './merged.js';
import { tableLookup, type Flow } from './table-lookup.js';
import type { Errno, TraceStep } from './types.js';
import type { CompiledPrefix, CompiledRule, World } from './world.js';

export type { Flow };

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
  /** when the hash picks one of `picks` the rule's result is suppressed and this is the answer instead */
  otherwise?: { picks: Nexthop[]; why: string; result: FibResult };
}

export type FibResult =
  { ok: true; hit: Hit } | { ok: false; error: Exclude<Errno, null>; rule: RuleState | null; table: number | null; route: RouteState | null };

/** fib_rule_match, with `not` inverting the whole conjunction. Selectors were compiled in world.ts. */
function ruleMatches(c: CompiledRule, fl: Flow): boolean {
  // Every selector sits on the compiled rule itself: one object, one shape.
  let m =
    (c.iif === null || c.iif === fl.iif) &&
    (c.oif === null || c.oif === fl.oif) &&
    (c.fwmark < 0 || ((c.fwmark ^ fl.mark) & c.fwmask) >>> 0 === 0) &&
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
  if (p.v4 !== null) return a.family === 4 && (v4Number(a) & p.v4.mask) >>> 0 === p.v4.net;
  return prefixContains(p.prefix, a);
}

function suppressed(w: World, r: RuleState, out: { route: RouteState; length: number; nexthops: Nexthop[] }): string | null {
  if (r.suppressPrefixlength !== undefined && out.length <= r.suppressPrefixlength) {
    return `prefix length ${out.length} ≤ suppress_prefixlength ${r.suppressPrefixlength}`;
  }
  if (r.suppressIfgroup !== undefined) {
    // IPv4: nexthop #0 of the route, not the multipath choice (fib4_rule_suppress);
    // IPv6: the device of the nexthop the hash picked (fib6_rule_suppress reads
    // rt6i_idev): suppressed here when every pick is in the group, see suppressedByPick.
    const devs = r.family === 6 ? out.nexthops.map((n) => n.dev) : [out.route.nexthops?.[0]?.dev ?? out.route.dev];
    if (devs.length > 0 && devs.every((d) => inGroup(w, d, r.suppressIfgroup!))) return `nexthop device ${devs.join(', ')} is in ifgroup ${r.suppressIfgroup}`;
  }
  return null;
}

const inGroup = (w: World, dev: string | undefined, group: number) => dev !== undefined && (w.links.get(dev)?.group ?? 0) === group;

/** IPv6 suppress_ifgroup on a multipath route whose nexthops are partly in the group: which picks suppress it. */
function suppressedByPick(w: World, r: RuleState, hops: Nexthop[]): { kept: Nexthop[]; dropped: Nexthop[] } | null {
  if (r.family !== 6 || r.suppressIfgroup === undefined || hops.length < 2) return null;
  const dropped = hops.filter((n) => inGroup(w, n.dev, r.suppressIfgroup!));
  return dropped.length === 0 ? null : { kept: hops.filter((n) => !dropped.includes(n)), dropped };
}

/**
 * The routing decision: the rules (fib_rules_lookup), or for IPv4 while no rule
 * has ever been added or deleted the kernel's shortcut past them (merged.ts).
 */
export function fibLookup(w: World, fl: Flow, trace: TraceStep[] | null): FibResult {
  if (fl.family === 4 && w.fibFlags4.customRules !== true) return mergedLookup(w, fl, trace);
  return rulesLookup(w, fl, trace, 0);
}

/** fib_rules_lookup: walk the rules in order, from rule `start`, until one yields a result or an error. */
function rulesLookup(w: World, fl: Flow, trace: TraceStep[] | null, start: number): FibResult {
  const rules = w.compiled[fl.family];
  // Text is built only when a trace is wanted: the hot path (benchmarks, bulk comparison) skips it.
  for (let i = start; i < rules.length; i++) {
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
      case 'prohibit':
      case 'blackhole':
        if (trace) trace.push({ stage: 'rule', text: `${ruleText(r)}: ${r.action}` });
        return { ok: false, error: RULE_ERRORS[r.action], rule: r, table: null, route: null };
      case 'lookup': {
        const res = lookupRule(w, fl, trace, c, i);
        if (res) return res;
        continue;
      }
    }
  }
  if (trace) trace.push({ stage: 'rule', text: 'no rule gave a route' });
  return { ok: false, error: 'ENETUNREACH', rule: null, table: null, route: null };
}

const RULE_ERRORS = { unreachable: 'ENETUNREACH', prohibit: 'EACCES', blackhole: 'EINVAL' } as const;

/** A `lookup` rule: its table's answer, or null to go on with the next rule (no route, throw, suppressed). */
function lookupRule(w: World, fl: Flow, trace: TraceStep[] | null, c: CompiledRule, i: number): FibResult | null {
  const r = c.rule;
  const table = r.table!;
  const out = tableLookup(w, table, fl, c.index);
  if (out.kind === 'miss') {
    if (trace) trace.push({ stage: 'rule', text: `${ruleText(r)}: no route in table ${tableName(table)}, next rule` });
    return null;
  }
  if (out.kind === 'throw') {
    if (trace) trace.push({ stage: 'rule', text: `${ruleText(r)}: throw ${out.route.dst} in table ${tableName(table)}, next rule` });
    return null;
  }
  if (out.kind === 'error') {
    if (trace) trace.push({ stage: 'rule', text: `${ruleText(r)}: table ${tableName(table)} has ${out.route.type} ${out.route.dst}` });
    return { ok: false, error: out.error, rule: r, table, route: out.route };
  }
  const why = suppressed(w, r, out);
  if (why) {
    if (trace) trace.push({ stage: 'rule', text: `${ruleText(r)}: found ${out.route.dst} in table ${tableName(table)} but ${why}: suppressed, next rule` });
    return null;
  }
  const hit: Hit = { rule: r, table, route: out.route, type: out.type, hops: out.hops, length: out.length, nexthops: out.nexthops };
  const split = suppressedByPick(w, r, out.nexthops);
  if (split) {
    // fib6_rule_suppress judges the sibling the hash picked: with some picks the rule gives way to the next ones.
    hit.nexthops = split.kept;
    hit.otherwise = {
      picks: split.dropped,
      why: `suppress_ifgroup ${r.suppressIfgroup}: ${split.dropped.map((n) => n.dev).join(', ')} in that group`,
      result: rulesLookup(w, fl, null, i + 1),
    };
  }
  if (trace)
    trace.push({
      stage: 'rule',
      text: `${ruleText(r)}: table ${tableName(table)} has ${out.route.dst}${split ? ` (suppressed if the hash picks ${split.dropped.map((n) => `${n.gateway ?? 'on-link'} dev ${n.dev}`).join(' | ')})` : ''}`,
      detail: { pref: r.pref, table },
    });
  return { ok: true, hit };
}

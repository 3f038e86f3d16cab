// Rules and routes as iproute2 arguments: the same words serve the batch file
// that applies them and the text a human reads in a plan.
import { TABLE_IDS, type RouteState, type RuleState } from './types.js';

const TABLE_NAMES: Record<number, string> = { 253: 'default', 254: 'main', 255: 'local' };
const SCOPE_NAMES: Record<number, string> = { 0: 'global', 200: 'site', 253: 'link', 254: 'host', 255: 'nowhere' };

export const tableName = (t: number): string => TABLE_NAMES[t] ?? String(t);
const scopeName = (s: number): string => SCOPE_NAMES[s] ?? String(s);
// Marks are u32: a value that came out of JS bit operations may be negative.
const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;

const range = (r: { from: number; to: number }) => (r.from === r.to ? String(r.from) : `${r.from}-${r.to}`);

/** `ip rule add|del` arguments after the verb. Every selector is given, so a delete removes exactly this rule. */
export function ruleArgs(r: RuleState): string[] {
  const a: string[] = ['pref', String(r.pref)];
  if (r.not) a.push('not');
  if (r.from) a.push('from', r.from);
  if (r.to) a.push('to', r.to);
  if (r.fwmark !== undefined) a.push('fwmark', `${hex(r.fwmark)}/${hex(r.fwmask ?? 0xffffffff)}`);
  if (r.iif) a.push('iif', r.iif);
  if (r.oif) a.push('oif', r.oif);
  if (r.tos) a.push('tos', hex(r.tos));
  if (r.ipproto !== undefined) a.push('ipproto', String(r.ipproto));
  if (r.sport) a.push('sport', range(r.sport));
  if (r.dport) a.push('dport', range(r.dport));
  if (r.uidrange) a.push('uidrange', `${r.uidrange.from}-${r.uidrange.to}`);
  if (r.protocol) a.push('protocol', String(r.protocol));
  switch (r.action) {
    case 'lookup':
      a.push('lookup', tableName(r.table ?? TABLE_IDS.main));
      break;
    case 'goto':
      a.push('goto', String(r.goto));
      break;
    default:
      a.push(r.action);
  }
  if (r.suppressPrefixlength !== undefined) a.push('suppress_prefixlength', String(r.suppressPrefixlength));
  if (r.suppressIfgroup !== undefined) a.push('suppress_ifgroup', String(r.suppressIfgroup));
  return a;
}

const ruleTexts = new WeakMap<RuleState, string>();
const routeTexts = new WeakMap<RouteState, string>();

/** How `ip rule show` would print it, e.g. "10100: from all fwmark 0x4/0xff lookup 4". */
export function ruleText(r: RuleState): string {
  let t = ruleTexts.get(r);
  if (t === undefined) ruleTexts.set(r, (t = ruleTextOf(r)));
  return t;
}

function ruleTextOf(r: RuleState): string {
  const args = ruleArgs(r)
    .slice(2)
    .filter((_, i, all) => !(all[i] === 'protocol' || all[i - 1] === 'protocol'));
  const hasFrom = args.includes('from');
  return `${r.pref}: ${hasFrom ? '' : 'from all '}${args.join(' ')}`;
}

/** `ip route add|replace|del` arguments after the verb. */
export function routeArgs(r: RouteState, forDelete = false): string[] {
  const a: string[] = [];
  if (r.type !== 'unicast') a.push(r.type);
  a.push(r.dst);
  if (r.from) a.push('from', r.from);
  if (r.tos) a.push('tos', hex(r.tos));
  a.push('table', tableName(r.table));
  a.push('proto', String(r.protocol));
  a.push('metric', String(r.metric));
  if (forDelete) return a;
  a.push('scope', scopeName(r.scope));
  if (r.nexthops && r.nexthops.length > 0) {
    for (const nh of r.nexthops) {
      a.push('nexthop');
      if (nh.gateway) a.push('via', nh.gateway);
      if (nh.dev) a.push('dev', nh.dev);
      a.push('weight', String(nh.weight));
      if (nh.flags.includes('onlink')) a.push('onlink');
    }
  } else {
    if (r.gateway) a.push('via', r.gateway);
    if (r.dev) a.push('dev', r.dev);
    if (r.flags.includes('onlink')) a.push('onlink');
  }
  if (r.prefsrc) a.push('src', r.prefsrc);
  return a;
}

/** A short human form: "table 4: default via 67.17.28.14 dev eth4". */
export function routeText(r: RouteState): string {
  let t = routeTexts.get(r);
  if (t === undefined) routeTexts.set(r, (t = routeTextOf(r)));
  return t;
}

function routeTextOf(r: RouteState): string {
  const parts: string[] = [];
  if (r.type !== 'unicast') parts.push(r.type);
  parts.push(r.dst);
  if (r.from) parts.push('from', r.from);
  if (r.tos) parts.push('tos', hex(r.tos));
  if (r.nexthops) {
    for (const nh of r.nexthops)
      parts.push('nexthop', ...(nh.gateway ? ['via', nh.gateway] : []), ...(nh.dev ? ['dev', nh.dev] : []), 'weight', String(nh.weight));
  } else {
    if (r.gateway) parts.push('via', r.gateway);
    if (r.dev) parts.push('dev', r.dev);
  }
  if (r.scope !== 0) parts.push('scope', scopeName(r.scope));
  if (r.prefsrc) parts.push('src', r.prefsrc);
  if (r.metric) parts.push('metric', String(r.metric));
  return `table ${tableName(r.table)}: ${parts.join(' ')}`;
}

/** Identity of a route in the kernel: adding a second route with the same key fails with "File exists" (IPv4). */
export const routeKey = (r: RouteState): string =>
  r.family === 4
    ? `4|${r.table}|${r.dst}|${r.tos}|${r.metric}`
    : // IPv6: a second gateway route with the same prefix and metric is refused ("File exists"),
      // but device-only routes on different devices (fe80::/64 dev eth0, dev eth1) coexist.
      `6|${r.table}|${r.dst}|${r.metric}|${r.type}|${r.gateway || r.nexthops ? '' : (r.dev ?? '')}${r.from ? `|from ${r.from}` : ''}`;

/** Identity of a rule: all of it (two rules differing in any field are different rules). */
export const ruleKey = (r: RuleState): string => `${r.family}|${ruleArgs(r).join(' ')}`;

/** Stable order for output and golden files. */
export const compareRules = (a: RuleState, b: RuleState): number => a.family - b.family || a.pref - b.pref || ruleKey(a).localeCompare(ruleKey(b));
export const compareRoutes = (a: RouteState, b: RouteState): number => a.family - b.family || a.table - b.table || routeKey(a).localeCompare(routeKey(b));

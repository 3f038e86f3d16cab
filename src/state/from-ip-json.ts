// `ip -json` output (with or without -N, as admins paste it) → normalised
// RuleState / RouteState / LinkState. Pure: the kernel adapter or an import
// hands in the parsed JSON.
import { canonicalAddress, canonicalRouteDst, formatRouteDst, parsePrefix, type Family } from '../net/ip.js';
import { PROTOCOLS } from '../net/ports.js';
import { RT_PROTOCOLS, TABLE_IDS } from '../ids.js';
import { scalarText } from '../util/json.js';
import { type AddressState, type LinkState, type Nexthop, type RouteState, type RouteType, type RuleState } from './types.js';

type J = Record<string, unknown>;

const ROUTE_TYPES: RouteType[] = ['unicast', 'local', 'broadcast', 'anycast', 'multicast', 'blackhole', 'unreachable', 'prohibit', 'throw', 'nat'];
const SCOPES: Record<string, number> = { global: 0, universe: 0, site: 200, link: 253, host: 254, nowhere: 255 };

export class DumpError extends Error {}

function num(v: unknown, what: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^(0x[0-9a-f]+|\d+)$/i.test(v)) return Number(v);
  throw new DumpError(`cannot read ${what} ${JSON.stringify(v)}`);
}

function tableId(v: unknown): number {
  if (v === undefined) return TABLE_IDS.main;
  if (typeof v === 'string' && Object.hasOwn(TABLE_IDS, v)) return TABLE_IDS[v as keyof typeof TABLE_IDS];
  return num(v, 'table');
}

function protocolId(v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v === 'string' && Object.hasOwn(RT_PROTOCOLS, v)) return RT_PROTOCOLS[v]!;
  return num(v, 'protocol');
}

function routeType(v: unknown): RouteType {
  if (v === undefined) return 'unicast';
  if (typeof v === 'string' && (ROUTE_TYPES as string[]).includes(v)) return v as RouteType;
  const n = num(v, 'route type');
  const t = ROUTE_TYPES[n - 1];
  if (!t) throw new DumpError(`unknown route type ${n}`);
  return t;
}

function scopeId(v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v === 'string' && Object.hasOwn(SCOPES, v)) return SCOPES[v]!;
  return num(v, 'scope');
}

function ipproto(v: unknown): number {
  if (typeof v === 'string') {
    const m = /^ipproto-(\d+)$/.exec(v);
    if (m) return Number(m[1]);
    if (Object.hasOwn(PROTOCOLS, v)) return PROTOCOLS[v]!;
  }
  return num(v, 'ipproto');
}

function prefixText(addr: unknown, len: unknown, family: Family): string | undefined {
  if (addr === undefined || addr === 'all') return undefined;
  const bits = family === 4 ? 32 : 128;
  const r = parsePrefix(`${scalarText(addr)}/${len === undefined ? bits : scalarText(len)}`);
  if (!r.ok) throw new DumpError(`cannot read prefix ${scalarText(addr)}/${scalarText(len)}: ${r.reason}`);
  return r.prefix.length === 0 ? undefined : formatRouteDst(r.prefix);
}

function portRange(o: J, key: 'sport' | 'dport'): { from: number; to: number } | undefined {
  if (o[key] !== undefined) {
    const n = num(o[key], key);
    return { from: n, to: n };
  }
  if (o[`${key}_start`] !== undefined) return { from: num(o[`${key}_start`], key), to: num(o[`${key}_end`] ?? o[`${key}_start`], key) };
  return undefined;
}

export function ruleFromJson(o: J, family: Family): RuleState {
  const r: RuleState = { family, pref: num(o.priority ?? 0, 'priority'), action: 'lookup', protocol: protocolId(o.protocol) };
  if ('not' in o) r.not = true;
  const from = prefixText(o.src, o.srclen, family);
  if (from) r.from = from;
  const to = prefixText(o.dst, o.dstlen, family);
  if (to) r.to = to;
  if (o.fwmark !== undefined) {
    r.fwmark = num(o.fwmark, 'fwmark');
    r.fwmask = o.fwmask === undefined ? 0xffffffff : num(o.fwmask, 'fwmask');
  }
  if (typeof o.iif === 'string') r.iif = o.iif;
  if (typeof o.oif === 'string') r.oif = o.oif;
  if (o.tos !== undefined) r.tos = num(o.tos, 'tos');
  if (o.dsfield !== undefined) r.tos = num(o.dsfield, 'dsfield');
  if (o.ipproto !== undefined) r.ipproto = ipproto(o.ipproto);
  const sport = portRange(o, 'sport');
  if (sport) r.sport = sport;
  const dport = portRange(o, 'dport');
  if (dport) r.dport = dport;
  if (o.uid_start !== undefined) r.uidrange = { from: num(o.uid_start, 'uid'), to: num(o.uid_end, 'uid') };
  if (o.suppress_prefixlen !== undefined) r.suppressPrefixlength = num(o.suppress_prefixlen, 'suppress_prefixlength');
  if (o.suppress_ifgroup !== undefined) r.suppressIfgroup = num(o.suppress_ifgroup, 'suppress_ifgroup');
  if (o.goto !== undefined) {
    r.action = 'goto';
    r.goto = num(o.goto, 'goto');
  } else if ('nop' in o) {
    r.action = 'nop';
  } else if (o.action !== undefined) {
    const a = scalarText(o.action);
    const byNum: Record<string, RuleState['action']> = { '6': 'blackhole', '7': 'unreachable', '8': 'prohibit' };
    const act = byNum[a] ?? a;
    if (act !== 'blackhole' && act !== 'unreachable' && act !== 'prohibit') throw new DumpError(`unknown rule action ${a}`);
    r.action = act;
  } else {
    r.table = tableId(o.table);
  }
  return r;
}

function nexthopFromJson(o: J): Nexthop {
  const nh: Nexthop = { weight: o.weight === undefined ? 1 : num(o.weight, 'weight'), flags: Array.isArray(o.flags) ? (o.flags as string[]) : [] };
  if (typeof o.gateway === 'string') nh.gateway = canonicalAddress(o.gateway);
  else if (o.via && typeof (o.via as J).host === 'string') nh.gateway = canonicalAddress((o.via as J).host as string);
  if (typeof o.dev === 'string') nh.dev = o.dev;
  return nh;
}

export function routeFromJson(o: J, family: Family, table?: number): RouteState {
  if (typeof o.dst !== 'string') throw new DumpError(`route without a destination: ${JSON.stringify(o)}`);
  const r: RouteState = {
    family,
    table: o.table === undefined ? (table ?? TABLE_IDS.main) : tableId(o.table),
    dst: canonicalRouteDst(o.dst, family),
    type: routeType(o.type),
    tos: o.tos === undefined ? 0 : num(o.tos, 'tos'),
    metric: o.metric === undefined ? 0 : num(o.metric, 'metric'),
    protocol: protocolId(o.protocol),
    scope: scopeId(o.scope),
    flags: Array.isArray(o.flags) ? (o.flags as string[]) : [],
  };
  // IPv6 source-specific routes: `from PREFIX` (RTA_SRC); a route to DST is then
  // for that source prefix only (net/ipv6/ip6_fib.c subtrees).
  if (typeof o.from === 'string' && canonicalRouteDst(o.from, family) !== 'default') r.from = canonicalRouteDst(o.from, family);
  if (typeof o.prefsrc === 'string') r.prefsrc = canonicalAddress(o.prefsrc);
  if (Array.isArray(o.nexthops)) {
    r.nexthops = (o.nexthops as J[]).map(nexthopFromJson);
  } else {
    const nh = nexthopFromJson(o);
    if (nh.gateway) r.gateway = nh.gateway;
    if (nh.dev) r.dev = nh.dev;
  }
  return r;
}

/** The address flags source selection reads (`ip -j addr` prints each as `"deprecated": true`). */
const ADDRESS_FLAGS = ['secondary', 'deprecated', 'tentative', 'optimistic', 'temporary', 'dadfailed'];
function addressFlags(a: J): { flags?: string[] } {
  const flags = ADDRESS_FLAGS.filter((f) => a[f] === true);
  return flags.length > 0 ? { flags } : {};
}

export function linkFromJson(o: J): LinkState {
  const flags = Array.isArray(o.flags) ? (o.flags as string[]) : [];
  const addresses: AddressState[] = (Array.isArray(o.addr_info) ? (o.addr_info as J[]) : [])
    .filter((a) => a.family === 'inet' || a.family === 'inet6')
    .map((a) => ({
      family: a.family === 'inet' ? 4 : 6,
      address: canonicalAddress(String(a.local)),
      prefixlen: num(a.prefixlen, 'prefixlen'),
      scope: scalarText(a.scope ?? 'global'),
      ...(typeof a.address === 'string' && a.address !== a.local ? { peer: canonicalAddress(a.address) } : {}),
      ...addressFlags(a),
    }));
  return {
    name: String(o.ifname),
    index: num(o.ifindex, 'ifindex'),
    up: flags.includes('UP'),
    carrier: flags.includes('LOWER_UP'),
    ...(typeof o.group === 'string' && /^\d+$/.test(o.group) ? { group: Number(o.group) } : o.group === 'default' ? { group: 0 } : {}),
    addresses,
  };
}

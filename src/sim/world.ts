// A State prepared for many lookups: rules in evaluation order, one prefix
// index per table, interfaces by name, sysctls with the kernel's defaults.
// Built once per State and cached.
import { familyBits, formatAddress, formatPrefix, networkOf, parseAddress, parsePrefix, type Family, type Prefix } from '../net/ip.js';
import { TABLE_IDS, type LinkState, type RouteState, type RuleState, type State } from '../state/types.js';
import { fibFlags4, type FibFlags4 } from './kernel-flags.js';
import { TableIndex } from './table-index.js';

/** A rule prefix ready for per-packet tests: IPv4 as numbers, IPv6 as the parsed Prefix. */
export interface CompiledPrefix {
  prefix: Prefix;
  v4: { net: number; mask: number } | null;
  /** it holds 0.0.0.0 (what a source-less IPv4 lookup carries) */
  zero: boolean;
}

/** A rule with its selectors prepared once per world. */
export interface CompiledRule {
  rule: RuleState;
  /** the device name to compare (a sentinel no device has when the rule is detached: its device is missing), null for none */
  iif: string | null;
  oif: string | null;
  /** -1 when the rule has no fwmark selector */
  fwmark: number;
  fwmask: number;
  from: CompiledPrefix | null;
  to: CompiledPrefix | null;
  tos: number;
  /** -1: no such selector */
  ipproto: number;
  uidFrom: number;
  uidTo: number;
  sportFrom: number;
  sportTo: number;
  dportFrom: number;
  dportTo: number;
  not: boolean;
  /** the table a lookup rule reads, resolved once (null: the table does not exist) */
  index: TableIndex | null;
}

export interface World {
  state: State;
  rules: Record<Family, RuleState[]>;
  /** the same rules, compiled, in evaluation order */
  compiled: Record<Family, CompiledRule[]>;
  /** table id → index, per family */
  tables: Record<Family, Map<number, TableIndex>>;
  /** every route the tables hold (the State's, and the kernel's own local routes where it has none) */
  routes: RouteState[];
  links: Map<string, LinkState>;
  /** net->ipv4.fib_has_custom_rules and fib_has_custom_local_routes, where the State shows or carries them (kernel-flags.ts) */
  fibFlags4: FibFlags4;
  /** some rule matches on ipproto/sport/dport: the kernel dissects ports for reverse-path lookups too */
  rulesUsePorts: Record<Family, boolean>;
  sysctl: (key: string) => string | undefined;
}

const cache = new WeakMap<State, World>();

let lastState: State | null = null;
let lastBuilt: World | null = null;

export function worldOf(state: State): World {
  // Bulk callers ask about one state again and again: skip the WeakMap then.
  if (state === lastState && lastBuilt) return lastBuilt;
  let w = cache.get(state);
  if (!w) {
    w = build(state);
    cache.set(state, w);
  }
  lastState = state;
  lastBuilt = w;
  return w;
}

function build(state: State): World {
  const rules: Record<Family, RuleState[]> = { 4: [], 6: [] };
  // Stable sort: equal prefs keep their insertion order, as the kernel does.
  for (const f of [4, 6] as Family[]) rules[f] = state.rules.filter((r) => r.family === f).sort((a, b) => a.pref - b.pref);
  const links = new Map(state.links.map((l) => [l.name, l]));
  const routes = withSyntheticLocalRoutes(state.routes, state.links);
  const tables: Record<Family, Map<number, TableIndex>> = { 4: new Map(), 6: new Map() };
  for (const r of routes) {
    const byTable = tables[r.family];
    let idx = byTable.get(r.table);
    if (!idx) byTable.set(r.table, (idx = new TableIndex(r.family)));
    idx.add(r);
  }
  for (const f of [4, 6] as Family[]) for (const idx of tables[f].values()) idx.build();
  // A rule naming a missing device is [detached] and never matches: the sentinel is no real device name.
  const dev = (d: string | undefined) => (d === undefined ? null : links.size > 0 && !links.has(d) ? '\u0000detached' : d);
  const compileRule = (r: RuleState): CompiledRule => ({
    rule: r,
    iif: dev(r.iif),
    oif: dev(r.oif),
    fwmark: r.fwmark === undefined ? -1 : r.fwmark >>> 0,
    fwmask: (r.fwmask ?? 0xffffffff) >>> 0,
    from: r.from ? compilePrefix(r.from) : null,
    to: r.to ? compilePrefix(r.to) : null,
    tos: r.tos ?? 0,
    ipproto: r.ipproto ?? -1,
    uidFrom: r.uidrange?.from ?? -1,
    uidTo: r.uidrange?.to ?? -1,
    sportFrom: r.sport?.from ?? -1,
    sportTo: r.sport?.to ?? -1,
    dportFrom: r.dport?.from ?? -1,
    dportTo: r.dport?.to ?? -1,
    not: r.not ?? false,
    index: r.action === 'lookup' && r.table !== undefined ? (tables[r.family].get(r.table) ?? null) : null,
  });
  const compiled = { 4: rules[4].map(compileRule), 6: rules[6].map(compileRule) };
  // fib_rule_requires_fldissect: a rule on `iif lo` does not make the kernel dissect input packets.
  const usesPorts = (f: Family) => rules[f].some((r) => r.iif !== 'lo' && (r.ipproto !== undefined || r.sport !== undefined || r.dport !== undefined));
  return {
    state,
    rules,
    compiled,
    tables,
    routes,
    links,
    fibFlags4: fibFlags4(state, rules[4]),
    rulesUsePorts: { 4: usesPorts(4), 6: usesPorts(6) },
    sysctl: sysctlReader(state.sysctls),
  };
}

function compilePrefix(text: string): CompiledPrefix {
  const r = parsePrefix(text);
  // An unparsable prefix cannot come from the kernel; make it match nothing.
  const prefix: Prefix = r.ok ? r.prefix : { family: 4, value: 1n, length: 32 };
  const v4 = prefix.family === 4 ? { net: Number(prefix.value), mask: prefix.length === 0 ? 0 : (0xffffffff << (32 - prefix.length)) >>> 0 } : null;
  return { prefix, v4, zero: prefix.family === 4 && prefix.value === 0n };
}

/**
 * A State built from a config (or a dump without the local table) still needs
 * the kernel's automatic routes: `local` for each address, broadcasts, and the
 * connected prefixes in main. Added only where the State has none of its own.
 */
function withSyntheticLocalRoutes(routes: RouteState[], links: LinkState[]): RouteState[] {
  const hasLocal = routes.some((r) => r.table === TABLE_IDS.local);
  if (hasLocal || links.length === 0) return routes;
  const out = [...routes];
  const have = new Set(routes.map((r) => `${r.family}|${r.table}|${r.dst}|${r.dev ?? ''}`));
  const push = (r: RouteState) => {
    const k = `${r.family}|${r.table}|${r.dst}|${r.dev ?? ''}`;
    if (!have.has(k)) {
      have.add(k);
      out.push(r);
    }
  };
  const base = { tos: 0, metric: 0, protocol: 2, flags: [] as string[] };
  for (const l of links) {
    if (l.name === 'lo') push({ ...base, family: 4, table: TABLE_IDS.local, dst: '127.0.0.0/8', type: 'local', scope: 254, dev: 'lo', prefsrc: '127.0.0.1' });
    for (const a of l.addresses) {
      const fam = a.family;
      push({ ...base, family: fam, table: TABLE_IDS.local, dst: a.address, type: 'local', scope: 254, dev: l.name, prefsrc: a.address, metric: 0 });
      const addr = parseAddress(a.address);
      if (!addr || l.name === 'lo' || a.prefixlen >= familyBits(fam) || a.scope === 'host') continue;
      const netPrefix = formatPrefix(networkOf(addr, a.prefixlen));
      push({
        ...base,
        family: fam,
        table: TABLE_IDS.main,
        dst: netPrefix,
        type: 'unicast',
        scope: fam === 4 ? 253 : 0,
        dev: l.name,
        prefsrc: fam === 4 ? a.address : undefined,
        metric: fam === 6 ? 256 : 0,
      });
      if (fam === 4 && a.prefixlen < 31) {
        const hostBits = 32n - BigInt(a.prefixlen);
        const network = (addr.value >> hostBits) << hostBits;
        const bcast = network | ((1n << hostBits) - 1n);
        push({ ...base, family: 4, table: TABLE_IDS.local, dst: v4(bcast), type: 'broadcast', scope: 253, dev: l.name, prefsrc: a.address });
      }
    }
  }
  return out;
}

const v4 = (v: bigint): string => formatAddress({ family: 4, value: v });

/** Sysctls by slash-form key; dotted keys (as `sysctl -a` prints them) are accepted too. */
function sysctlReader(sysctls: Record<string, string>): (key: string) => string | undefined {
  const m = new Map<string, string>();
  for (const [k, v] of Object.entries(sysctls)) m.set(k.includes('/') ? k : k.replaceAll('.', '/'), v);
  return (key) => m.get(key);
}

/** An interface's IPv4 settings, combined with `all` the way the kernel combines each one. */
export interface DevConf {
  /** max(all, dev): 0 off, 1 strict, 2 loose */
  rpFilter: number;
  /** all || dev */
  srcValidMark: boolean;
  acceptLocal: boolean;
  sendRedirects: boolean;
  routeLocalnet: boolean;
  /** max(all, dev) */
  ignoreLinkdown: boolean;
  /** the interface's own forwarding (IN_DEV_FORWARD); without it, conf/all (= net.ipv4.ip_forward) */
  forwarding: boolean;
}

const confCache = new WeakMap<World, Map<string, DevConf>>();

/** A per-device sysctl and the `all` one (IPv4), with the kernel's default when neither is known. */
function confPair(w: World, dev: string, key: string, fallback: number): [number, number] {
  const read = (d: string) => {
    const v = w.sysctl(`net/ipv4/conf/${d}/${key}`);
    return v === undefined ? undefined : Number(v);
  };
  return [read('all') ?? fallback, read(dev) ?? read('default') ?? fallback];
}

let lastWorld: World | null = null;
let lastCache: Map<string, DevConf> | null = null;

export function devConf(w: World, dev: string): DevConf {
  // The same world is asked again and again: skip the WeakMap then.
  let cache = w === lastWorld ? lastCache : confCache.get(w);
  if (!cache) confCache.set(w, (cache = new Map<string, DevConf>()));
  lastWorld = w;
  lastCache = cache;
  let c = cache.get(dev);
  if (!c) {
    const or = (key: string, fallback: number) => confPair(w, dev, key, fallback).some((v) => v !== 0);
    const [rpAll, rpDev] = confPair(w, dev, 'rp_filter', 0);
    const [ldAll, ldDev] = confPair(w, dev, 'ignore_routes_with_linkdown', 0);
    c = {
      rpFilter: Math.max(rpAll, rpDev),
      srcValidMark: or('src_valid_mark', 0),
      acceptLocal: or('accept_local', 0),
      sendRedirects: or('send_redirects', 1),
      routeLocalnet: or('route_localnet', 0),
      ignoreLinkdown: Math.max(ldAll, ldDev) > 0,
      forwarding: (w.sysctl(`net/ipv4/conf/${dev}/forwarding`) ?? w.sysctl('net/ipv4/conf/all/forwarding') ?? w.sysctl('net/ipv4/ip_forward') ?? '0') === '1',
    };
    cache.set(dev, c);
  }
  return c;
}

// State + packet → Decision: the whole path of one packet, as the kernel takes
// it (reference §0–4): netfilter PREROUTING (marks, connmark, DNAT), input
// checks, the rules and tables, rp_filter, forwarding; or for the host's own
// packets the lookup, source selection, OUTPUT rerouting; then SNAT. Pure.
import { v4Number, familyBits, formatAddress, parseAddress, parsePrefix, prefixContains, type Address, type Family, type Prefix } from '../net/ip.js';
import { routeText, ruleText } from '../state/format.js';
import type { AddrType, CtState } from '../state/program.js';
import type { Nexthop, RuleState, State } from '../state/types.js';
import { fibLookup, type FibResult, type Flow, type Hit } from './fib.js';
import { runHook, type NatChoice, type NfPacket } from './netfilter.js';
import { isLocalAddress, validateSource } from './rpfilter.js';
import { masqueradeSource, onLinkSource, routeSource } from './source.js';
import type { Decision, Errno, Packet, TraceStep } from './types.js';
import { devConf, worldOf, type World } from './world.js';

export class PacketError extends Error {}

const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;

function addr(text: string, what: string): Address {
  const a = parseAddress(text);
  if (!a) throw new PacketError(`${what} "${text}" is not an IPv4 or IPv6 address`);
  return a;
}

const NETS = new Map<string, Prefix>();
/** `a` is in the prefix `text` (parsed once; these are the few fixed martian ranges). */
const inNet = (a: Address, text: string) => {
  let p = NETS.get(text);
  if (!p) {
    const r = parsePrefix(text);
    if (!r.ok) throw new Error(`bad built-in prefix ${text}`);
    NETS.set(text, (p = r.prefix));
  }
  return prefixContains(p, a);
};

function addrTypeOf(w: World, a: Address): AddrType {
  if (a.family === 4 ? inNet(a, '224.0.0.0/4') : inNet(a, 'ff00::/8')) return 'multicast';
  const idx = w.tables[a.family].get(255);
  if (idx) {
    for (const { length, routes } of idx.matches(a)) {
      if (length !== familyBits(a.family)) continue;
      if (routes.some((r) => r.type === 'local')) return 'local';
      if (routes.some((r) => r.type === 'broadcast')) return 'broadcast';
    }
  }
  if (a.family === 4 && a.value === 0xffffffffn) return 'broadcast';
  return 'unicast';
}

/** A martian source or destination on input (ip_route_input_slow), IPv4. */
/** The top bits of an IPv4 address as a number, for the fixed martian ranges (no bigint work per packet). */
const top8 = (a: Address) => v4Number(a) >>> 24;

function martian(w: World, src: Address, dst: Address, dev: string): string | null {
  if (src.family !== 4) return null;
  const s8 = top8(src);
  const d8 = top8(dst);
  if ((s8 >= 224 && s8 <= 239) || src.value === 0xffffffffn) return `source ${formatAddress(src)} is multicast or broadcast`;
  if (dst.value === 0xffffffffn || (src.value === 0n && dst.value === 0n)) return null; // limited broadcast: delivered
  // ipv4_is_zeronet() is `addr == 0` since Linux 5.x (include/linux/in.h): the rest of
  // 0.0.0.0/8 is routed like any unicast address.
  if (src.value === 0n) return 'source 0.0.0.0 (allowed only toward the limited broadcast)';
  if (dst.value === 0n) return 'destination 0.0.0.0';
  if ((d8 === 127 || s8 === 127) && !devConf(w, dev).routeLocalnet) {
    return d8 === 127
      ? `destination ${formatAddress(dst)} is a loopback address arriving on ${dev}`
      : `source ${formatAddress(src)} is a loopback address arriving on ${dev}`;
  }
  if (d8 >= 224 && d8 <= 239) return `destination ${formatAddress(dst)} is multicast (no group joined)`;
  return null;
}

/** __ip_dev_find: an interface's address, or one the local table routes as local (all of 127.0.0.0/8). */
function ownAddress(w: World, a: Address): boolean {
  if (isLocalAddress(w, a)) return true;
  const idx = w.tables[a.family].get(255);
  if (!idx) return false;
  for (const { routes } of idx.matches(a)) return routes[0]?.type === 'local';
  return false;
}

interface Ctx {
  w: World;
  /** null: no trace wanted (bulk use); the text is then never built */
  trace: TraceStep[] | null;
  pkt: Packet;
  family: Family;
}

function note(ctx: Ctx, stage: string, text: () => string) {
  if (ctx.trace) ctx.trace.push({ stage, text: text() });
}

const tableOut = (t: number | null): Decision['table'] => (t === null ? null : t === 254 ? 'main' : t === 255 ? 'local' : t === 253 ? 'default' : t);

function base(ctx: Ctx, mark: number): Decision {
  return {
    outcome: 'drop',
    origin: ctx.pkt.iif ? 'forwarded' : 'local',
    error: null,
    mark,
    rule: null,
    table: null,
    route: null,
    dev: null,
    gateway: null,
    nexthops: [],
    snat: null,
    src: null,
    policy: null,
    trace: ctx.trace ?? [],
  };
}

/**
 * The rule and nexthops as a Decision shows them, made once per rule and per
 * nexthop set and shared by every decision (they are never modified: refuse()
 * replaces d.nexthops rather than editing it).
 */
const ruleRefs = new WeakMap<RuleState, { pref: number; text: string }>();
const choices = new WeakMap<Nexthop[], Decision['nexthops']>();
function ruleRef(r: RuleState) {
  let ref = ruleRefs.get(r);
  if (!ref) ruleRefs.set(r, (ref = { pref: r.pref, text: ruleText(r) }));
  return ref;
}
function choicesOf(hops: Nexthop[]): Decision['nexthops'] {
  let c = choices.get(hops);
  if (!c) choices.set(hops, (c = hops.map((n) => ({ gateway: n.gateway ?? null, dev: n.dev ?? null, weight: n.weight }))));
  return c;
}

function fromHit(d: Decision, hit: Hit, withText = true): Decision {
  if (hit.otherwise) {
    const o = hit.otherwise;
    const alt = o.result.ok ? fromHit({ ...d, trace: [] }, o.result.hit, withText) : fromFailure({ ...d, trace: [] }, o.result);
    if (o.result.ok) alt.outcome = o.result.hit.type === 'local' || o.result.hit.type === 'broadcast' ? 'local' : 'forward';
    d.alternatives = [{ picks: choicesOf(o.picks), why: o.why, decision: alt }];
  }
  d.rule = ruleRef(hit.rule);
  d.table = tableOut(hit.table);
  // Bulk use (no trace) leaves the route text out: reading the winning route object
  // from a 1M-route table is a cache miss the answer does not need.
  d.route = withText ? routeText(hit.route) : null;
  d.nexthops = choicesOf(hit.nexthops);
  if (hit.nexthops.length === 1 || new Set(hit.nexthops.map((n) => `${n.dev}|${n.gateway}`)).size === 1) {
    d.dev = hit.nexthops[0]!.dev ?? null;
    d.gateway = hit.nexthops[0]!.gateway ?? null;
  }
  return d;
}

/** Move the nexthops `bad` picks from d.nexthops to d.refused (a hash-dependent failure). */
function refuse(d: Decision, hops: Nexthop[], bad: (n: Nexthop) => boolean, error: Exclude<Errno, null>) {
  const choice = (n: Nexthop) => ({ gateway: n.gateway ?? null, dev: n.dev ?? null, weight: n.weight });
  d.refused = hops.filter(bad).map((n) => ({ ...choice(n), error }));
  d.nexthops = hops.filter((n) => !bad(n)).map(choice);
  const one = new Set(d.nexthops.map((n) => `${n.dev}|${n.gateway}`)).size === 1;
  d.dev = one ? d.nexthops[0]!.dev : null;
  d.gateway = one ? d.nexthops[0]!.gateway : null;
}

function fromFailure(d: Decision, r: Extract<FibResult, { ok: false }>): Decision {
  d.error = r.error;
  d.rule = r.rule ? ruleRef(r.rule) : null;
  d.table = tableOut(r.table);
  d.route = r.route ? routeText(r.route) : null;
  return d;
}

/** Where the SNAT rule (if any) sends the source: its address, or the output interface's for masquerade. */
function snatAddress(w: World, nat: NatChoice | null, hit: Hit | null, dst: Address): string | null {
  if (!nat || nat.kind === 'dnat') return null;
  if (nat.kind === 'snat') return nat.to ?? null;
  if (!hit) return null;
  const nh = hit.nexthops[0];
  return masqueradeSource(w, nh?.dev ?? hit.route.dev, nh, dst);
}

function postrouting(ctx: Ctx, d: Decision, p: NfPacket, hit: Hit) {
  if (!ctx.w.state.program) return;
  const nat = runHook(
    ctx.w.state.program,
    'postrouting',
    { ...p, oif: hit.nexthops[0]?.dev },
    { types: p.ctstate === 'new' ? ['filter', 'nat'] : ['filter'], addrType: (a) => addrTypeOf(ctx.w, a), trace: ctx.trace },
  );
  if (nat.verdict === 'drop') {
    d.outcome = 'drop';
    return;
  }
  d.snat = snatAddress(ctx.w, nat.nat, hit, p.dst);
  if (d.snat) note(ctx, 'snat', () => `source becomes ${d.snat} (${nat.nat!.kind}, ${nat.nat!.by})`);
}

function ifaceKnown(w: World, dev: string, what: string) {
  if (w.links.size > 0 && !w.links.has(dev)) {
    throw new PacketError(`${what} ${dev} does not exist here (interfaces: ${[...w.links.keys()].join(', ')})`);
  }
}

export interface ExplainOptions {
  /** record every step as text (default true); off for bulk use */
  trace?: boolean;
}

export function explain(state: State, pkt: Packet, opts: ExplainOptions = {}): Decision {
  const w = worldOf(state);
  const src = addr(pkt.src, 'source');
  const dst = addr(pkt.dst, 'destination');
  if (src.family !== dst.family) throw new PacketError(`source ${pkt.src} and destination ${pkt.dst} are of different families`);
  if (pkt.family && pkt.family !== dst.family) throw new PacketError(`the packet is IPv${pkt.family} but ${pkt.dst} is IPv${dst.family}`);
  const family = dst.family;
  const ctx: Ctx = { w, trace: opts.trace === false ? null : [], pkt, family };
  const proto = pkt.proto ?? (family === 4 ? 17 : 0);
  const ctstate: CtState = pkt.ctstate ?? 'new';
  const nf: NfPacket = {
    family,
    src,
    dst,
    proto,
    sport: pkt.sport ?? 0,
    dport: pkt.dport ?? 0,
    iif: pkt.iif,
    mark: pkt.mark ?? 0,
    ctmark: pkt.ctmark ?? 0,
    ctstate,
  };
  if (pkt.iif) {
    ifaceKnown(w, pkt.iif, 'input interface');
    return forwarded(ctx, nf);
  }
  if (pkt.oif) ifaceKnown(w, pkt.oif, 'output interface');
  return local(ctx, nf);
}

function forwarded(ctx: Ctx, p: NfPacket): Decision {
  const { w } = ctx;
  const iif = p.iif!;
  note(ctx, 'packet', () => `${formatAddress(p.src)} → ${formatAddress(p.dst)} ${protoText(p)} arriving on ${iif}${p.mark ? ` with mark ${hex(p.mark)}` : ''}`);
  const pre = w.state.program
    ? runHook(w.state.program, 'prerouting', p, { types: ctxTypes(p.ctstate), addrType: (a) => addrTypeOf(w, a), trace: ctx.trace })
    : null;
  const d = base(ctx, pre ? pre.mark : p.mark);
  if (pre) {
    d.policy = pre.markedBy;
    if (pre.verdict === 'drop') return d;
    if (pre.mark !== p.mark || pre.ctmark !== p.ctmark || pre.dst !== p.dst) p = { ...p, mark: pre.mark, ctmark: pre.ctmark, dst: pre.dst };
  }

  const bad = ctx.family === 4 ? martian(w, p.src, p.dst, iif) : null;
  if (bad) {
    note(ctx, 'input', () => `martian: ${bad}: dropped`);
    d.error = 'EINVAL';
    return d;
  }
  if (ctx.family === 4 && (p.dst.value === 0xffffffffn || (p.src.value === 0n && p.dst.value === 0n))) {
    // ip_route_input_slow: the limited broadcast goes to brd_input without a lookup;
    // a non-zero source is validated (fib_validate_source with daddr 0, oif 0).
    if (p.src.value !== 0n && !validateSource(w, { ...rpfInput(p, iif, undefined, ctx), dst: ZERO4 }, ctx.trace)) {
      d.error = 'EINVAL';
      return d;
    }
    d.outcome = 'local';
    note(ctx, 'route', () => 'limited broadcast, delivered to this host');
    return d;
  }
  // Protocol and ports are in the flow only when some rule needs them
  // (fib4_rules_early_flow_dissect); IPv6 `ip route get` passes them as given.
  const dissect = ctx.family === 6 || w.rulesUsePorts[4];
  const flow: Flow = {
    family: ctx.family,
    src: p.src,
    dst: p.dst,
    iif,
    mark: p.mark,
    tos: ctx.pkt.tos ?? 0,
    uid: 0,
    proto: dissect ? p.proto : 0,
    sport: dissect ? p.sport : 0,
    dport: dissect ? p.dport : 0,
  };
  const res = fibLookup(w, flow, ctx.trace);
  const fwd = forwardingOn(w, ctx.family, iif);
  if (!res.ok) {
    fromFailure(d, res);
    if (ctx.family === 4 && !fwd) {
      d.error = 'EHOSTUNREACH';
      note(ctx, 'input', () => `forwarding is off on ${iif}: host unreachable`);
    }
    return d;
  }
  const hit = res.hit;
  fromHit(d, hit, ctx.trace !== null);
  const type = hit.type;
  if (type === 'local' || type === 'broadcast') {
    // brd_input validates the source against daddr 0 (ip_route_input_slow), local_input against the destination.
    const rpf = { ...rpfInput(p, iif, undefined, ctx), ...(type === 'broadcast' ? { dst: ZERO4 } : {}) };
    if (ctx.family === 4 && !validateSource(w, rpf, ctx.trace)) {
      d.error = 'EINVAL';
      return d;
    }
    d.outcome = 'local';
    note(ctx, 'route', () => `${type === 'local' ? 'delivered to this host' : 'broadcast, delivered to this host'} (${d.route})`);
    return d;
  }
  if (!fwd) {
    d.error = ctx.family === 4 ? 'EHOSTUNREACH' : null;
    note(ctx, 'input', () => `forwarding is off${ctx.family === 4 ? ` on ${iif}` : ' (net.ipv6.conf.all.forwarding=0)'}: not forwarded`);
    return d;
  }
  if (type !== 'unicast') {
    d.error = 'EINVAL';
    note(ctx, 'route', () => `${type} route on input: dropped`);
    return d;
  }
  if (ctx.family === 4) {
    // __mkroute_input checks the source with the device of the nexthop the hash
    // picked (FIB_RES_OIF): each device of a multipath route is judged on its own.
    const devs = hit.nexthops.length === 1 ? [hit.nexthops[0]!.dev] : [...new Set(hit.nexthops.map((n) => n.dev))];
    const accepted = devs.length === 1 ? devs : devs.filter((dev) => validateSource(w, rpfInput(p, iif, dev, ctx), null));
    if (accepted.length === 0 || accepted.length === devs.length) {
      if (!validateSource(w, rpfInput(p, iif, devs[0], ctx), ctx.trace)) {
        d.error = 'EINVAL';
        return d;
      }
    } else {
      refuse(d, hit.nexthops, (n) => !accepted.includes(n.dev), 'EINVAL');
      note(
        ctx,
        'rp_filter',
        () =>
          `the reverse-path check passes leaving by ${accepted.join(', ')} but not by ${devs.filter((x) => !accepted.includes(x)).join(', ')}: it depends on the nexthop the hash picks`,
      );
    }
  }
  d.outcome = 'forward';
  note(ctx, 'route', () => `forwarded via ${describeNexthops(hit.nexthops)}`);
  postrouting(ctx, d, p, hit);
  return d;
}

function local(ctx: Ctx, p: NfPacket): Decision {
  const { w, pkt } = ctx;
  const bound = pkt.src && !isUnspecified(p.src) ? p.src : null;
  note(
    ctx,
    'packet',
    () =>
      `${bound ? formatAddress(bound) : '(no source yet)'} → ${formatAddress(p.dst)} ${protoText(p)} sent by this host${p.mark ? ` with socket mark ${hex(p.mark)}` : ''}${pkt.oif ? ` bound to ${pkt.oif}` : ''}`,
  );
  const d = base(ctx, p.mark);
  // ip_route_output_key_hash_rcu refuses a source that is no local address (__ip_dev_find);
  // the IPv6 output lookup has no such check (ip6_route_output_flags: the socket's bind does it).
  if (bound && ctx.family === 4 && !ownAddress(w, bound)) {
    d.error = 'ENETUNREACH';
    note(ctx, 'output', () => `source ${formatAddress(bound)} is not an address of this host`);
    return d;
  }
  // ip_route_output_key_hash_rcu: a bound device that is down fails before any lookup.
  if (pkt.oif && ctx.family === 4 && w.links.get(pkt.oif)?.up === false) {
    d.error = 'ENETUNREACH';
    note(ctx, 'output', () => `the socket is bound to ${pkt.oif}, which is down`);
    return d;
  }
  const lookup = (mark: number) =>
    fibLookup(
      w,
      {
        family: ctx.family,
        src: bound,
        dst: p.dst,
        iif: 'lo',
        ...(pkt.oif ? { oif: pkt.oif } : {}),
        mark,
        tos: pkt.tos ?? 0,
        uid: pkt.uid ?? 0,
        proto: p.proto,
        sport: p.sport,
        dport: p.dport,
      },
      ctx.trace,
    );
  // __mkroute_output: a loopback source may leave only through lo, unless route_localnet
  // is set (all or the output device).
  const loopbackRefused = (dev: string | undefined) =>
    Boolean(bound && ctx.family === 4 && inNet(bound, '127.0.0.0/8') && dev !== 'lo' && !devConf(w, dev ?? 'lo').routeLocalnet);
  const loopbackSourceRefused = (hops: Nexthop[]): boolean => {
    const refused = hops.filter((n) => loopbackRefused(n.dev));
    if (refused.length === 0) return false;
    if (refused.length < hops.length) {
      refuse(d, hops, (n) => loopbackRefused(n.dev), 'EINVAL');
      note(
        ctx,
        'output',
        () =>
          `source ${formatAddress(bound!)} is a loopback address: refused on ${refused.map((n) => n.dev).join(', ')} (depends on the nexthop the hash picks)`,
      );
      return false;
    }
    note(
      ctx,
      'output',
      () => `source ${formatAddress(bound!)} is a loopback address and ${hops.map((n) => n.dev).join('/')} is not lo (route_localnet=0): invalid`,
    );
    return true;
  };
  let res = lookup(p.mark);
  if (!res.ok) {
    if (pkt.oif && ctx.family === 4) {
      if (loopbackRefused(pkt.oif)) {
        note(ctx, 'output', () => `source ${formatAddress(bound!)} is a loopback address and ${pkt.oif} is not lo (route_localnet=0): invalid`);
        d.error = 'EINVAL';
        return d;
      }
      // With a bound device and no route, the output path assumes the destination is on-link.
      const src = bound ?? onLinkSource(w, pkt.oif);
      d.src = src ? formatAddress(src) : null;
      note(ctx, 'output', () => `no route, but the socket is bound to ${pkt.oif}: sent on-link${d.src ? ` from ${d.src}` : ''}`);
      d.outcome = 'forward';
      d.dev = pkt.oif;
      d.nexthops = [{ gateway: null, dev: pkt.oif, weight: 1 }];
      return d;
    }
    return fromFailure(d, res);
  }
  fromHit(d, res.hit);
  if (res.hit.route.type !== 'local' && loopbackSourceRefused(res.hit.nexthops)) {
    return { ...d, error: 'EINVAL', dev: null, gateway: null, nexthops: [] };
  }
  if (res.hit.route.type === 'local' || res.hit.route.type === 'broadcast') {
    d.outcome = 'local';
    d.src = formatAddress(bound ?? (res.hit.route.prefsrc ? parseAddress(res.hit.route.prefsrc)! : p.dst));
    note(ctx, 'route', () => `delivered to this host (${d.route})`);
    return d;
  }
  res = { ok: true, hit: multipathSources(ctx, d, res.hit, bound, p.dst) };
  const chosen = bound ?? routeSource(w, res.hit.route, res.hit.nexthops[0], p.dst);
  d.src = chosen ? formatAddress(chosen) : null;
  // OUTPUT: a route-type chain that changes the mark reroutes; the source chosen first is kept.
  const out = w.state.program
    ? runHook(
        w.state.program,
        'output',
        { ...p, src: chosen ?? p.src, oif: res.hit.nexthops[0]?.dev },
        { types: ['route'], addrType: (a) => addrTypeOf(w, a), trace: ctx.trace },
      )
    : null;
  if (out?.verdict === 'drop') return d;
  if (out && out.mark !== p.mark) {
    d.policy = out.markedBy;
    d.mark = out.mark;
    note(ctx, 'output', () => `mark changed to ${hex(out.mark)} in OUTPUT: routed again (source ${d.src ?? 'unchanged'} kept)`);
    res = lookup(out.mark);
    if (!res.ok) return fromFailure({ ...d, rule: null, table: null, route: null, dev: null, gateway: null, nexthops: [] }, res);
    fromHit(d, res.hit);
  }
  d.outcome = 'forward';
  note(ctx, 'route', () => `sent via ${describeNexthops(res.hit.nexthops)} from ${d.src ?? '?'}`);
  postrouting(ctx, d, { ...p, src: chosen ?? p.src, mark: d.mark }, res.hit);
  return d;
}

/**
 * The host's own packet by a multipath route: the kernel picks a nexthop by
 * hash and takes that nexthop's source. With a bound IPv4 source, output
 * lookups (Linux 6.16+) prefer the nexthops whose own source it is
 * (fib_select_multipath scores nh_saddr == saddr first): only those remain.
 * Without one, the source of each nexthop is given (Decision.sources).
 */
function multipathSources(ctx: Ctx, d: Decision, hit: Hit, bound: Address | null, dst: Address): Hit {
  if (hit.nexthops.length < 2) return hit;
  const own = (nh: Nexthop) => routeSource(ctx.w, { ...hit.route, prefsrc: undefined }, nh, dst);
  if (!bound) {
    d.sources = hit.nexthops.map((nh) => {
      const a = routeSource(ctx.w, hit.route, nh, dst);
      return { dev: nh.dev ?? null, gateway: nh.gateway ?? null, src: a ? formatAddress(a) : null };
    });
    return hit;
  }
  if (ctx.family !== 4) return hit;
  const preferred = hit.nexthops.filter((nh) => own(nh)?.value === bound.value);
  if (preferred.length === 0 || preferred.length === hit.nexthops.length) return hit;
  note(
    ctx,
    'route',
    () =>
      `the bound source ${formatAddress(bound)} is the source of ${describeNexthops(preferred)}: the kernel prefers ${preferred.length > 1 ? 'those nexthops' : 'that nexthop'}`,
  );
  const narrowed = { ...hit, nexthops: preferred };
  fromHit(d, narrowed, ctx.trace !== null);
  return narrowed;
}

const ctxTypes = (s: CtState): ('filter' | 'nat' | 'route')[] => (s === 'new' ? ['filter', 'nat', 'route'] : ['filter', 'route']);

function forwardingOn(w: World, family: Family, dev: string): boolean {
  if (family === 6) return Number(w.sysctl('net/ipv6/conf/all/forwarding') ?? '0') === 1;
  return devConf(w, dev).forwarding;
}

const isUnspecified = (a: Address) => a.value === 0n;
const ZERO4: Address = { family: 4, value: 0n };

function rpfInput(p: NfPacket, dev: string, oif: string | undefined, ctx: Ctx) {
  return { src: p.src, dst: p.dst, dev, oif, mark: p.mark, tos: ctx.pkt.tos ?? 0, proto: p.proto, sport: p.sport, dport: p.dport };
}

function describeNexthops(n: Nexthop[]): string {
  const one = (h: Nexthop) => `${h.gateway ? `${h.gateway} ` : ''}dev ${h.dev ?? '?'}`;
  return n.length === 1 ? one(n[0]!) : `one of ${n.map(one).join(' | ')} (multipath)`;
}

const PROTO_NAMES: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6', 132: 'sctp' };
function protoText(p: NfPacket): string {
  const name = PROTO_NAMES[p.proto] ?? `proto ${p.proto}`;
  return p.sport || p.dport ? `${name} ${p.sport || '*'}→${p.dport || '*'}` : name;
}

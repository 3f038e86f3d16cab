// Reverse-path filtering (net/ipv4/fib_frontend.c fib_validate_source and
// __fib_validate_source), reference §3. IPv4 only: IPv6 has no rp_filter sysctl.
import { formatAddress, type Address } from '../net/ip.js';
import { fibLookup, type Flow } from './fib.js';
import type { TraceStep } from './types.js';
import { devConf, type World } from './world.js';

export interface RpfInput {
  src: Address;
  dst: Address;
  /** arrival device */
  dev: string;
  /** output device of the forward route; undefined for local delivery (the reverse lookup then comes "from" lo) */
  oif?: string;
  mark: number;
  tos: number;
  proto: number;
  sport: number;
  dport: number;
}

/** true: the source is acceptable; false: the kernel drops it as a martian (ip route get: EINVAL). */
export function validateSource(w: World, p: RpfInput, trace: TraceStep[] | null): boolean {
  const conf = devConf(w, p.dev);
  if (conf.rpFilter === 0 && (p.dev !== p.oif || !conf.sendRedirects)) {
    if (conf.acceptLocal) return true;
    // Once a rule or a local route has been added, the kernel always runs the full check (kernel-flags.ts).
    const { customRules, customLocalRoutes } = w.fibFlags4;
    if (customRules !== true && customLocalRoutes !== true) {
      const fast = fastCheck(w, p, trace);
      if (trace && (customRules === null || customLocalRoutes === null)) {
        const full = fullCheck(w, p, null);
        if (full !== fast)
          trace.push({
            stage: 'rp_filter',
            text: `assumed: no rule changed and no local route added since boot (a dump cannot show it); if one has, the full reverse-path check ${full ? 'accepts' : 'drops'} this packet`,
          });
      }
      return fast;
    }
  }
  return fullCheck(w, p, trace);
}

/** The fast path with rp_filter off: only a source that is one of this host's addresses is refused. */
function fastCheck(w: World, p: RpfInput, trace: TraceStep[] | null): boolean {
  const local = isLocalAddress(w, p.src);
  if (local && trace) trace.push({ stage: 'rp_filter', text: `source ${fmt(p.src)} is one of this host's addresses: dropped` });
  return !local;
}

/** __fib_validate_source: the reverse lookup and its verdict. */
function fullCheck(w: World, p: RpfInput, trace: TraceStep[] | null): boolean {
  const conf = devConf(w, p.dev);
  const rpf = conf.rpFilter;
  const useMark = conf.srcValidMark;
  const dissect = w.rulesUsePorts[4];
  const reverse: Flow = {
    family: 4,
    src: p.dst,
    dst: p.src,
    iif: p.oif ?? 'lo',
    mark: useMark ? p.mark : 0,
    tos: p.tos,
    uid: 0,
    proto: dissect ? p.proto : 0,
    sport: dissect ? p.dport : 0,
    dport: dissect ? p.sport : 0,
  };
  const mode = rpf === 1 ? 'strict' : rpf === 2 ? 'loose' : 'off';
  const res = fibLookup(w, reverse, null);
  const noAddr = !(w.links.get(p.dev)?.addresses.some((a) => a.family === 4) ?? true);
  if (!res.ok) {
    if (rpf && trace)
      trace.push({
        stage: 'rp_filter',
        text: `rp_filter ${mode}: no route back to ${fmt(p.src)}${useMark ? ` with mark 0x${p.mark.toString(16)}` : ' (mark ignored: src_valid_mark=0)'}: dropped`,
      });
    return rpf === 0;
  }
  const hit = res.hit;
  if (hit.type !== 'unicast' && !(hit.type === 'local' && conf.acceptLocal)) {
    if (trace) trace.push({ stage: 'rp_filter', text: `rp_filter: the route back to ${fmt(p.src)} is ${hit.type}: dropped` });
    return false;
  }
  const devs = hit.hops.map((n) => n.dev);
  if (devs.includes(p.dev) || (hit.type === 'local' && p.dev === 'lo')) {
    if (rpf && trace)
      trace.push({
        stage: 'rp_filter',
        text: `rp_filter ${mode}: the route back to ${fmt(p.src)} uses ${p.dev}${useMark ? ` (mark 0x${p.mark.toString(16)})` : ''}: ok`,
      });
    return true;
  }
  if (noAddr) return rpf === 0;
  if (rpf === 1) {
    if (trace)
      trace.push({
        stage: 'rp_filter',
        text: `rp_filter strict: the route back to ${fmt(p.src)}${useMark ? ` with mark 0x${p.mark.toString(16)}` : ' (mark ignored: src_valid_mark=0)'} leaves by ${devs.join(',')}, not ${p.dev}: dropped`,
      });
    return false;
  }
  if (rpf === 2 && trace) trace.push({ stage: 'rp_filter', text: `rp_filter loose: a route back to ${fmt(p.src)} exists: ok` });
  return true;
}

const fmt = formatAddress;

export function isLocalAddress(w: World, a: Address): boolean {
  const idx = w.tables[a.family].get(255);
  if (!idx) return false;
  for (const { length, routes } of idx.matches(a)) {
    if (length === (a.family === 4 ? 32 : 128) && routes.some((r) => r.type === 'local')) return true;
  }
  return false;
}

// The text of `ip route show [table all|N]` / `ip -6 route show …` (with or
// without -d, -N) → RouteState[]. Each route (with its indented `nexthop`
// lines) becomes the object `ip -json route show` would have printed and goes
// through from-ip-json.ts. `cache` lines are ignored. Checked against
// iproute2 6.1's print_route output.
import { parsePrefix } from '../../net/ip.js';
import type { RouteState } from '../types.js';
import { linesOf, type Line } from './common.js';
import { ImportError, lineOf, sourceOf } from './errors.js';
import { FieldError, Words, routeObjectFamily, toRoute, type J } from './ip-common.js';
import type { IpTextOptions } from './ip-rule-text.js';

export interface IpRouteTextOptions extends IpTextOptions {
  /** table of routes that print none: main (the default) for `table all` and `table main`, N for `table N` */
  table?: number;
}

const TYPES = ['unicast', 'local', 'broadcast', 'anycast', 'multicast', 'blackhole', 'unreachable', 'prohibit', 'throw', 'nat'];
const FLAGS = new Set(['dead', 'onlink', 'pervasive', 'offload', 'trap', 'notify', 'linkdown', 'unresolved', 'rt_offload', 'rt_trap', 'rt_offload_failed']);
/** route metrics and other attributes with one value (some with an optional "lock") that do not change the route chosen */
const SKIP_ONE = new Set([
  'mtu',
  'advmss',
  'rtt',
  'rttvar',
  'reordering',
  'window',
  'cwnd',
  'initcwnd',
  'initrwnd',
  'ssthresh',
  'rto_min',
  'hoplimit',
  'features',
  'quickack',
  'congctl',
  'fastopen_no_cookie',
  'realm',
  'realms',
  'nhid',
  'expires',
  'error',
  'ttl-propagate',
  'hoplimit',
  'used',
  'age',
  'users',
  'ipid',
]);

const isDst = (w: string): boolean => w === 'default' || (/[.:]/.test(w) && parsePrefix(w).ok);

/** The words of one route line (or of its `nexthop` lines) → the ip -json object; null for a cached clone. */
function routeLineObject(words: string[]): J | null {
  const o: J = { flags: [] };
  const c = new Words(words);
  if (TYPES.includes(words[0]!)) o.type = words[c.at++];
  else if (/^\d+$/.test(words[0]!) && words.length > 1) o.type = words[c.at++]; // ip -N prints the type as a number
  const dst = words[c.at++];
  if (dst === undefined || !isDst(dst)) throw new FieldError(`expected a destination ("default" or a prefix), found "${dst ?? ''}"`);
  o.dst = dst;
  let target: J = o; // the nexthop that via/dev/weight/flags belong to
  for (; c.at < words.length; c.at++) {
    const w = words[c.at]!;
    switch (w) {
      case 'via': {
        let v = c.value(w);
        if (v === 'inet' || v === 'inet6') v = c.value(w);
        target.gateway = v;
        break;
      }
      case 'dev':
        target.dev = c.value(w);
        break;
      case 'weight':
        if (target === o) throw new FieldError('"weight" outside a nexthop');
        target.weight = Number(c.value(w));
        break;
      case 'nexthop':
        target = { flags: [] };
        ((o.nexthops ??= []) as J[]).push(target);
        break;
      case 'table':
      case 'tos':
      case 'scope':
        o[w] = c.value(w);
        break;
      case 'proto':
        o.protocol = c.value(w);
        break;
      case 'src':
        o.prefsrc = c.value(w);
        break;
      case 'metric':
      case 'preference':
        o.metric = Number(c.value(w));
        break;
      case 'pref':
        o.pref = c.value(w);
        break;
      case 'from':
        o.from = c.value(w);
        break;
      case 'cache':
        return null;
      case 'encap':
        throw new FieldError('routes with encap are not supported');
      default:
        if (FLAGS.has(w)) (target.flags as string[]).push(w);
        else if (SKIP_ONE.has(w)) {
          if (words[c.at + 1] === 'lock') c.at++;
          c.value(w);
        } else throw new FieldError(`unknown word "${w}"`);
    }
  }
  return o;
}

export const looksLikeRouteLine = (text: string): boolean => {
  const w = text.trim().split(/\s+/);
  const first = TYPES.includes(w[0]!) || /^\d+$/.test(w[0]!) ? w[1] : w[0];
  return first !== undefined && isDst(first);
};

export function parseIpRouteText(text: string, opts: IpRouteTextOptions = {}): RouteState[] {
  const src = sourceOf(opts);
  const routes: { line: Line; o: J }[] = [];
  let last: { line: Line; o: J } | null = null; // null also after a cached clone, whose nexthops are skipped
  let skipping = false;
  for (const line of linesOf(text)) {
    const t = line.text.trim();
    if (t === '' || (t.startsWith('#') && !/^\s/.test(line.text))) continue;
    const fail = (reason: string) => new ImportError(src, lineOf(opts, line.index), line.text, reason);
    try {
      if (/^\s/.test(line.text)) {
        const words = t.split(/\s+/);
        if (words[0] === 'cache') continue; // cache details of the route above
        if (words[0] !== 'nexthop') throw fail('an indented line that is not a "nexthop" or "cache" line');
        if (skipping) continue;
        if (!last) throw fail('a "nexthop" line without a route above it');
        const nh = routeLineObject(['default', ...words]);
        ((last.o.nexthops ??= []) as J[]).push(...((nh?.nexthops as J[]) ?? []));
        continue;
      }
      const words = t.split(/\s+/);
      if (words[0] === 'cache') {
        skipping = true;
        continue;
      }
      const o = routeLineObject(words);
      skipping = o === null;
      last = o ? { line, o } : null;
      if (last) routes.push(last);
    } catch (e) {
      if (e instanceof FieldError) throw fail(e.message);
      throw e;
    }
  }
  return routes.map(({ line, o }) => {
    const family = routeObjectFamily(o) ?? opts.family ?? opts.familyHint ?? 4;
    if (opts.family && routeObjectFamily(o) && routeObjectFamily(o) !== opts.family) {
      throw new ImportError(src, lineOf(opts, line.index), line.text, `an IPv${routeObjectFamily(o)} route in an IPv${opts.family} dump`);
    }
    try {
      return toRoute(o, family, opts.table, opts.tableNames);
    } catch (e) {
      if (e instanceof FieldError) throw new ImportError(src, lineOf(opts, line.index), line.text, e.message);
      throw e;
    }
  });
}

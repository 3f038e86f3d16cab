// The lookup inside one routing table, IPv4 (net/ipv4/fib_trie.c
// fib_table_lookup, reference §2); IPv6 is in table-lookup6.ts. Pure.
import type { Nexthop } from '../state/types.js';
import { MISS, ROUTE_ERRORS, type Flow, type TableOutcome } from './lookup-common.js';
import type { TableIndex } from './table-index.js';
import { tableLookup6 } from './table-lookup6.js';
import { devConf, type World } from './world.js';

export type { Flow };

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

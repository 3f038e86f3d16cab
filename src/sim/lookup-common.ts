// What the lookup in one table (table-lookup.ts, table-lookup6.ts) and the rules
// (fib.ts) share: the flow, a table's outcome, and a route's nexthops.
import type { Address, Family } from '../net/ip.js';
import type { Nexthop, RouteState } from '../state/types.js';
import type { Errno } from './types.js';

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

export type TableOutcome =
  | { kind: 'miss' }
  | { kind: 'throw'; route: RouteState }
  | { kind: 'error'; error: Exclude<Errno, null>; route: RouteState }
  | { kind: 'route'; route: RouteState; type: RouteState['type']; hops: Nexthop[]; length: number; nexthops: Nexthop[] };

/** No route in the table: one shared object, a lookup that misses allocates nothing. */
export const MISS: TableOutcome = { kind: 'miss' };

export const ROUTE_ERRORS: Partial<Record<RouteState['type'], Exclude<Errno, null>>> = {
  unreachable: 'EHOSTUNREACH',
  prohibit: 'EACCES',
  blackhole: 'EINVAL',
};

/**
 * A single-nexthop route's nexthop, made once per route and kept on the route
 * under a symbol (invisible to JSON and to equality of State): a WeakMap
 * lookup per packet was a tenth of the simulator's time.
 */
const HOPS = Symbol('nexthops');
export function hopsOf(r: RouteState): Nexthop[] {
  if (r.nexthops) return r.nexthops;
  const cached = (r as RouteState & { [HOPS]?: Nexthop[] })[HOPS];
  if (cached) return cached;
  const h: Nexthop[] = [{ gateway: r.gateway, dev: r.dev, weight: 1, flags: r.flags }];
  Object.defineProperty(r, HOPS, { value: h, enumerable: false });
  return h;
}

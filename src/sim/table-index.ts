// The routes of one table, found by destination: every matching prefix,
// longest first, each with its routes in the kernel's order (TOS descending,
// then metric ascending, then insertion order). Backed by the longest-prefix
// match index of src/net/lpm.ts: DIR-24-8 (Lpm4) for big IPv4 tables, so a
// 1M-route table stays fast; the hash-per-length index (Lpm6) for IPv6 and for
// small IPv4 tables (mapped into ::ffff:0:0/96), whose 64 MB DIR-24-8 array
// would be wasted on a handful of routes.
import { Lpm4, Lpm6, parseIpv4Prefix, parseIpv6Prefix } from '../net/lpm.js';
import type { Address, Family } from '../net/ip.js';
import type { RouteState } from '../state/types.js';

/** IPv4 tables with at least this many routes use DIR-24-8. */
export const DIR24_THRESHOLD = 4096;
const V4_MAPPED = 0xffffn << 32n;

export class TableIndex {
  private readonly staged: { network: number; length: number; route: RouteState }[] = [];
  private v4: Lpm4<RouteState> | null = null;
  private readonly v6 = new Lpm6<RouteState>();
  /** entry id → routes in lookup order, only for prefixes holding several routes */
  private readonly ordered = new Map<number, RouteState[]>();
  size = 0;

  constructor(readonly family: Family) {}

  add(r: RouteState): void {
    if (this.family === 4) {
      const p = parseIpv4Prefix(r.dst);
      if (!p) return; // a destination the kernel could not hold either
      this.staged.push({ network: p.network, length: p.length, route: r });
    } else {
      const p = parseIpv6Prefix(r.dst === 'default' ? '::/0' : r.dst);
      if (!p) return;
      this.v6.add(p.network, p.length, r);
    }
    this.size++;
  }

  build(): void {
    if (this.family === 4 && this.staged.length >= DIR24_THRESHOLD) {
      const v4 = (this.v4 = new Lpm4<RouteState>());
      for (const x of this.staged) v4.add(x.network, x.length, x.route);
    } else {
      for (const x of this.staged) this.v6.add(V4_MAPPED | BigInt(x.network >>> 0), 96 + x.length, x.route);
    }
    this.staged.length = 0;
    const lpm = this.v4 ?? this.v6;
    lpm.build();
    for (let id = 0; id < lpm.size; id++) {
      if (lpm.valueCount(id) < 2) continue;
      // Array.prototype.sort is stable: equal keys keep insertion order.
      const list = lpm.valuesOf(id).sort((a, b) => (this.family === 4 ? b.tos - a.tos : 0) || a.metric - b.metric);
      this.ordered.set(id, list);
    }
  }

  private routesOf(id: number): RouteState[] {
    const lpm = this.v4 ?? this.v6;
    return this.ordered.get(id) ?? [lpm.valueAt(id, 0)];
  }

  /** Routes at each prefix that contains `a`, longest prefix first. */
  *matches(a: Address): Generator<{ length: number; routes: RouteState[] }> {
    const v4 = this.v4;
    if (v4) {
      for (let id = v4.longest(Number(a.value)); id >= 0; id = v4.parent(id)) yield { length: v4.lengthOf(id), routes: this.routesOf(id) };
      return;
    }
    const key = this.family === 4 ? V4_MAPPED | a.value : a.value;
    const shift = this.family === 4 ? 96 : 0;
    for (let id = this.v6.longest(key); id >= 0; id = this.v6.parent(id)) {
      const length = this.v6.lengthOf(id) - shift;
      if (length < 0) break; // ::/0 and other non-mapped prefixes never hold IPv4 routes here
      yield { length, routes: this.routesOf(id) };
    }
  }
}

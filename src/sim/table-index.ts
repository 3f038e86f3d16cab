// The routes of one table, found by destination: every matching prefix,
// longest first, each with its routes in the kernel's order (TOS descending,
// then metric ascending, then insertion order). Backed by the longest-prefix
// match index of src/net/lpm.ts: DIR-24-8 (Lpm4) for big IPv4 tables, so a
// 1M-route table stays fast; a Map per prefix length for small IPv4 tables,
// whose 64 MB DIR-24-8 array would be wasted on a handful of routes; Lpm6 for IPv6.
import { Lpm4, Lpm6, parseIpv4Prefix, parseIpv6Prefix } from '../net/lpm.js';
import { v4Number, type Address, type Family } from '../net/ip.js';
import type { Nexthop, RouteState, RouteType } from '../state/types.js';

const ROUTE_TYPES: RouteType[] = ['unicast', 'local', 'broadcast', 'anycast', 'multicast', 'blackhole', 'unreachable', 'prohibit', 'throw', 'nat'];

/**
 * A small IPv4 table: one Map per present prefix length (number keys), probed
 * longest first, with each entry's parent (next shorter match) found at build.
 */
class SmallLpm4<T> {
  private readonly staged: { network: number; length: number; value: T }[] = [];
  private lengths: number[] = [];
  private maps: Map<number, number>[] = [];
  private eLen: number[] = [];
  private eNet: number[] = [];
  private ePar: number[] = [];
  private eVals: T[][] = [];

  add(network: number, length: number, value: T): void {
    this.staged.push({ network: network >>> 0, length, value });
  }

  get size(): number {
    return this.eLen.length;
  }

  build(): void {
    const byKey = new Map<string, number>();
    for (const x of this.staged) {
      const k = `${x.network}/${x.length}`;
      let id = byKey.get(k);
      if (id === undefined) {
        id = this.eLen.length;
        byKey.set(k, id);
        this.eLen.push(x.length);
        this.eNet.push(x.network);
        this.eVals.push([]);
      }
      this.eVals[id]!.push(x.value);
    }
    this.staged.length = 0;
    this.lengths = [...new Set(this.eLen)].sort((a, b) => b - a);
    const mapOf = new Map(this.lengths.map((l) => [l, new Map<number, number>()]));
    this.eLen.forEach((len, id) => mapOf.get(len)!.set(this.eNet[id]!, id));
    this.maps = this.lengths.map((l) => mapOf.get(l)!);
    this.ePar = this.eLen.map((len, id) => this.probe(this.eNet[id]!, this.lengths.indexOf(len) + 1));
    if (this.eLen.length <= SCAN_LIMIT) {
      // longest first, so the first hit is the longest match
      const order = this.eLen.map((_, id) => id).sort((a, b) => this.eLen[b]! - this.eLen[a]!);
      this.scanNet = Uint32Array.from(order, (id) => this.eNet[id]!);
      this.scanMask = Uint32Array.from(order, (id) => (this.eLen[id] === 0 ? 0 : (0xffffffff << (32 - this.eLen[id]!)) >>> 0));
      this.scanId = Int32Array.from(order);
    }
  }

  /** Few entries (a local table, a provider table): a linear scan beats probing one Map per length. */
  private scanNet = new Uint32Array(0);
  private scanMask = new Uint32Array(0);
  private scanId = new Int32Array(0);

  private probe(addr: number, from: number): number {
    if (from === 0 && this.scanId.length > 0) {
      for (let i = 0; i < this.scanId.length; i++) if ((addr & this.scanMask[i]!) >>> 0 === this.scanNet[i]) return this.scanId[i]!;
      return -1;
    }
    for (let i = from; i < this.lengths.length; i++) {
      const len = this.lengths[i]!;
      const key = len === 0 ? 0 : (addr & (0xffffffff << (32 - len))) >>> 0;
      const id = this.maps[i]!.get(key);
      if (id !== undefined) return id;
    }
    return -1;
  }

  longest(addr: number): number {
    return this.probe(addr >>> 0, 0);
  }
  parent(id: number): number {
    return this.ePar[id] ?? -1;
  }
  lengthOf(id: number): number {
    return this.eLen[id]!;
  }
  valueCount(id: number): number {
    return this.eVals[id]!.length;
  }
  valueAt(id: number, k: number): T {
    return this.eVals[id]![k]!;
  }
  valuesOf(id: number): T[] {
    return [...this.eVals[id]!];
  }
}

const SCAN_LIMIT = 24;
/** 20 bits of the packed route word: distinct nexthop sets in one table (a full feed has a handful) */
const MAX_HOP_SETS = 0xfffff;

/** IPv4 tables with at least this many routes use DIR-24-8. */
export const DIR24_THRESHOLD = 4096;
export class TableIndex {
  private readonly staged: { network: number; length: number; route: RouteState }[] = [];
  // Exactly one of these backs the table (monomorphic call sites keep lookups fast).
  private big: Lpm4<RouteState> | null = null;
  private small: SmallLpm4<RouteState> | null = null;
  private readonly v6 = new Lpm6<RouteState>();
  /** routes of entry e, in lookup order: flat[start[e]] … flat[start[e + 1] - 1] */
  private flat: RouteState[] = [];
  private start = new Int32Array(1);
  /**
   * The nexthops of flat[i], interned: a full table has millions of routes but few
   * distinct nexthops, so lookups share a handful of arrays and never build one.
   */
  /** flat[i]'s interned nexthop set, its type and TOS, packed in one word (one memory read per route) */
  private meta = new Uint32Array(0);
  private hopSets: Nexthop[][] = [];
  private withFrom = new Uint8Array(0);
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
    let lpm: Lpm4<RouteState> | SmallLpm4<RouteState> | Lpm6<RouteState> = this.v6;
    if (this.family === 4) {
      if (this.staged.length >= DIR24_THRESHOLD) lpm = this.big = new Lpm4<RouteState>();
      else lpm = this.small = new SmallLpm4<RouteState>();
      for (const x of this.staged) lpm.add(x.network, x.length, x.route);
    }
    this.staged.length = 0;
    lpm.build();
    const n = lpm.size;
    this.start = new Int32Array(n + 1);
    const flat: RouteState[] = [];
    for (let id = 0; id < n; id++) {
      this.start[id] = flat.length;
      const count = lpm.valueCount(id);
      if (count === 1) flat.push(lpm.valueAt(id, 0));
      else {
        // Array.prototype.sort is stable: equal keys keep insertion order. The table id
        // counts only where two tables share one trie (IPv4 local merged into main,
        // kernel-flags.ts): like fib_find_alias, table local's routes come first.
        const list = lpm.valuesOf(id).sort((a, b) => b.table - a.table || (this.family === 4 ? b.tos - a.tos : 0) || a.metric - b.metric);
        for (const r of list) flat.push(r);
      }
    }
    this.start[n] = flat.length;
    this.flat = flat;
    // IPv6 source-specific routes (`from`): entries holding any are looked up by source too (table-lookup6.ts).
    this.withFrom = new Uint8Array(n);
    for (let id = 0; id < n; id++) for (let i = this.start[id]!; i < this.start[id + 1]!; i++) if (flat[i]!.from) this.withFrom[id] = 1;
    const ids = new Map<string, number>();
    this.meta = new Uint32Array(flat.length);
    for (let i = 0; i < flat.length; i++) {
      const r = flat[i]!;

      const key = r.nexthops ? JSON.stringify(r.nexthops) : `${r.gateway ?? ''}|${r.dev ?? ''}|${r.flags.join(',')}`;
      let id = ids.get(key);
      if (id === undefined) {
        id = this.hopSets.length;
        ids.set(key, id);
        this.hopSets.push(r.nexthops ?? [{ gateway: r.gateway, dev: r.dev, weight: 1, flags: r.flags }]);
      }
      if (id > MAX_HOP_SETS) throw new Error(`more than ${MAX_HOP_SETS} distinct nexthop sets in one table`);
      // hop set << 12 | type << 8 | tos
      this.meta[i] = ((id << 12) | (ROUTE_TYPES.indexOf(r.type) << 8) | (r.tos & 0xff)) >>> 0;
    }
  }

  typeAt(e: number, k: number): RouteType {
    return ROUTE_TYPES[(this.meta[this.start[e]! + k]! >>> 8) & 0xf]!;
  }

  tosAt(e: number, k: number): number {
    return this.meta[this.start[e]! + k]! & 0xff;
  }

  /** The nexthops of route k at entry e (shared: never modify). */
  hopsAt(e: number, k: number): Nexthop[] {
    return this.hopSets[this.meta[this.start[e]! + k]! >>> 12]!;
  }

  /**
   * Prefix entries containing `a`, longest first, without allocating:
   * `for (let e = idx.first(a); e >= 0; e = idx.next(e))` with lengthAt(e), countAt(e), routeAt(e, k).
   */
  first(a: Address): number {
    if (this.big) return this.big.longest(v4Number(a));
    if (this.small) return this.small.longest(v4Number(a));
    return this.v6.longest(a.value);
  }

  next(e: number): number {
    if (this.big) return this.big.parent(e);
    if (this.small) return this.small.parent(e);
    return this.v6.parent(e);
  }

  lengthAt(e: number): number {
    if (this.big) return this.big.lengthOf(e);
    if (this.small) return this.small.lengthOf(e);
    return this.v6.lengthOf(e);
  }

  countAt(e: number): number {
    return this.start[e + 1]! - this.start[e]!;
  }

  routeAt(e: number, k: number): RouteState {
    return this.flat[this.start[e]! + k]!;
  }

  /** The routes of entry e in lookup order (a copy). */
  routesAt(e: number): RouteState[] {
    return this.flat.slice(this.start[e], this.start[e + 1]);
  }

  /** Some route of entry e has a source prefix (`from`, IPv6 only). */
  hasFrom(e: number): boolean {
    return this.withFrom[e] === 1;
  }

  /** Routes at each prefix that contains `a`, longest prefix first. */
  *matches(a: Address): Generator<{ length: number; routes: RouteState[] }> {
    for (let e = this.first(a); e >= 0; e = this.next(e)) yield { length: this.lengthAt(e), routes: this.routesAt(e) };
  }
}

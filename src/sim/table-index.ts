// The routes of one table, found by destination: every matching prefix,
// longest first, each with its routes in the kernel's order (TOS descending,
// then metric ascending, then insertion order).
import { familyBits, parsePrefix, type Address, type Family } from '../net/ip.js';
import type { RouteState } from '../state/types.js';

export class TableIndex {
  /** prefix length → network value → routes */
  private readonly byLength = new Map<number, Map<bigint, RouteState[]>>();
  private lengths: number[] = [];
  size = 0;

  constructor(readonly family: Family) {}

  add(r: RouteState): void {
    const p = parsePrefix(r.dst === 'default' ? (this.family === 4 ? '0.0.0.0/0' : '::/0') : r.dst);
    if (!p.ok) return; // a destination the kernel could not hold either
    let m = this.byLength.get(p.prefix.length);
    if (!m) this.byLength.set(p.prefix.length, (m = new Map()));
    const list = m.get(p.prefix.value);
    if (list) list.push(r);
    else m.set(p.prefix.value, [r]);
    this.size++;
  }

  build(): void {
    this.lengths = [...this.byLength.keys()].sort((a, b) => b - a);
    for (const m of this.byLength.values()) {
      for (const list of m.values()) {
        // Array.prototype.sort is stable: equal keys keep insertion order.
        list.sort((a, b) => (this.family === 4 ? b.tos - a.tos : 0) || a.metric - b.metric);
      }
    }
  }

  /** Routes at each prefix that contains `a`, longest prefix first. */
  *matches(a: Address): Generator<{ length: number; routes: RouteState[] }> {
    const bits = familyBits(this.family);
    for (const len of this.lengths) {
      const host = BigInt(bits - len);
      const key = (a.value >> host) << host;
      const routes = this.byLength.get(len)!.get(key);
      if (routes) yield { length: len, routes };
    }
  }
}

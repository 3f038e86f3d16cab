// The routes of one family of one table, held compactly: an open-addressing
// hash table over typed arrays (linear probing, backward-shift deletion, no
// tombstones), keyed by destination, prefix length, TOS and metric, each key
// holding the id of its value in a ValuePool. A route costs 16 bytes (IPv4)
// or 28 bytes (IPv6) of key and value id per slot, at most 2 slots per route;
// a full IPv4 table (1M routes) is ~32 MB and no JS object per route. Values
// (how a route forwards) are interned: a BGP table has a handful of distinct
// ones. Pure.
import { formatAddress, type Address } from '../net/ip.js';
import type { RouteKey } from './codec.js';

/** Interned route values (see codec.ts); ids are never reused. */
export class ValuePool {
  private readonly ids = new Map<string, number>();
  private readonly values: string[] = [];
  intern(v: string): number {
    let id = this.ids.get(v);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(v);
      this.ids.set(v, id);
    }
    return id;
  }
  value(id: number): string {
    return this.values[id]!;
  }
  get size(): number {
    return this.values.length;
  }
}

const EMPTY = -1;

export class RouteSet {
  readonly family: 4 | 6;
  /** 32-bit words per key: the address (1 or 4), length|tos<<8, metric */
  private readonly w: number;
  private cap: number;
  private mask: number;
  private keys: Uint32Array;
  private vals: Int32Array;
  private count = 0;
  /** reusable key words for lookups */
  private readonly probe: Uint32Array;

  constructor(family: 4 | 6, expected = 1024) {
    this.family = family;
    this.w = family === 4 ? 3 : 6;
    this.cap = 16;
    while (this.cap < expected * 2) this.cap *= 2;
    this.mask = this.cap - 1;
    this.keys = new Uint32Array(this.cap * this.w);
    this.vals = new Int32Array(this.cap).fill(EMPTY);
    this.probe = new Uint32Array(this.w);
  }

  get size(): number {
    return this.count;
  }

  /** bytes held by the table's arrays */
  get bytes(): number {
    return this.keys.byteLength + this.vals.byteLength;
  }

  private load(k: RouteKey): Uint32Array {
    const p = this.probe;
    const d = k.dst;
    const n = this.w - 2;
    for (let i = 0; i < n; i++) {
      const o = i * 4;
      // missing bytes (a short RTA_DST, or none for a default route) are zeros
      p[i] = (((d[o] ?? 0) << 24) | ((d[o + 1] ?? 0) << 16) | ((d[o + 2] ?? 0) << 8) | (d[o + 3] ?? 0)) >>> 0;
    }
    p[n] = k.len | (k.tos << 8);
    p[n + 1] = k.metric >>> 0;
    return p;
  }

  private hash(p: Uint32Array): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < this.w; i++) h = Math.imul(h ^ p[i]!, 0x01000193) ^ (h >>> 15);
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    return (h ^ (h >>> 13)) & this.mask;
  }

  private find(p: Uint32Array): number {
    const w = this.w;
    for (let s = this.hash(p); ; s = (s + 1) & this.mask) {
      if (this.vals[s] === EMPTY) return -1 - s;
      let eq = true;
      const base = s * w;
      for (let i = 0; i < w; i++) {
        if (this.keys[base + i] !== p[i]) {
          eq = false;
          break;
        }
      }
      if (eq) return s;
    }
  }

  /** The value id at `key`, or -1. */
  get(key: RouteKey): number {
    const s = this.find(this.load(key));
    return s >= 0 ? this.vals[s]! : -1;
  }

  /** Put `value` at `key`; says what changed. */
  set(key: RouteKey, value: number): 'added' | 'changed' | 'same' {
    const p = this.load(key);
    const s = this.find(p);
    if (s >= 0) {
      if (this.vals[s] === value) return 'same';
      this.vals[s] = value;
      return 'changed';
    }
    if ((this.count + 1) * 10 > this.cap * 6) {
      this.grow();
      return this.set(key, value);
    }
    const slot = -1 - s;
    this.keys.set(p, slot * this.w);
    this.vals[slot] = value;
    this.count++;
    return 'added';
  }

  /** Remove `key`; false when it was not there. */
  delete(key: RouteKey): boolean {
    const s = this.find(this.load(key));
    if (s < 0) return false;
    this.removeSlot(s);
    return true;
  }

  /** Backward-shift deletion: later entries of the probe run move up, so lookups need no tombstones. */
  private removeSlot(hole: number): void {
    const w = this.w;
    this.vals[hole] = EMPTY;
    this.count--;
    for (let s = (hole + 1) & this.mask; this.vals[s] !== EMPTY; s = (s + 1) & this.mask) {
      const home = this.hash(this.keys.subarray(s * w, s * w + w));
      // the entry at s may move to the hole if its home is not in (hole, s] cyclically
      const inRange = hole <= s ? home > hole && home <= s : home > hole || home <= s;
      if (inRange) continue;
      this.keys.copyWithin(hole * w, s * w, s * w + w);
      this.vals[hole] = this.vals[s]!;
      this.vals[s] = EMPTY;
      hole = s;
    }
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    const w = this.w;
    this.cap *= 2;
    this.mask = this.cap - 1;
    this.keys = new Uint32Array(this.cap * w);
    this.vals = new Int32Array(this.cap).fill(EMPTY);
    for (let s = 0; s < oldVals.length; s++) {
      if (oldVals[s] === EMPTY) continue;
      const p = oldKeys.subarray(s * w, s * w + w);
      let t = this.hash(p);
      while (this.vals[t] !== EMPTY) t = (t + 1) & this.mask;
      this.keys.set(p, t * w);
      this.vals[t] = oldVals[s]!;
    }
  }

  /** Every entry, as slot numbers (stable while the set is not changed). */
  *slots(): Generator<number> {
    for (let s = 0; s < this.vals.length; s++) if (this.vals[s] !== EMPTY) yield s;
  }

  /** Slot capacity: a `seen` bitmap for drift checks is indexed by slot. */
  get capacity(): number {
    return this.cap;
  }

  /** The slot of `key`, or -1 (for marking it seen). */
  slotOf(key: RouteKey): number {
    const s = this.find(this.load(key));
    return s >= 0 ? s : -1;
  }

  valueAt(slot: number): number {
    return this.vals[slot]!;
  }

  /** The key stored in `slot` (a fresh object: for the few routes a drift repair writes). */
  keyAt(slot: number): RouteKey {
    const w = this.w;
    const base = slot * w;
    const n = w - 2;
    const dst = new Uint8Array(n * 4);
    for (let i = 0; i < n; i++) {
      const x = this.keys[base + i]!;
      dst[i * 4] = x >>> 24;
      dst[i * 4 + 1] = (x >>> 16) & 255;
      dst[i * 4 + 2] = (x >>> 8) & 255;
      dst[i * 4 + 3] = x & 255;
    }
    const lt = this.keys[base + n]!;
    return { family: this.family, dst, len: lt & 255, tos: (lt >>> 8) & 255, metric: this.keys[base + n + 1]! };
  }

  clear(): void {
    this.vals.fill(EMPTY);
    this.count = 0;
  }
}

/** A key's destination bytes as an Address. */
export function keyAddress(k: RouteKey): Address {
  let v = 0n;
  const n = k.family === 4 ? 4 : 16;
  for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(k.dst[i] ?? 0);
  return { family: k.family, value: v };
}

/** The text form of a key, for logs and reports ("10.0.0.0/8", "2001:db8::/32 metric 1024"). */
export function formatKey(k: RouteKey): string {
  const base = k.len === 0 ? 'default' : `${formatAddress(keyAddress(k))}/${k.len}`;
  return `${base}${k.tos ? ` tos ${k.tos}` : ''}${k.metric ? ` metric ${k.metric}` : ''}`;
}

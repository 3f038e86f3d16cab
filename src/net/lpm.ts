// Longest-prefix match (issue 3): the index the route simulator uses to
// reproduce the kernel's FIB lookup in one table. The kernel does not stop at
// the longest matching prefix: when none of its routes is usable (TOS, scope,
// dead nexthop) it backtracks to the next shorter matching prefix. So the
// index gives every matching prefix of an address, longest first:
//
//   for (let id = lpm.longest(addr); id >= 0; id = lpm.parent(id)) {
//     for (let k = 0; k < lpm.valueCount(id); k++) consider(lpm.valueAt(id, k));
//   }
//
// Neither `longest` nor `parent` allocates. Pure: no I/O.
//
// Life cycle: `add` any number of (prefix, value) pairs, then `build()` once;
// the index is frozen after it (`add` throws) and only then answers lookups
// (they throw before it). Several values at one prefix are kept by the index,
// in insertion order, under one entry id.
//
// Entry ids are 0 … size-1, numbered in (network, length) order, so an entry's
// enclosing prefixes have smaller ids than the entry itself.
//
// Lpm4 is DIR-24-8 (Gupta, Lin, McKeown 1998): a 2^24 Int32Array indexed by
// the top 24 address bits holds the id of the longest matching prefix of
// length <= 24, or points to a 256-slot chunk for the /24 blocks that hold
// longer prefixes. A lookup is one array read, two for addresses under a
// prefix longer than /24. Memory, in one ArrayBuffer: 64 MiB for the table,
// 9 bytes per prefix (network, length, parent; +4 when some prefix has several
// values) and 1 KiB per /24 block holding longer prefixes; plus the values, one
// JS array slot (8 bytes) per value.
//
// Lpm6 is a hash per present prefix length, probed from the longest present
// length down (number keys up to /52, bigint keys beyond): simple and
// correct, sized for the ≤ 100k routes of IPv6 tables.

import { parsePrefix } from './ip.js';

// ---------------------------------------------------------------------------
// IPv4 text <-> uint32, without bigint and without regular expressions.

/**
 * Dotted-quad IPv4 text (or the part of `text` between `start` and `end`) as a
 * uint32; -1 when it is not one. Strict like ip.ts: exactly four decimal parts
 * from 0 to 255, no leading zeros, no spaces.
 */
export function ipv4ToInt(text: string, start = 0, end = text.length): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  let first = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits === 0) first = c;
      else if (first === 48) return -1; // leading zero
      if (++digits > 3) return -1;
      part = part * 10 + (c - 48);
      if (part > 255) return -1;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + part;
}

/** A uint32 (an int32 with the same bits is accepted) as dotted-quad text. */
export function intToIpv4(addr: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`;
}

/** The netmask of a prefix length 0…32 as a uint32-bit int32 (`>>> 0` for the unsigned value). */
export function ipv4Mask(length: number): number {
  return length === 0 ? 0 : (-1 << (32 - length)) | 0;
}

export interface Ipv4Prefix {
  /** uint32, host bits zero */
  network: number;
  length: number;
}

/**
 * An IPv4 route destination as `ip -json route` prints it: "default",
 * "192.0.2.1" (a host route, /32) or "192.0.2.0/24". Null when it is not one,
 * or when host bits are set after the length (the kernel refuses those).
 */
export function parseIpv4Prefix(text: string): Ipv4Prefix | null {
  if (text === 'default' || text === '0/0') return { network: 0, length: 0 };
  const slash = text.indexOf('/');
  if (slash < 0) {
    const a = ipv4ToInt(text);
    return a < 0 ? null : { network: a, length: 32 };
  }
  const a = ipv4ToInt(text, 0, slash);
  if (a < 0) return null;
  const n = text.length - slash - 1;
  if (n < 1 || n > 2) return null;
  let length = 0;
  for (let i = slash + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return null;
    length = length * 10 + (c - 48);
  }
  if (length > 32 || (n === 2 && text.charCodeAt(slash + 1) === 48)) return null;
  if ((a & ~ipv4Mask(length)) !== 0) return null;
  return { network: a, length };
}

export interface Ipv6Prefix {
  /** the 128-bit network as a bigint, host bits zero */
  network: bigint;
  length: number;
}

/** An IPv6 route destination ("default", "2001:db8::1", "2001:db8::/32"); null when it is not one (via ip.ts). */
export function parseIpv6Prefix(text: string): Ipv6Prefix | null {
  const r = parsePrefix(text, 6);
  if (!r.ok || r.prefix.family !== 6) return null;
  return { network: r.prefix.value, length: r.prefix.length };
}

// ---------------------------------------------------------------------------

const NOT_BUILT = 'call build() before lookups';
const FROZEN = 'the index is frozen after build()';

/**
 * A buffer for temporaries. From 1 MiB on it is allocated at no less than
 * 33 MiB: glibc's malloc serves such a request with a mapping of its own (its
 * dynamic mmap threshold tops out at 32 MiB) and unmaps it when it is freed,
 * where a smaller block would come from the heap and could stay in the
 * process's resident memory as a hole (~20 MB for 1M routes). Pages never
 * touched cost no memory.
 */
function scratch(bytes: number): ArrayBuffer {
  return new ArrayBuffer(bytes >= 1 << 20 ? Math.max(bytes, 33 << 20) : bytes);
}

/**
 * Stable LSD radix sort of the staged prefixes by (network, length): three
 * counting passes (length, low 16 bits, high 16 bits). Returns the staged
 * indices in order; equal prefixes keep their insertion order.
 */
function sortV4(net: Uint32Array, len: Uint8Array, n: number): Uint32Array {
  const buf = scratch(8 * n + 4 * 65537);
  let src = new Uint32Array(buf, 0, n);
  let dst = new Uint32Array(buf, 4 * n, n);
  const counts = new Int32Array(buf, 8 * n, 65537);
  const byLen = new Int32Array(34);
  for (let i = 0; i < n; i++) byLen[len[i]! + 1]!++;
  for (let k = 1; k < 34; k++) byLen[k]! += byLen[k - 1]!;
  for (let i = 0; i < n; i++) dst[byLen[len[i]!]!++] = i;
  for (const shift of [0, 16]) {
    [src, dst] = [dst, src];
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[((net[src[i]!]! >>> shift) & 0xffff) + 1]!++;
    for (let k = 1; k < 65537; k++) counts[k]! += counts[k - 1]!;
    for (let i = 0; i < n; i++) {
      const idx = src[i]!;
      dst[counts[(net[idx]! >>> shift) & 0xffff]!++] = idx;
    }
  }
  return dst;
}

/** The arrays of a built Lpm4: views of one ArrayBuffer. */
interface Tables4 {
  /** top 24 bits → entry id (>= 0), -1 = no match, <= -2 = chunk (-2 - chunk) */
  tbl24: Int32Array;
  /** 256 slots per chunk: the last 8 bits → entry id or -1 */
  chunks: Int32Array;
  eNet: Uint32Array;
  eLen: Uint8Array;
  ePar: Int32Array;
  /** values of entry i: vals[vStart[i]] … vals[vStart[i + 1] - 1]; null when every prefix has one value (vals[i]) */
  vStart: Int32Array | null;
}

/**
 * Distinct prefixes among the sorted staged ones, and the /24 blocks holding
 * prefixes longer than /24 (the long prefixes of one block are contiguous in
 * this order).
 */
function countV4(order: Uint32Array, sNet: Uint32Array, sLen: Uint8Array, n: number): { entries: number; chunks: number } {
  let m = 0;
  let nChunks = 0;
  let slot = -1;
  for (let i = 0; i < n; i++) {
    const a = order[i]!;
    if (i === 0 || sNet[a] !== sNet[order[i - 1]!] || sLen[a] !== sLen[order[i - 1]!]) m++;
    if (sLen[a]! > 24 && sNet[a]! >>> 8 !== slot) {
      slot = sNet[a]! >>> 8;
      nChunks++;
    }
  }
  return { entries: m, chunks: nChunks };
}

/** Every typed array of the index in one buffer: one allocation, one mapping. `dup`: some prefix has several values. */
function allocTables4(m: number, nChunks: number, dup: boolean): Tables4 {
  const words = (1 << 24) + (nChunks << 8) + 2 * m + (dup ? m + 1 : 0);
  const buf = new ArrayBuffer(words * 4 + m);
  let at = 0;
  const view32 = (count: number): Int32Array => {
    const v = new Int32Array(buf, at, count);
    at += count * 4;
    return v;
  };
  const tbl24 = view32(1 << 24).fill(-1);
  const chunks = view32(nChunks << 8);
  const eNet = new Uint32Array(buf, at, m);
  at += m * 4;
  const ePar = view32(m);
  const vStart = dup ? view32(m + 1) : null;
  const eLen = new Uint8Array(buf, at, m);
  return { tbl24, chunks, eNet, eLen, ePar, vStart };
}

/**
 * The entries: equal staged prefixes merged (their values kept in order in
 * `vals`), each linked to its longest enclosing prefix.
 */
function linkEntries4<T>(order: Uint32Array, sNet: Uint32Array, sLen: Uint8Array, sVal: T[], n: number, t: Tables4, vals: T[]): void {
  const { eNet, eLen, ePar, vStart } = t;
  // Enclosing prefixes of the current one: a chain of distinct lengths, at most 33 deep.
  const stack = new Int32Array(34);
  let top = -1;
  let e = -1;
  for (let i = 0; i < n; i++) {
    const idx = order[i]!;
    const net = sNet[idx]!;
    const len = sLen[idx]!;
    if (e < 0 || net !== eNet[e] || len !== eLen[e]) {
      e++;
      eNet[e] = net;
      eLen[e] = len;
      if (vStart) vStart[e] = i;
      // In (network, length) order every enclosing prefix comes earlier; pop those that do not enclose.
      while (top >= 0) {
        const p = stack[top]!;
        if (((net ^ eNet[p]!) & ipv4Mask(eLen[p]!)) === 0) break;
        top--;
      }
      ePar[e] = top >= 0 ? stack[top]! : -1;
      stack[++top] = e;
    }
    vals[i] = sVal[idx]!;
  }
  if (vStart) vStart[e + 1] = n;
}

/**
 * Top level: in (network, length) order, a nested prefix comes after the
 * prefixes enclosing it, so overwriting leaves the longest in every slot.
 */
function fillTbl24(t: Tables4, m: number): void {
  const { tbl24, eNet, eLen } = t;
  for (let i = 0; i < m; i++) {
    const len = eLen[i]!;
    if (len > 24) continue;
    const s = eNet[i]! >>> 8;
    if (len === 24) tbl24[s] = i;
    else tbl24.fill(i, s, s + (1 << (24 - len)));
  }
}

/** Chunks, filled the same way from the top-level answer of their block. */
function fillChunks(t: Tables4, m: number): void {
  const { tbl24, chunks, eNet, eLen } = t;
  let slot = -1;
  let base = -256;
  for (let i = 0; i < m && chunks.length > 0; i++) {
    const len = eLen[i]!;
    if (len <= 24) continue;
    const net = eNet[i]!;
    const s = net >>> 8;
    if (s !== slot) {
      base += 256;
      chunks.fill(tbl24[s]!, base, base + 256);
      tbl24[s] = -2 - (base >>> 8);
      slot = s;
    }
    const lo = base + (net & 255);
    if (len === 32) chunks[lo] = i;
    else chunks.fill(i, lo, lo + (1 << (32 - len)));
  }
}

/**
 * IPv4 longest-prefix-match index. Addresses and networks are uint32 numbers
 * (an int32 with the same bits is accepted: `(a << 24) | …` works as is).
 */
export class Lpm4<T> {
  // Staging, until build().
  private staged = 0;
  private stNet: Uint32Array | null = new Uint32Array(64);
  private stLen: Uint8Array | null = new Uint8Array(64);
  private stVal: T[] | null = [];

  // The frozen index.
  private built = false;
  /** top 24 bits → entry id (>= 0), -1 = no match, <= -2 = chunk (-2 - chunk) */
  private tbl24: Int32Array = new Int32Array(0);
  /** 256 slots per chunk: the last 8 bits → entry id or -1 */
  private chunks: Int32Array = new Int32Array(0);
  private eNet: Uint32Array = new Uint32Array(0);
  private eLen: Uint8Array = new Uint8Array(0);
  private ePar: Int32Array = new Int32Array(0);
  /** values of entry i: vals[vStart[i]] … vals[vStart[i + 1] - 1]; null when every prefix has one value (vals[i]) */
  private vStart: Int32Array | null = null;
  private vals: T[] = [];
  private entries = 0;

  /** Distinct prefixes in the index (0 until build()). */
  get size(): number {
    return this.entries;
  }

  /** Values added so far (several at one prefix count separately). */
  get totalValues(): number {
    return this.staged;
  }

  /** Number of 256-slot chunks (/24 blocks holding prefixes longer than /24). */
  get chunkCount(): number {
    return this.chunks.length >>> 8;
  }

  /**
   * Add a value at network/length. The network must have its host bits zero;
   * several values at one prefix are kept in insertion order.
   */
  add(network: number, length: number, value: T): void {
    if (this.built) throw new Error(FROZEN);
    if (!Number.isInteger(length) || length < 0 || length > 32) throw new RangeError(`prefix length ${length} must be 0…32`);
    if (!Number.isInteger(network) || network < -0x80000000 || network > 0xffffffff) {
      throw new RangeError(`network ${network} is not a 32-bit address`);
    }
    if ((network & ~ipv4Mask(length)) !== 0) {
      throw new RangeError(`${intToIpv4(network)}/${length} has host bits set`);
    }
    const n = this.staged;
    let net = this.stNet!;
    if (n === net.length) {
      // Networks then lengths in one buffer, 5 bytes per value.
      const buf = scratch(n * 2 * 5);
      const cap = Math.floor(buf.byteLength / 20) * 4;
      const bigger = new Uint32Array(buf, 0, cap);
      bigger.set(net);
      this.stNet = net = bigger;
      const lens = new Uint8Array(buf, cap * 4, cap);
      lens.set(this.stLen!);
      this.stLen = lens;
    }
    net[n] = network >>> 0;
    this.stLen![n] = length;
    this.stVal!.push(value);
    this.staged = n + 1;
  }

  /** Freeze the index: merge equal prefixes, link each entry to its enclosing prefix, fill the tables. */
  build(): void {
    if (this.built) throw new Error(FROZEN);
    const n = this.staged;
    const sNet = this.stNet!;
    const sLen = this.stLen!;
    const order = sortV4(sNet, sLen, n);
    const { entries: m, chunks: nChunks } = countV4(order, sNet, sLen, n);
    const t = allocTables4(m, nChunks, m < n);
    const vals = new Array<T>(n);
    linkEntries4(order, sNet, sLen, this.stVal!, n, t, vals);
    fillTbl24(t, m);
    fillChunks(t, m);

    this.tbl24 = t.tbl24;
    this.chunks = t.chunks;
    this.eNet = t.eNet;
    this.eLen = t.eLen;
    this.ePar = t.ePar;
    this.vStart = t.vStart;
    this.vals = vals;
    this.entries = m;
    this.stNet = null;
    this.stLen = null;
    this.stVal = null;
    this.built = true;
  }

  /** The entry id of the longest prefix containing addr; -1 when none does. */
  longest(addr: number): number {
    if (!this.built) throw new Error(NOT_BUILT);
    const v = this.tbl24[addr >>> 8]!;
    return v < -1 ? this.chunks[((-2 - v) << 8) | (addr & 255)]! : v;
  }

  /** The next shorter prefix containing entry id (so also every address it matched); -1 at the end (and for id -1). */
  parent(id: number): number {
    return this.ePar[id] ?? -1;
  }

  /** Entry ids of every prefix containing addr, longest first (allocates; `longest`/`parent` do not). */
  *matches(addr: number): IterableIterator<number> {
    for (let id = this.longest(addr); id >= 0; id = this.ePar[id]!) yield id;
  }

  /** The network of entry id as a uint32. */
  networkOf(id: number): number {
    this.check(id);
    return this.eNet[id]!;
  }

  lengthOf(id: number): number {
    this.check(id);
    return this.eLen[id]!;
  }

  prefixOf(id: number): Ipv4Prefix {
    this.check(id);
    return { network: this.eNet[id]!, length: this.eLen[id]! };
  }

  /** "192.0.2.0/24" */
  prefixText(id: number): string {
    this.check(id);
    return `${intToIpv4(this.eNet[id]!)}/${this.eLen[id]!}`;
  }

  valueCount(id: number): number {
    this.check(id);
    const vs = this.vStart;
    return vs ? vs[id + 1]! - vs[id]! : 1;
  }

  /** The k-th value (insertion order) at entry id. */
  valueAt(id: number, k: number): T {
    this.check(id);
    const vs = this.vStart;
    const from = vs ? vs[id]! : id;
    const to = vs ? vs[id + 1]! : id + 1;
    if (!Number.isInteger(k) || k < 0 || from + k >= to) throw new RangeError(`entry ${id} has no value ${k}`);
    return this.vals[from + k]!;
  }

  /** The values at entry id in insertion order (a fresh array). */
  valuesOf(id: number): T[] {
    this.check(id);
    const vs = this.vStart;
    return vs ? this.vals.slice(vs[id], vs[id + 1]) : [this.vals[id]!];
  }

  private check(id: number): void {
    if (!this.built) throw new Error(NOT_BUILT);
    if (!Number.isInteger(id) || id < 0 || id >= this.entries) throw new RangeError(`no entry ${id}`);
  }
}

// ---------------------------------------------------------------------------

const V6_MAX = (1n << 128n) - 1n;

/**
 * IPv6 longest-prefix-match index. Addresses and networks are bigints
 * (0 … 2^128-1, the representation of ip.ts: `parseAddress(t).value`).
 * Same life cycle and API as Lpm4.
 */
export class Lpm6<T> {
  private stNet: bigint[] | null = [];
  private stLen: number[] | null = [];
  private stVal: T[] | null = [];

  private built = false;
  private eNet: bigint[] = [];
  private eLen: Uint8Array = new Uint8Array(0);
  private ePar: Int32Array = new Int32Array(0);
  private vStart: Int32Array = new Int32Array(1);
  private vals: T[] = [];
  /** present lengths over 52, longest first: shift (128 - length) and a map network >> shift → id */
  private shifts: bigint[] = [];
  private maps: Map<bigint, number>[] = [];
  /** present lengths up to 52, longest first: keyed by a number, the top 52 bits / 2^(52 - length) */
  private divisors: number[] = [];
  private numMaps: Map<number, number>[] = [];

  get size(): number {
    return this.eNet.length;
  }

  get totalValues(): number {
    return this.built ? this.vals.length : this.stVal!.length;
  }

  add(network: bigint, length: number, value: T): void {
    if (this.built) throw new Error(FROZEN);
    if (!Number.isInteger(length) || length < 0 || length > 128) throw new RangeError(`prefix length ${length} must be 0…128`);
    if (typeof network !== 'bigint' || network < 0n || network > V6_MAX) throw new RangeError(`network ${String(network)} is not a 128-bit address`);
    const shift = BigInt(128 - length);
    if ((network >> shift) << shift !== network) throw new RangeError(`network ${network.toString(16)}/${length} has host bits set`);
    this.stNet!.push(network);
    this.stLen!.push(length);
    this.stVal!.push(value);
  }

  build(): void {
    if (this.built) throw new Error(FROZEN);
    const sNet = this.stNet!;
    const sLen = this.stLen!;
    const sVal = this.stVal!;
    const n = sNet.length;
    const order = Array.from({ length: n }, (_, i) => i);
    order.sort((a, b) => {
      const x = sNet[a]!;
      const y = sNet[b]!;
      return x < y ? -1 : x > y ? 1 : sLen[a]! - sLen[b]! || a - b;
    });
    const eNet: bigint[] = [];
    const lens: number[] = [];
    const par: number[] = [];
    const starts: number[] = [];
    const vals: T[] = [];
    const stack: number[] = [];
    for (const idx of order) {
      const net = sNet[idx]!;
      const len = sLen[idx]!;
      const e = eNet.length - 1;
      if (e < 0 || net !== eNet[e] || len !== lens[e]) {
        while (stack.length > 0) {
          const p = stack[stack.length - 1]!;
          const sh = BigInt(128 - lens[p]!);
          if (net >> sh === eNet[p]! >> sh) break;
          stack.pop();
        }
        par.push(stack.length > 0 ? stack[stack.length - 1]! : -1);
        stack.push(eNet.length);
        eNet.push(net);
        lens.push(len);
        starts.push(vals.length);
      }
      vals.push(sVal[idx]!);
    }
    starts.push(vals.length);

    // Prefixes up to /52 are keyed by a number (exact below 2^53, and cheaper
    // to hash than a bigint): one bigint shift per lookup serves all of them.
    const big = new Map<number, Map<bigint, number>>();
    const small = new Map<number, Map<number, number>>();
    for (let i = 0; i < eNet.length; i++) {
      const len = lens[i]!;
      if (len > 52) {
        let map = big.get(len);
        if (!map) big.set(len, (map = new Map<bigint, number>()));
        map.set(eNet[i]! >> BigInt(128 - len), i);
      } else {
        let map = small.get(len);
        if (!map) small.set(len, (map = new Map<number, number>()));
        map.set(Number(eNet[i]! >> BigInt(128 - len)), i);
      }
    }
    const desc = (keys: Iterable<number>): number[] => [...keys].sort((a, b) => b - a);
    this.shifts = desc(big.keys()).map((l) => BigInt(128 - l));
    this.maps = desc(big.keys()).map((l) => big.get(l)!);
    this.divisors = desc(small.keys()).map((l) => 2 ** (52 - l));
    this.numMaps = desc(small.keys()).map((l) => small.get(l)!);
    this.eNet = eNet;
    this.eLen = Uint8Array.from(lens);
    this.ePar = Int32Array.from(par);
    this.vStart = Int32Array.from(starts);
    this.vals = vals;
    this.stNet = null;
    this.stLen = null;
    this.stVal = null;
    this.built = true;
  }

  longest(addr: bigint): number {
    if (!this.built) throw new Error(NOT_BUILT);
    const shifts = this.shifts;
    const maps = this.maps;
    for (let i = 0; i < shifts.length; i++) {
      const id = maps[i]!.get(addr >> shifts[i]!);
      if (id !== undefined) return id;
    }
    const divisors = this.divisors;
    if (divisors.length === 0) return -1;
    const numMaps = this.numMaps;
    const top = Number(addr >> 76n); // the top 52 bits, exact
    for (let i = 0; i < divisors.length; i++) {
      const id = numMaps[i]!.get(Math.floor(top / divisors[i]!));
      if (id !== undefined) return id;
    }
    return -1;
  }

  parent(id: number): number {
    return this.ePar[id] ?? -1;
  }

  *matches(addr: bigint): IterableIterator<number> {
    for (let id = this.longest(addr); id >= 0; id = this.ePar[id]!) yield id;
  }

  networkOf(id: number): bigint {
    this.check(id);
    return this.eNet[id]!;
  }

  lengthOf(id: number): number {
    this.check(id);
    return this.eLen[id]!;
  }

  prefixOf(id: number): Ipv6Prefix {
    this.check(id);
    return { network: this.eNet[id]!, length: this.eLen[id]! };
  }

  valueCount(id: number): number {
    this.check(id);
    return this.vStart[id + 1]! - this.vStart[id]!;
  }

  valueAt(id: number, k: number): T {
    this.check(id);
    const i = this.vStart[id]! + k;
    if (!Number.isInteger(k) || k < 0 || i >= this.vStart[id + 1]!) throw new RangeError(`entry ${id} has no value ${k}`);
    return this.vals[i]!;
  }

  valuesOf(id: number): T[] {
    this.check(id);
    return this.vals.slice(this.vStart[id], this.vStart[id + 1]);
  }

  private check(id: number): void {
    if (!this.built) throw new Error(NOT_BUILT);
    if (!Number.isInteger(id) || id < 0 || id >= this.eNet.length) throw new RangeError(`no entry ${id}`);
  }
}

// IPv4 and IPv6 addresses and prefixes: parsing, canonical text, containment.
// Values are held as bigint so one code path serves both families; the hot
// longest-prefix-match structure (issue 3) has its own compact representation.

export type Family = 4 | 6;

export interface Address {
  family: Family;
  value: bigint;
  /** IPv4 as a uint32, set by parseAddress: the simulator's per-packet checks use it instead of bigint work */
  v4?: number;
}

/** An IPv4 address as a uint32 (from the cached number when there is one). */
export const v4Number = (a: Address): number => a.v4 ?? Number(a.value);

export interface Prefix {
  family: Family;
  value: bigint; // network address, host bits zero
  length: number;
}

export const familyBits = (f: Family): number => (f === 4 ? 32 : 128);

/** Parse a dotted-quad IPv4 address to a uint32; -1 when it is not one. A hand-written scan: this runs per packet in the simulator. */
function parseV4(text: string): number {
  let v = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return -1; // leading zero: octal to some tools
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      v = v * 256 + part;
      part = 0;
      digits = 0;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return v * 256 + part;
}

/** Parse an IPv6 address (with ::, and an embedded IPv4 tail); null when it is not one. */
function parseV6(text: string): bigint | null {
  if (text.includes('%')) return null; // zone ids are not addresses we route on
  const halves = text.split('::');
  if (halves.length > 2) return null;
  // An embedded IPv4 part may only end the whole address ("::ffff:192.0.2.1").
  const groupsOf = (s: string, mayEndInV4: boolean): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    const items = s.split(':');
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      if (it.includes('.')) {
        if (!mayEndInV4 || i !== items.length - 1) return null;
        const v4 = parseV4(it);
        if (v4 < 0) return null;
        out.push(Math.floor(v4 / 65536), v4 % 65536);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(it)) return null;
      out.push(parseInt(it, 16));
    }
    return out;
  };
  const head = groupsOf(halves[0]!, halves.length === 1);
  const tail = halves.length === 2 ? groupsOf(halves[1]!, true) : [];
  if (head === null || tail === null) return null;
  let groups: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return null;
    groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    groups = head;
  }
  if (groups.length !== 8) return null;
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(g);
  return v;
}

/** Whitespace around an address is tolerated; the common case (none) copies nothing. */
const trimmed = (text: string): string => {
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(text.length - 1);
  return first > 32 && last > 32 ? text : text.trim();
};

export function parseAddress(text: string): Address | null {
  const t = trimmed(text);
  const v4 = parseV4(t);
  if (v4 >= 0) return { family: 4, value: BigInt(v4), v4 };
  const v6 = parseV6(t);
  if (v6 !== null) return { family: 6, value: v6 };
  return null;
}

export function formatAddress(a: Address): string {
  if (a.family === 4) {
    const v = a.value;
    return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 0xffn)).join('.');
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((a.value >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952: compress the longest run (>= 2) of zero groups, the first one on ties.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  const left = hex.slice(0, bestStart).join(':');
  const right = hex.slice(bestStart + bestLen).join(':');
  return `${left}::${right}`;
}

const buildMasks = (bits: number): bigint[] => {
  const all = (1n << BigInt(bits)) - 1n;
  return Array.from({ length: bits + 1 }, (_, len) => (len === 0 ? 0n : (all >> BigInt(bits - len)) << BigInt(bits - len)));
};
/** Network masks by prefix length, computed once: the simulator checks prefixes per packet. */
const MASKS: Record<Family, bigint[]> = { 4: buildMasks(32), 6: buildMasks(128) };
const maskOf = (f: Family, len: number): bigint => MASKS[f][len]!;

export type PrefixParse = { ok: true; prefix: Prefix } | { ok: false; reason: string; suggestion?: string };

/**
 * Parse "A", "A/len" or "default". A bare address is a host prefix (/32, /128).
 * Host bits set after the length are an error: "192.168.99.5/24" is almost
 * always a typo for the network, and the kernel refuses it for routes.
 */
export function parsePrefix(text: string, familyForDefault?: Family): PrefixParse {
  const t = text.trim();
  if (t === 'default' || t === 'all' || t === 'any') {
    if (!familyForDefault) return { ok: false, reason: `"${t}" needs a family here`, suggestion: '0.0.0.0/0 or ::/0' };
    return { ok: true, prefix: { family: familyForDefault, value: 0n, length: 0 } };
  }
  const slash = t.indexOf('/');
  const addrText = slash < 0 ? t : t.slice(0, slash);
  const addr = parseAddress(addrText);
  if (!addr) return { ok: false, reason: `"${addrText}" is not an IPv4 or IPv6 address` };
  const max = familyBits(addr.family);
  let length = max;
  if (slash >= 0) {
    const lenText = t.slice(slash + 1);
    if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > max) {
      return { ok: false, reason: `prefix length "${lenText}" must be a number from 0 to ${max}` };
    }
    length = Number(lenText);
  }
  const net = addr.value & maskOf(addr.family, length);
  if (net !== addr.value) {
    const fixed = formatPrefix({ family: addr.family, value: net, length });
    return { ok: false, reason: `"${t}" has host bits set`, suggestion: fixed };
  }
  return { ok: true, prefix: { family: addr.family, value: net, length } };
}

/** Canonical text: "192.168.99.0/24", "2001:db8::/32"; host prefixes keep their length. */
export function formatPrefix(p: Prefix): string {
  return `${formatAddress({ family: p.family, value: p.value })}/${p.length}`;
}

/** Canonical text of a route destination as `ip -json` prints it: "default", "10.0.0.1", "10.0.0.0/8". */
export function formatRouteDst(p: Prefix): string {
  if (p.length === 0) return 'default';
  if (p.length === familyBits(p.family)) return formatAddress(p);
  return formatPrefix(p);
}

export function prefixContains(p: Prefix, a: Address): boolean {
  return p.family === a.family && (a.value & maskOf(p.family, p.length)) === p.value;
}

/** NPTv6 as nft does it: the address with `p`'s network bits in place of its own, host bits kept. */
export function withPrefix(a: Address, p: Prefix): Address {
  const mask = maskOf(p.family, p.length);
  const all = maskOf(a.family, a.family === 4 ? 32 : 128);
  const value = p.value | (a.value & ~mask & all);
  return a.family === 4 ? { family: 4, value, v4: Number(value) } : { family: 6, value };
}

/** The network that an interface address "A/len" is on. */
export function networkOf(a: Address, length: number): Prefix {
  return { family: a.family, value: a.value & maskOf(a.family, length), length };
}

export function isLinkLocal(a: Address): boolean {
  return a.family === 6 ? a.value >> 118n === 0x3fan : a.value >> 16n === 0xa9fen;
}

/** Canonicalise address text (e.g. "2001:DB8:0::1" → "2001:db8::1"); returns the input if invalid. */
export function canonicalAddress(text: string): string {
  const a = parseAddress(text);
  return a ? formatAddress(a) : text;
}

/** Canonicalise a prefix as `ip -json` prints route destinations. */
export function canonicalRouteDst(text: string, family: Family): string {
  const r = parsePrefix(text, family);
  return r.ok ? formatRouteDst(r.prefix) : text;
}

/** Drop prefixes covered by another one in the list and sort: equal sets print equally, and nft sets get no overlapping intervals. */
export function minimalPrefixes(list: Prefix[]): Prefix[] {
  const sorted = [...list].sort((a, b) => a.family - b.family || a.length - b.length || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  const kept: Prefix[] = [];
  for (const p of sorted) {
    if (!kept.some((k) => k.family === p.family && k.length <= p.length && prefixContains(k, { family: p.family, value: p.value }))) kept.push(p);
  }
  return kept.sort((a, b) => a.family - b.family || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0) || a.length - b.length);
}

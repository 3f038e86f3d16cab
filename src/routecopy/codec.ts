// rtnetlink route messages, by hand: the route copier reads a million of them
// from a dump and writes two million, so they are decoded straight from the
// receive buffer into the compact form the store keeps (no object per
// attribute) and encoded into one preallocated send buffer. Pure: bytes in,
// bytes out (layouts from include/uapi/linux/rtnetlink.h and netlink.h).
//
// A route splits into
//   - its KEY in a table: family, destination, prefix length, TOS and metric
//     (what the kernel tells routes of one table apart by; `ip route replace`
//     replaces the route with the same key);
//   - its VALUE: everything else needed to recreate it in another table — type,
//     scope, the onlink flag and the attributes that describe where packets go
//     (device, gateway, preferred source, multipath, metrics, encap, nexthop
//     object, …), as bytes that are equal for equal routes whichever table they
//     were read from;
//   - what it is not copied with: its table, its protocol (a copy carries the
//     copy protocol that marks it as multihome's), cache info, expiry.

export const NLMSG_HDRLEN = 16;
const RTMSG_LEN = 12;

export const NLMSG = { NOOP: 1, ERROR: 2, DONE: 3, OVERRUN: 4 } as const;
export const RTM = { NEWROUTE: 24, DELROUTE: 25, GETROUTE: 26 } as const;
export const NLM_F = { REQUEST: 1, MULTI: 2, ACK: 4, ECHO: 8, DUMP_INTR: 16, DUMP: 0x300, REPLACE: 0x100, EXCL: 0x200, CREATE: 0x400 } as const;
const AF = { INET: 2, INET6: 10 } as const;
/** multicast groups (numbers for NETLINK_ADD_MEMBERSHIP) */
export const RTNLGRP = { LINK: 1, IPV4_ROUTE: 7, IPV6_ROUTE: 11 } as const;

const RTA = {
  DST: 1,
  SRC: 2,
  IIF: 3,
  OIF: 4,
  GATEWAY: 5,
  PRIORITY: 6,
  PREFSRC: 7,
  METRICS: 8,
  MULTIPATH: 9,
  FLOW: 11,
  CACHEINFO: 12,
  TABLE: 15,
  MARK: 16,
  VIA: 18,
  PREF: 20,
  ENCAP_TYPE: 21,
  ENCAP: 22,
  EXPIRES: 23,
  PAD: 24,
  TTL_PROPAGATE: 26,
  NH_ID: 30,
} as const;
/** attributes that say where packets go: copied */
const COPIED_SET = new Set<number>([
  RTA.OIF,
  RTA.GATEWAY,
  RTA.PREFSRC,
  RTA.METRICS,
  RTA.MULTIPATH,
  RTA.FLOW,
  RTA.VIA,
  RTA.PREF,
  RTA.ENCAP_TYPE,
  RTA.ENCAP,
  RTA.TTL_PROPAGATE,
  RTA.NH_ID,
]);
const RTNH_F_ONLINK = 4;
const RTM_F_CLONED = 0x200;
export const RT_TABLE_MAIN = 254;
const RT_TABLE_COMPAT = 252;

const align4 = (n: number) => (n + 3) & ~3;

/** One route as decoded. `dst` is a view into the message; copy it to keep it. */
export interface DecodedRoute {
  family: 4 | 6;
  dst: Uint8Array;
  len: number;
  tos: number;
  metric: number;
  table: number;
  protocol: number;
  type: number;
  scope: number;
  /** RTA_OIF, 0 when absent (multipath routes have their devices in the value) */
  oif: number;
  /** every device the route uses (oif and the multipath nexthops') */
  oifs: number[];
  /** the canonical value bytes, as a latin1 string (interned by the store) */
  value: string;
  /** a cached clone (IPv6 exceptions), never copied */
  cloned: boolean;
}

/**
 * Decode the route message whose netlink header starts at `off`; null when it
 * is not an IPv4/IPv6 route message.
 */
export function decodeRoute(buf: Buffer, off: number): DecodedRoute | null {
  const msgLen = buf.readUInt32LE(off);
  const type = buf.readUInt16LE(off + 4);
  if (type !== RTM.NEWROUTE && type !== RTM.DELROUTE) return null;
  const r = off + NLMSG_HDRLEN;
  const afam = buf[r]!;
  if (afam !== AF.INET && afam !== AF.INET6) return null;
  const family = afam === AF.INET ? 4 : 6;
  const len = buf[r + 1]!;
  const tos = buf[r + 3]!;
  let table = buf[r + 4]!;
  const protocol = buf[r + 5]!;
  const scope = buf[r + 6]!;
  const rtype = buf[r + 7]!;
  const flags = buf.readUInt32LE(r + 8);
  let dst: Uint8Array = EMPTY;
  let metric = 0;
  let oif = 0;
  const oifs: number[] = [];
  // The value: type, scope, the onlink flag, then the copied attributes as the kernel dumped
  // them (it accepts its own encoding back; its attribute order is fixed, so equal routes give
  // equal strings wherever they were read), assembled in valueBytes and made one latin1
  // string for the store to intern (one string per route, not one per attribute).
  valueBytes[0] = rtype;
  valueBytes[1] = scope;
  valueBytes[2] = flags & RTNH_F_ONLINK;
  valueBytes[3] = 0;
  let v = 4;
  const end = off + msgLen;
  for (let a = r + RTMSG_LEN; a + 4 <= end;) {
    const alen = buf.readUInt16LE(a);
    const atype = buf.readUInt16LE(a + 2) & 0x3fff;
    if (alen < 4) break;
    const p = a + 4;
    const next = Math.min(end, a + align4(alen));
    switch (atype) {
      case RTA.DST:
        dst = buf.subarray(p, a + alen);
        break;
      case RTA.PRIORITY:
        metric = buf.readUInt32LE(p);
        break;
      case RTA.TABLE:
        table = buf.readUInt32LE(p);
        break;
      case RTA.OIF:
        oif = buf.readInt32LE(p);
        oifs.push(oif);
        break;
      case RTA.MULTIPATH:
        for (let n = p; n + 8 <= a + alen;) {
          const nlen = buf.readUInt16LE(n);
          if (nlen < 8) break;
          oifs.push(buf.readInt32LE(n + 4));
          n += align4(nlen);
        }
        break;
    }
    if (COPIED_SET.has(atype)) {
      // the attribute with its padding (zeros where the message ends first); multipath's
      // padding is always zeros and its nexthops' flags masked
      const size = align4(alen);
      const to = atype === RTA.MULTIPATH ? Math.min(a + alen, buf.length) : next;
      if (v + size > valueBytes.length) valueBytes = grown(valueBytes, v, v + size);
      for (let i = a; i < to; i++) valueBytes[v + i - a] = buf[i]!;
      valueBytes.fill(0, v + to - a, v + size);
      if (atype === RTA.MULTIPATH) maskNexthopFlags(valueBytes.subarray(v, v + size));
      v += size;
    }
    a = next;
  }
  const value = valueBytes.toString('latin1', 0, v);
  return { family, dst, len, tos, metric, table, protocol, type: rtype, scope, oif, oifs, value, cloned: (flags & RTM_F_CLONED) !== 0 };
}

/** Where decodeRoute assembles a value; grown for a route with more attributes than it holds. */
let valueBytes: Buffer = Buffer.alloc(1024);

/** A buffer of at least `need` bytes holding the first `keep` of `b`. */
function grown(b: Buffer, keep: number, need: number): Buffer {
  const bigger = Buffer.alloc(Math.max(2 * b.length, need));
  b.copy(bigger, 0, 0, keep);
  return bigger;
}

const EMPTY = new Uint8Array(0);

/** Multipath nexthops: keep only the onlink flag (dead/linkdown are the kernel's to set). */
function maskNexthopFlags(raw: Buffer): void {
  for (let n = 4; n + 8 <= raw.length;) {
    const nlen = raw.readUInt16LE(n);
    if (nlen < 8) break;
    raw[n + 2] = raw[n + 2]! & RTNH_F_ONLINK;
    n += align4(nlen);
  }
}

/** The key part of a route to write: where it goes. */
export interface RouteKey {
  family: 4 | 6;
  dst: Uint8Array;
  len: number;
  tos: number;
  metric: number;
}

/**
 * Append one RTM_NEWROUTE (create or replace) or RTM_DELROUTE for `key` in
 * `table` to `out` at `off`; returns the new offset, or -1 when it does not
 * fit (the caller sends what it has and starts a new buffer).
 * A delete names the copy protocol, so it can only remove a copy, never a
 * route another tool put at the same key.
 */
export function encodeRoute(
  out: Buffer,
  off: number,
  op: 'replace' | 'delete',
  key: RouteKey,
  value: string | null,
  table: number,
  protocol: number,
  seq: number,
  flags = 0,
): number {
  const dstLen = key.len > 0 ? 4 + key.dst.length : 0;
  const valueLen = op === 'replace' && value ? value.length - 4 : 0;
  const total = NLMSG_HDRLEN + RTMSG_LEN + align4(dstLen) + 8 /* priority */ + 8 /* table */ + valueLen;
  if (off + total > out.length) return -1;
  out.writeUInt32LE(total, off);
  out.writeUInt16LE(op === 'replace' ? RTM.NEWROUTE : RTM.DELROUTE, off + 4);
  out.writeUInt16LE(NLM_F.REQUEST | flags | (op === 'replace' ? NLM_F.CREATE | NLM_F.REPLACE : 0), off + 6);
  out.writeUInt32LE(seq >>> 0, off + 8);
  out.writeUInt32LE(0, off + 12);
  const r = off + NLMSG_HDRLEN;
  out[r] = key.family === 4 ? AF.INET : AF.INET6;
  out[r + 1] = key.len;
  out[r + 2] = 0;
  out[r + 3] = key.tos;
  out[r + 4] = table < 256 ? table : RT_TABLE_COMPAT;
  out[r + 5] = protocol;
  if (op === 'replace' && value) {
    out[r + 6] = value.charCodeAt(1); // scope
    out[r + 7] = value.charCodeAt(0); // type
    out.writeUInt32LE(value.charCodeAt(2), r + 8);
  } else {
    out[r + 6] = 255; // RT_SCOPE_NOWHERE: "any scope" for a delete
    out[r + 7] = 0; // RTN_UNSPEC: any type
    out.writeUInt32LE(0, r + 8);
  }
  let a = r + RTMSG_LEN;
  if (dstLen) {
    out.writeUInt16LE(dstLen, a);
    out.writeUInt16LE(RTA.DST, a + 2);
    out.set(key.dst, a + 4);
    a += align4(dstLen);
  }
  out.writeUInt16LE(8, a);
  out.writeUInt16LE(RTA.PRIORITY, a + 2);
  out.writeUInt32LE(key.metric >>> 0, a + 4);
  a += 8;
  out.writeUInt16LE(8, a);
  out.writeUInt16LE(RTA.TABLE, a + 2);
  out.writeUInt32LE(table >>> 0, a + 4);
  a += 8;
  if (valueLen) {
    out.write(value!.slice(4), a, 'latin1');
    a += valueLen;
  }
  return a;
}

/** An RTM_GETROUTE dump request for one family (all tables: the kernel filters by table only with strict checking). */
export function dumpRequest(family: 4 | 6, seq: number): Buffer {
  const b = Buffer.alloc(NLMSG_HDRLEN + RTMSG_LEN);
  b.writeUInt32LE(b.length, 0);
  b.writeUInt16LE(RTM.GETROUTE, 4);
  b.writeUInt16LE(NLM_F.REQUEST | NLM_F.DUMP, 6);
  b.writeUInt32LE(seq >>> 0, 8);
  b[NLMSG_HDRLEN] = family === 4 ? AF.INET : AF.INET6;
  return b;
}

/** RTM_F_FIB_MATCH: answer a lookup with the route that matched, as it is in its table. */
const RTM_F_FIB_MATCH = 0x2000;
/** RTM_F_LOOKUP_TABLE: name the table the route was found in (else the answer says main). */
const RTM_F_LOOKUP_TABLE = 0x1000;

/**
 * An RTM_GETROUTE lookup of `dst` (what `ip route get fibmatch DST mark MARK` asks):
 * the kernel runs its rules and tables for a packet to `dst` with that mark and
 * answers with the matching route, its table named.
 */
export function lookupRequest(dst: Uint8Array, mark: number, seq: number): Buffer {
  const b = Buffer.alloc(NLMSG_HDRLEN + RTMSG_LEN + align4(4 + dst.length) + 8);
  b.writeUInt32LE(b.length, 0);
  b.writeUInt16LE(RTM.GETROUTE, 4);
  b.writeUInt16LE(NLM_F.REQUEST, 6);
  b.writeUInt32LE(seq >>> 0, 8);
  const r = NLMSG_HDRLEN;
  b[r] = dst.length === 4 ? AF.INET : AF.INET6;
  b[r + 1] = dst.length * 8;
  b.writeUInt32LE(RTM_F_FIB_MATCH | RTM_F_LOOKUP_TABLE, r + 8);
  let a = r + RTMSG_LEN;
  b.writeUInt16LE(4 + dst.length, a);
  b.writeUInt16LE(RTA.DST, a + 2);
  b.set(dst, a + 4);
  a += align4(4 + dst.length);
  b.writeUInt16LE(8, a);
  b.writeUInt16LE(RTA.MARK, a + 2);
  b.writeUInt32LE(mark >>> 0, a + 4);
  return b;
}

/**
 * Where the message after the one at `off` starts, or -1 when no whole message starts
 * at `off`: `for (let off = 0, next; (next = nextMessage(buf, off)) > 0; off = next)`
 * walks a datagram without an object per message (the per-event paths; see messages).
 */
export function nextMessage(buf: Buffer, off: number): number {
  if (off + NLMSG_HDRLEN > buf.length) return -1;
  const len = buf.readUInt32LE(off);
  return len < NLMSG_HDRLEN || off + len > buf.length ? -1 : off + align4(len);
}

/** The type of the message at `off`. */
export const messageType = (buf: Buffer, off: number): number => buf.readUInt16LE(off + 4);

/** The messages of one datagram: [offset, type, flags, seq] per message. */
export function* messages(buf: Buffer): Generator<{ off: number; type: number; flags: number; seq: number; len: number }> {
  for (let off = 0, next; (next = nextMessage(buf, off)) > 0; off = next) {
    yield { off, type: messageType(buf, off), flags: buf.readUInt16LE(off + 6), seq: buf.readUInt32LE(off + 8), len: buf.readUInt32LE(off) };
  }
}

/** The number of messages in a datagram. */
export function messageCount(buf: Buffer): number {
  let n = 0;
  for (let off = 0, next; (next = nextMessage(buf, off)) > 0; off = next) n++;
  return n;
}

/** The errno of an NLMSG_ERROR message (0 is an acknowledgement) and the sequence number it answers. */
export function errorOf(buf: Buffer, off: number): { errno: number; seq: number } {
  // 0 - x, not -x: an acknowledgement (0) stays +0
  return { errno: 0 - buf.readInt32LE(off + NLMSG_HDRLEN), seq: buf.readUInt32LE(off + NLMSG_HDRLEN + 4 + 8) };
}

/** The devices a value's route uses (RTA_OIF and the multipath nexthops'). */
export function valueDevices(value: string): number[] {
  const b = Buffer.from(value, 'latin1');
  const out: number[] = [];
  for (let a = 4; a + 4 <= b.length;) {
    const alen = b.readUInt16LE(a);
    const atype = b.readUInt16LE(a + 2) & 0x3fff;
    if (alen < 4) break;
    if (atype === RTA.OIF) out.push(b.readInt32LE(a + 4));
    if (atype === RTA.MULTIPATH) {
      for (let n = a + 4; n + 8 <= a + alen;) {
        const nlen = b.readUInt16LE(n);
        if (nlen < 8) break;
        out.push(b.readInt32LE(n + 4));
        n += align4(nlen);
      }
    }
    a += align4(alen);
  }
  return out;
}

/** Whether a value describes a route with a gateway (the bulk copy writes those after the rest). */
export function valueHasGateway(value: string): boolean {
  const b = Buffer.from(value, 'latin1');
  for (let a = 4; a + 4 <= b.length;) {
    const alen = b.readUInt16LE(a);
    const atype = b.readUInt16LE(a + 2) & 0x3fff;
    if (alen < 4) break;
    if (atype === RTA.GATEWAY || atype === RTA.MULTIPATH || atype === RTA.VIA) return true;
    a += align4(alen);
  }
  return false;
}

const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;
const IFF_UP = 1;
const IFLA_IFNAME = 3;

/** Link messages in a datagram: index, whether it is up, its name when given. */
export function linkEvent(buf: Buffer): readonly LinkChange[] {
  // called for every route event too: no array, no object, for a datagram without links
  let out: LinkChange[] | null = null;
  for (let off = 0, next; (next = nextMessage(buf, off)) > 0; off = next) {
    const type = messageType(buf, off);
    if (type !== RTM_NEWLINK && type !== RTM_DELLINK) continue;
    const i = off + NLMSG_HDRLEN;
    const index = buf.readInt32LE(i + 4);
    const flags = buf.readUInt32LE(i + 8);
    let name: string | undefined;
    for (let a = i + 16; a + 4 <= off + buf.readUInt32LE(off);) {
      const alen = buf.readUInt16LE(a);
      if (alen < 4) break;
      if ((buf.readUInt16LE(a + 2) & 0x3fff) === IFLA_IFNAME) name = buf.toString('latin1', a + 4, a + alen).replace(/\0+$/, '');
      a += align4(alen);
    }
    (out ??= []).push({ index, up: type === RTM_NEWLINK && (flags & IFF_UP) !== 0, ...(name !== undefined ? { name } : {}) });
  }
  return out ?? NO_LINKS;
}

type LinkChange = { index: number; up: boolean; name?: string };
const NO_LINKS: readonly LinkChange[] = Object.freeze([]);

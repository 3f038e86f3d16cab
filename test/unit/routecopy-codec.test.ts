import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeRoute,
  dumpRequest,
  encodeRoute,
  errorOf,
  linkEvent,
  lookupRequest,
  messageCount,
  messages,
  messageType,
  nextMessage,
  NLM_F,
  RTM,
  valueDevices,
  valueHasGateway,
  type RouteKey,
} from '../../src/routecopy/codec.js';

// ---------------------------------------------------------------------------
// Hand-built netlink messages (layouts from linux/netlink.h and linux/rtnetlink.h)

const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_PRIORITY = 6;
const RTA_PREFSRC = 7;
const RTA_MULTIPATH = 9;
const RTA_CACHEINFO = 12;
const RTA_TABLE = 15;
const RTA_PREF = 20;
const AF_INET = 2;
const AF_INET6 = 10;

const pad4 = (b: Buffer): Buffer => (b.length % 4 ? Buffer.concat([b, Buffer.alloc(4 - (b.length % 4))]) : b);
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};
const i32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n);
  return b;
};

/** One rtattr, padded to 4. */
function rta(type: number, payload: Buffer | number[]): Buffer {
  const p = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const h = Buffer.alloc(4);
  h.writeUInt16LE(4 + p.length, 0);
  h.writeUInt16LE(type, 2);
  return pad4(Buffer.concat([h, p]));
}

/** One rtnexthop with its nested attributes. */
function rtnh(flags: number, hops: number, ifindex: number, attrs: Buffer[] = []): Buffer {
  const body = Buffer.concat(attrs);
  const h = Buffer.alloc(8);
  h.writeUInt16LE(8 + body.length, 0);
  h[2] = flags;
  h[3] = hops;
  h.writeInt32LE(ifindex, 4);
  return Buffer.concat([h, body]);
}

function nlmsg(type: number, flags: number, seq: number, body: Buffer, pid = 0): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32LE(16 + body.length, 0);
  h.writeUInt16LE(type, 4);
  h.writeUInt16LE(flags, 6);
  h.writeUInt32LE(seq >>> 0, 8);
  h.writeUInt32LE(pid >>> 0, 12);
  return Buffer.concat([h, body]);
}

interface RtmsgFields {
  family?: number;
  dstLen?: number;
  srcLen?: number;
  tos?: number;
  table?: number;
  protocol?: number;
  scope?: number;
  type?: number;
  flags?: number;
}

function rtmsg(f: RtmsgFields): Buffer {
  const b = Buffer.alloc(12);
  b[0] = f.family ?? AF_INET;
  b[1] = f.dstLen ?? 0;
  b[2] = f.srcLen ?? 0;
  b[3] = f.tos ?? 0;
  b[4] = f.table ?? 254;
  b[5] = f.protocol ?? 4;
  b[6] = f.scope ?? 0;
  b[7] = f.type ?? 1;
  b.writeUInt32LE(f.flags ?? 0, 8);
  return b;
}

function routeMsg(f: RtmsgFields & { msgType?: number; msgFlags?: number; seq?: number }, attrs: Buffer[]): Buffer {
  return nlmsg(f.msgType ?? RTM.NEWROUTE, f.msgFlags ?? 0, f.seq ?? 0, Buffer.concat([rtmsg(f), ...attrs]));
}

const ip4 = (t: string): number[] => t.split('.').map(Number);
function ip6(t: string): number[] {
  const [l, r] = t.split('::') as [string, string | undefined];
  const words = (s: string | undefined) => (s ? s.split(':').map((x) => parseInt(x, 16)) : []);
  const left = words(l);
  const right = words(r);
  const all = r === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  return all.flatMap((w) => [w >> 8, w & 255]);
}

/** A cacheinfo payload: 8 u32 of counters the kernel changes all the time. */
const cacheinfo = (seed: number) => Buffer.concat(Array.from({ length: 8 }, (_, i) => u32(seed * 1000 + i)));

/** 10.1.0.0/16 via 192.0.2.1 dev 3 metric 100 src 192.0.2.10 as the kernel dumps it from `table`. */
function sampleV4(table: number, protocol: number, opts: { gw?: string; flags?: number; cache?: number; headerTable?: number } = {}): Buffer {
  return routeMsg(
    { family: AF_INET, dstLen: 16, table: opts.headerTable ?? (table < 256 ? table : 252), protocol, scope: 0, type: 1, flags: opts.flags ?? 0 },
    [
      rta(RTA_TABLE, u32(table)),
      rta(RTA_DST, ip4('10.1.0.0')),
      rta(RTA_PRIORITY, u32(100)),
      rta(RTA_PREFSRC, ip4('192.0.2.10')),
      rta(RTA_GATEWAY, ip4(opts.gw ?? '192.0.2.1')),
      rta(RTA_OIF, i32(3)),
      ...(opts.cache !== undefined ? [rta(RTA_CACHEINFO, cacheinfo(opts.cache))] : []),
    ],
  );
}

/** 2001:db8:1::/48 metric 1024, two nexthops via fe80::1 dev 3 and fe80::2 dev 5. */
function sampleV6Multipath(table: number, protocol: number, nhFlags: [number, number] = [0, 0], cache?: number): Buffer {
  return routeMsg({ family: AF_INET6, dstLen: 48, table: table < 256 ? table : 252, protocol, scope: 0, type: 1 }, [
    rta(RTA_TABLE, u32(table)),
    rta(RTA_DST, ip6('2001:db8:1::')),
    rta(RTA_PRIORITY, u32(1024)),
    rta(RTA_MULTIPATH, Buffer.concat([rtnh(nhFlags[0], 0, 3, [rta(RTA_GATEWAY, ip6('fe80::1'))]), rtnh(nhFlags[1], 0, 5, [rta(RTA_GATEWAY, ip6('fe80::2'))])])),
    ...(cache !== undefined ? [rta(RTA_CACHEINFO, cacheinfo(cache))] : []),
    rta(RTA_PREF, [0]),
  ]);
}

/** The rtattrs of a message: [type, payload]. */
function attrsOf(buf: Buffer, off = 0): [number, Buffer][] {
  const end = off + buf.readUInt32LE(off);
  const out: [number, Buffer][] = [];
  for (let a = off + 28; a + 4 <= end;) {
    const len = buf.readUInt16LE(a);
    out.push([buf.readUInt16LE(a + 2), buf.subarray(a + 4, a + len)]);
    a += (len + 3) & ~3;
  }
  return out;
}

const keyOf = (r: { family: 4 | 6; dst: Uint8Array; len: number; tos: number; metric: number }): RouteKey => ({
  family: r.family,
  dst: Uint8Array.from(r.dst),
  len: r.len,
  tos: r.tos,
  metric: r.metric,
});

// ---------------------------------------------------------------------------
// decodeRoute

test('decodeRoute: key, table, protocol, type, scope, devices of an IPv4 route', () => {
  const r = decodeRoute(sampleV4(100, 4), 0);
  assert.ok(r);
  assert.equal(r.family, 4);
  assert.deepEqual([...r.dst], [10, 1, 0, 0]);
  assert.equal(r.len, 16);
  assert.equal(r.tos, 0);
  assert.equal(r.metric, 100);
  assert.equal(r.table, 100);
  assert.equal(r.protocol, 4);
  assert.equal(r.type, 1);
  assert.equal(r.scope, 0);
  assert.equal(r.oif, 3);
  assert.deepEqual(r.oifs, [3]);
  assert.equal(r.cloned, false);
  // the value: type, scope, onlink, 0, then the copied attributes (prefsrc, gateway, oif)
  assert.equal(r.value.charCodeAt(0), 1);
  assert.equal(r.value.charCodeAt(1), 0);
  assert.equal(r.value.charCodeAt(2), 0);
  assert.equal(r.value.length, 4 + 8 + 8 + 8);
  assert.equal(
    r.value.slice(4),
    Buffer.concat([rta(RTA_PREFSRC, ip4('192.0.2.10')), rta(RTA_GATEWAY, ip4('192.0.2.1')), rta(RTA_OIF, i32(3))]).toString('latin1'),
  );
});

test('decodeRoute: RTA_TABLE overrides the header byte; without it the header byte is the table', () => {
  assert.equal(decodeRoute(sampleV4(1000, 4), 0)?.table, 1000);
  assert.equal(decodeRoute(sampleV4(100, 4, { headerTable: 254 }), 0)?.table, 100);
  const noTable = routeMsg({ dstLen: 8, table: 123 }, [rta(RTA_DST, ip4('10.0.0.0')), rta(RTA_OIF, i32(2))]);
  assert.equal(decodeRoute(noTable, 0)?.table, 123);
  // a message at an offset, with the one before it left alone
  const two = Buffer.concat([noTable, sampleV4(1000, 9)]);
  const r = decodeRoute(two, noTable.length);
  assert.equal(r?.table, 1000);
  assert.equal(r?.protocol, 9);
  assert.equal(decodeRoute(two, 0)?.table, 123);
});

test('decodeRoute: tos, default route, IPv6, cloned, other message types and families', () => {
  const tos = decodeRoute(routeMsg({ dstLen: 24, tos: 0x10 }, [rta(RTA_DST, ip4('10.2.3.0')), rta(RTA_OIF, i32(2))]), 0);
  assert.equal(tos?.tos, 0x10);
  assert.equal(tos?.metric, 0); // no RTA_PRIORITY: metric 0

  const def = decodeRoute(routeMsg({ dstLen: 0 }, [rta(RTA_TABLE, u32(254)), rta(RTA_GATEWAY, ip4('192.0.2.1')), rta(RTA_OIF, i32(2))]), 0);
  assert.ok(def);
  assert.equal(def.len, 0);
  assert.equal(def.dst.length, 0);
  assert.equal(def.table, 254);

  const v6 = decodeRoute(sampleV6Multipath(254, 2), 0);
  assert.ok(v6);
  assert.equal(v6.family, 6);
  assert.deepEqual([...v6.dst], ip6('2001:db8:1::'));
  assert.equal(v6.len, 48);
  assert.equal(v6.metric, 1024);
  assert.equal(v6.table, 254);
  assert.equal(v6.protocol, 2);

  const cloned = decodeRoute(routeMsg({ family: AF_INET6, dstLen: 128, flags: 0x200 }, [rta(RTA_DST, ip6('2001:db8::5')), rta(RTA_OIF, i32(2))]), 0);
  assert.equal(cloned?.cloned, true);

  const del = decodeRoute(routeMsg({ msgType: RTM.DELROUTE, dstLen: 8 }, [rta(RTA_DST, ip4('10.0.0.0'))]), 0);
  assert.equal(del?.len, 8);

  assert.equal(decodeRoute(routeMsg({ msgType: 16, dstLen: 8 }, []), 0), null); // RTM_NEWLINK
  assert.equal(decodeRoute(routeMsg({ msgType: RTM.GETROUTE, dstLen: 8 }, []), 0), null);
  assert.equal(decodeRoute(routeMsg({ family: 28, dstLen: 20 }, []), 0), null); // AF_MPLS
  assert.equal(decodeRoute(routeMsg({ family: 0, dstLen: 0 }, []), 0), null);
});

test('decodeRoute: multipath devices', () => {
  const r = decodeRoute(sampleV6Multipath(254, 2), 0);
  assert.ok(r);
  assert.equal(r.oif, 0);
  assert.deepEqual(r.oifs, [3, 5]);
  assert.deepEqual(valueDevices(r.value), [3, 5]);
  assert.equal(valueHasGateway(r.value), true);
  // RTA_OIF and multipath both: every device
  const both = decodeRoute(
    routeMsg({ dstLen: 8 }, [
      rta(RTA_DST, ip4('10.0.0.0')),
      rta(RTA_OIF, i32(7)),
      rta(RTA_MULTIPATH, Buffer.concat([rtnh(0, 0, 8), rtnh(0, 1, 9, [rta(RTA_GATEWAY, ip4('192.0.2.9'))])])),
    ]),
    0,
  );
  assert.equal(both?.oif, 7);
  assert.deepEqual(both?.oifs, [7, 8, 9]);
  assert.deepEqual(valueDevices(both.value), [7, 8, 9]);
});

test('decodeRoute: the value is equal for equal routes whatever the table, protocol, cache info', () => {
  const a = decodeRoute(sampleV4(254, 4, { cache: 1 }), 0)!;
  const b = decodeRoute(sampleV4(100, 78), 0)!;
  const c = decodeRoute(sampleV4(1000, 186, { cache: 2 }), 0)!;
  assert.equal(a.table, 254);
  assert.equal(b.table, 100);
  assert.equal(c.table, 1000);
  assert.equal(a.value, b.value);
  assert.equal(a.value, c.value);
  assert.deepEqual(keyOf(a), keyOf(b));
  assert.deepEqual(keyOf(a), keyOf(c));
  const m1 = decodeRoute(sampleV6Multipath(254, 2, [0, 0], 5), 0)!;
  const m2 = decodeRoute(sampleV6Multipath(101, 78, [0, 0]), 0)!;
  assert.equal(m1.value, m2.value);
});

test('decodeRoute: dead and linkdown flags are masked out of the value, onlink is kept', () => {
  const base = decodeRoute(sampleV4(254, 4), 0)!.value;
  // RTNH_F_DEAD 1, RTNH_F_LINKDOWN 16 on a single-path route (in rtm_flags)
  assert.equal(decodeRoute(sampleV4(254, 4, { flags: 1 }), 0)!.value, base);
  assert.equal(decodeRoute(sampleV4(254, 4, { flags: 16 }), 0)!.value, base);
  assert.equal(decodeRoute(sampleV4(254, 4, { flags: 17 }), 0)!.value, base);
  // RTNH_F_ONLINK 4 is part of how the route forwards
  const onlink = decodeRoute(sampleV4(254, 4, { flags: 4 }), 0)!.value;
  assert.notEqual(onlink, base);
  assert.equal(onlink.charCodeAt(2), 4);
  assert.equal(decodeRoute(sampleV4(254, 4, { flags: 4 | 1 | 16 }), 0)!.value, onlink);
  // the same in multipath nexthops
  const mp = decodeRoute(sampleV6Multipath(254, 2), 0)!.value;
  assert.equal(decodeRoute(sampleV6Multipath(254, 2, [1, 16]), 0)!.value, mp);
  assert.equal(decodeRoute(sampleV6Multipath(254, 2, [17, 0]), 0)!.value, mp);
  const mpOnlink = decodeRoute(sampleV6Multipath(254, 2, [4, 0]), 0)!.value;
  assert.notEqual(mpOnlink, mp);
  assert.equal(decodeRoute(sampleV6Multipath(254, 2, [4 | 1 | 16, 16]), 0)!.value, mpOnlink);
  assert.deepEqual(valueDevices(mpOnlink), [3, 5]);
  // the message buffer itself is not changed by the masking
  const msg = sampleV6Multipath(254, 2, [17, 16]);
  const copy = Buffer.from(msg);
  decodeRoute(msg, 0);
  assert.deepEqual(msg, copy);
});

test('decodeRoute: a different gateway, device, type, scope or source gives a different value', () => {
  const base = decodeRoute(sampleV4(254, 4), 0)!.value;
  assert.notEqual(decodeRoute(sampleV4(254, 4, { gw: '192.0.2.2' }), 0)!.value, base);
  const other = (f: RtmsgFields, attrs: Buffer[]) => decodeRoute(routeMsg({ dstLen: 16, ...f }, [rta(RTA_DST, ip4('10.1.0.0')), ...attrs]), 0)!.value;
  const a = other({}, [rta(RTA_OIF, i32(3))]);
  assert.notEqual(a, other({}, [rta(RTA_OIF, i32(4))]));
  assert.notEqual(a, other({ scope: 253 }, [rta(RTA_OIF, i32(3))]));
  assert.notEqual(other({ type: 6 }, []), other({ type: 7 }, []));
  assert.equal(other({ type: 6 }, []), String.fromCharCode(6, 0, 0, 0));
  assert.notEqual(a, other({}, [rta(RTA_PREFSRC, ip4('192.0.2.10')), rta(RTA_OIF, i32(3))]));
  // a multipath weight (rtnh_hops) is kept
  const w = (hops: number) =>
    decodeRoute(routeMsg({ dstLen: 16 }, [rta(RTA_DST, ip4('10.1.0.0')), rta(RTA_MULTIPATH, Buffer.concat([rtnh(0, hops, 3), rtnh(0, 0, 5)]))]), 0)!.value;
  assert.notEqual(w(0), w(1));
});

// ---------------------------------------------------------------------------
// encodeRoute

test('encodeRoute: a replace round-trips through decodeRoute with the table and protocol asked for', () => {
  for (const src of [
    sampleV4(254, 4, { cache: 3 }),
    sampleV6Multipath(254, 2, [16, 4], 9),
    routeMsg({ dstLen: 24, tos: 0x10, scope: 253, flags: 4 }, [
      rta(RTA_TABLE, u32(254)),
      rta(RTA_DST, ip4('10.9.8.0')),
      rta(RTA_PRIORITY, u32(7)),
      rta(RTA_OIF, i32(11)),
    ]),
  ]) {
    const r = decodeRoute(src, 0)!;
    for (const table of [100, 255, 256, 1000, 0x7fffffff]) {
      const out = Buffer.alloc(1024, 0xee);
      const end = encodeRoute(out, 0, 'replace', keyOf(r), r.value, table, 78, 42);
      assert.ok(end > 0);
      assert.equal(end % 4, 0);
      assert.equal(out.readUInt32LE(0), end);
      assert.equal(out.readUInt16LE(4), RTM.NEWROUTE);
      assert.equal(out.readUInt16LE(6), NLM_F.REQUEST | NLM_F.CREATE | NLM_F.REPLACE);
      assert.equal(out.readUInt16LE(6), 0x501);
      assert.equal(out.readUInt32LE(8), 42);
      assert.equal(out.readUInt32LE(12), 0);
      assert.equal(out[16 + 4], table < 256 ? table : 252);
      const back = decodeRoute(out, 0)!;
      assert.ok(back);
      assert.deepEqual(keyOf(back), keyOf(r));
      assert.equal(back.value, r.value);
      assert.equal(back.table, table);
      assert.equal(back.protocol, 78);
      assert.equal(back.type, r.type);
      assert.equal(back.scope, r.scope);
      assert.deepEqual(back.oifs, r.oifs);
      assert.equal(back.cloned, false);
      assert.deepEqual([...messages(out.subarray(0, end))].length, 1);
    }
  }
});

test('encodeRoute: default route (no RTA_DST), extra flags, offsets, sequence numbers', () => {
  const def = decodeRoute(routeMsg({ dstLen: 0 }, [rta(RTA_TABLE, u32(254)), rta(RTA_GATEWAY, ip4('192.0.2.1')), rta(RTA_OIF, i32(2))]), 0)!;
  const out = Buffer.alloc(256);
  const end = encodeRoute(out, 8, 'replace', keyOf(def), def.value, 100, 78, 0xfffffffe, NLM_F.ACK);
  assert.equal(end, 8 + out.readUInt32LE(8));
  assert.equal(out.readUInt16LE(8 + 6), NLM_F.REQUEST | NLM_F.ACK | NLM_F.CREATE | NLM_F.REPLACE);
  assert.equal(out.readUInt32LE(8 + 8), 0xfffffffe);
  assert.deepEqual(
    attrsOf(out, 8).map(([t]) => t),
    [RTA_PRIORITY, RTA_TABLE, RTA_GATEWAY, RTA_OIF],
  );
  const back = decodeRoute(out, 8)!;
  assert.equal(back.len, 0);
  assert.equal(back.dst.length, 0);
  assert.equal(back.value, def.value);
  // a key as the store gives it back (a full-width dst) encodes the same
  const r = decodeRoute(sampleV4(254, 4), 0)!;
  const a = Buffer.alloc(256);
  const b = Buffer.alloc(256);
  const ea = encodeRoute(a, 0, 'replace', keyOf(r), r.value, 100, 78, 1);
  const eb = encodeRoute(b, 0, 'replace', { family: 4, dst: Uint8Array.from([10, 1, 0, 0]), len: 16, tos: 0, metric: 100 }, r.value, 100, 78, 1);
  assert.deepEqual(a.subarray(0, ea), b.subarray(0, eb));
});

test('encodeRoute: a delete names the key, table and copy protocol, and nothing of the value', () => {
  const r = decodeRoute(sampleV4(254, 4), 0)!;
  const out = Buffer.alloc(256);
  const end = encodeRoute(out, 0, 'delete', keyOf(r), r.value, 1000, 78, 5);
  assert.equal(out.readUInt32LE(0), end);
  assert.equal(out.readUInt16LE(4), RTM.DELROUTE);
  assert.equal(out.readUInt16LE(6), NLM_F.REQUEST);
  assert.deepEqual(
    attrsOf(out).map(([t]) => t),
    [RTA_DST, RTA_PRIORITY, RTA_TABLE],
  );
  const back = decodeRoute(out, 0)!;
  assert.deepEqual(keyOf(back), keyOf(r));
  assert.equal(back.protocol, 78);
  assert.equal(back.table, 1000);
  assert.equal(back.scope, 255); // RT_SCOPE_NOWHERE: any scope (253 would be RT_SCOPE_LINK)
  assert.equal(back.type, 0); // RTN_UNSPEC: any
  assert.equal(back.value, String.fromCharCode(0, 255, 0, 0));
  assert.deepEqual(back.oifs, []);
  // the same without a value
  const out2 = Buffer.alloc(256);
  assert.equal(encodeRoute(out2, 0, 'delete', keyOf(r), null, 1000, 78, 5), end);
  assert.deepEqual(out2.subarray(0, end), out.subarray(0, end));
  // an IPv6 delete
  const v6 = decodeRoute(sampleV6Multipath(254, 2), 0)!;
  const e6 = encodeRoute(out, 0, 'delete', keyOf(v6), null, 101, 78, 6);
  assert.equal(e6, 16 + 12 + 20 + 8 + 8);
  assert.deepEqual(keyOf(decodeRoute(out, 0)!), keyOf(v6));
});

test('encodeRoute: -1 when the message does not fit', () => {
  const r = decodeRoute(sampleV4(254, 4), 0)!;
  const big = Buffer.alloc(512);
  const need = encodeRoute(big, 0, 'replace', keyOf(r), r.value, 100, 78, 1);
  assert.equal(need, 16 + 12 + 8 + 8 + 8 + 24);
  assert.equal(encodeRoute(Buffer.alloc(need), 0, 'replace', keyOf(r), r.value, 100, 78, 1), need);
  const short = Buffer.alloc(need - 1, 0xab);
  assert.equal(encodeRoute(short, 0, 'replace', keyOf(r), r.value, 100, 78, 1), -1);
  assert.ok(
    short.every((x) => x === 0xab),
    'nothing written when it does not fit',
  );
  assert.equal(encodeRoute(Buffer.alloc(20), 0, 'delete', keyOf(r), null, 100, 78, 1), -1);
  assert.equal(encodeRoute(Buffer.alloc(need + 10), 11, 'replace', keyOf(r), r.value, 100, 78, 1), -1);
  assert.equal(encodeRoute(Buffer.alloc(need + 10), 10, 'replace', keyOf(r), r.value, 100, 78, 1), need + 10);
});

test('encodeRoute: back-to-back messages in one buffer iterate with messages() and decode', () => {
  const routes = [
    decodeRoute(sampleV4(254, 4), 0)!,
    decodeRoute(sampleV6Multipath(254, 2), 0)!,
    decodeRoute(routeMsg({ dstLen: 32 }, [rta(RTA_DST, ip4('192.0.2.77')), rta(RTA_OIF, i32(4))]), 0)!,
  ];
  const out = Buffer.alloc(4096);
  let off = 0;
  const offs: number[] = [];
  routes.forEach((r, i) => {
    offs.push(off);
    off = encodeRoute(out, off, i === 1 ? 'delete' : 'replace', keyOf(r), r.value, 100 + i, 78, 10 + i);
  });
  const ms = [...messages(out.subarray(0, off))];
  assert.deepEqual(
    ms.map((m) => [m.off, m.type, m.seq]),
    [
      [offs[0], RTM.NEWROUTE, 10],
      [offs[1], RTM.DELROUTE, 11],
      [offs[2], RTM.NEWROUTE, 12],
    ],
  );
  ms.forEach((m, i) => {
    const back = decodeRoute(out, m.off)!;
    assert.deepEqual(keyOf(back), keyOf(routes[i]!));
    assert.equal(back.table, 100 + i);
  });
});

// ---------------------------------------------------------------------------
// messages, errorOf, linkEvent, dumpRequest

test('messages: several messages in one datagram, padding, a truncated tail', () => {
  const a = sampleV4(254, 4);
  const done = nlmsg(3, NLM_F.MULTI, 9, i32(0));
  // a message whose length is not a multiple of 4 (the next one starts aligned)
  const odd = nlmsg(1, 0, 10, Buffer.from([1, 2]));
  const b = sampleV6Multipath(254, 2);
  const dgram = Buffer.concat([a, done, pad4(odd), b]);
  const ms = [...messages(dgram)];
  assert.deepEqual(
    ms.map((m) => ({ ...m })),
    [
      { off: 0, type: RTM.NEWROUTE, flags: 0, seq: 0, len: a.length },
      { off: a.length, type: 3, flags: NLM_F.MULTI, seq: 9, len: 20 },
      { off: a.length + 20, type: 1, flags: 0, seq: 10, len: 18 },
      { off: a.length + 40, type: RTM.NEWROUTE, flags: 0, seq: 0, len: b.length },
    ],
  );
  // a tail shorter than its header says is not yielded, nor are the bytes after it
  assert.equal([...messages(Buffer.concat([a, b.subarray(0, b.length - 4)]))].length, 1);
  assert.equal([...messages(Buffer.concat([a, Buffer.alloc(8)]))].length, 1);
  // a length below the header size stops the walk
  const bad = Buffer.from(done);
  bad.writeUInt32LE(8, 0);
  assert.equal([...messages(Buffer.concat([bad, a]))].length, 0);
  assert.equal([...messages(Buffer.alloc(0))].length, 0);
});

test('errorOf: the errno and the sequence number of the message it answers', () => {
  const orig = nlmsg(RTM.NEWROUTE, NLM_F.REQUEST | NLM_F.ACK, 77, Buffer.alloc(12), 1234).subarray(0, 16);
  const err = nlmsg(2, 0, 77, Buffer.concat([i32(-3), orig]));
  const ack = nlmsg(2, 0x100 /* NLM_F_CAPPED */, 78, Buffer.concat([i32(0), nlmsg(RTM.DELROUTE, 5, 78, Buffer.alloc(0))]));
  const dgram = Buffer.concat([sampleV4(254, 4), err, ack]);
  const ms = [...messages(dgram)];
  assert.equal(ms.length, 3);
  assert.equal(ms[1]!.type, 2);
  assert.deepEqual(errorOf(dgram, ms[1]!.off), { errno: 3, seq: 77 });
  const a = errorOf(dgram, ms[2]!.off);
  assert.equal(a.seq, 78);
  assert.ok(a.errno === 0, 'an ACK has errno 0');
  // the answered sequence number is the original header's, not the error message's own
  const other = nlmsg(2, 0, 0, Buffer.concat([i32(-101), nlmsg(RTM.NEWROUTE, 1, 0xabcdef01, Buffer.alloc(0))]));
  assert.deepEqual(errorOf(other, 0), { errno: 101, seq: 0xabcdef01 });
});

function ifinfo(type: 16 | 17, index: number, flags: number, name?: string, seq = 0): Buffer {
  const b = Buffer.alloc(16);
  b[0] = 0; // AF_UNSPEC
  b.writeUInt16LE(1, 2); // ARPHRD_ETHER
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags, 8);
  b.writeUInt32LE(0xffffffff, 12);
  const attrs =
    name !== undefined
      ? [rta(16 /* IFLA_OPERSTATE */, [6]), rta(3, Buffer.from(`${name}\0`, 'latin1')), rta(4 /* IFLA_MTU */, u32(1500))]
      : [rta(4, u32(1500))];
  return nlmsg(type, 0, seq, Buffer.concat([b, ...attrs]));
}

test('linkEvent: RTM_NEWLINK up and down, RTM_DELLINK, names, other messages skipped', () => {
  const IFF_UP = 1;
  const IFF_RUNNING = 0x40;
  assert.deepEqual(linkEvent(ifinfo(16, 2, IFF_UP | IFF_RUNNING | 0x1000, 'eth0')), [{ index: 2, up: true, name: 'eth0' }]);
  assert.deepEqual(linkEvent(ifinfo(16, 3, 0x1000, 'wan1')), [{ index: 3, up: false, name: 'wan1' }]);
  // a deleted link is not up whatever its flags say
  assert.deepEqual(linkEvent(ifinfo(17, 4, IFF_UP, 'ppp0')), [{ index: 4, up: false, name: 'ppp0' }]);
  // no IFLA_IFNAME: no name key at all
  const noName = linkEvent(ifinfo(16, 5, IFF_UP));
  assert.deepEqual(noName, [{ index: 5, up: true }]);
  assert.equal('name' in noName[0]!, false);
  // several in one datagram, route messages in between skipped; a 15-character name
  const dgram = Buffer.concat([ifinfo(16, 6, IFF_UP, 'a'), sampleV4(254, 4), ifinfo(17, 7, 0, 'verylongname123'), nlmsg(3, 2, 0, i32(0))]);
  assert.deepEqual(linkEvent(dgram), [
    { index: 6, up: true, name: 'a' },
    { index: 7, up: false, name: 'verylongname123' },
  ]);
  assert.deepEqual(linkEvent(sampleV4(254, 4)), []);
});

test('dumpRequest: an RTM_GETROUTE dump of one family', () => {
  for (const [f, af] of [
    [4, AF_INET],
    [6, AF_INET6],
  ] as const) {
    const b = dumpRequest(f, 99);
    assert.equal(b.length, 28);
    assert.deepEqual([...messages(b)], [{ off: 0, type: RTM.GETROUTE, flags: NLM_F.REQUEST | NLM_F.DUMP, seq: 99, len: 28 }]);
    assert.equal(b[16], af);
    assert.ok(b.subarray(17).every((x) => x === 0));
  }
});

// ---------------------------------------------------------------------------
// valueDevices, valueHasGateway

test('valueDevices and valueHasGateway', () => {
  const gw = decodeRoute(sampleV4(254, 4), 0)!.value;
  assert.deepEqual(valueDevices(gw), [3]);
  assert.equal(valueHasGateway(gw), true);
  const link = decodeRoute(
    routeMsg({ dstLen: 24, scope: 253 }, [rta(RTA_DST, ip4('192.0.2.0')), rta(RTA_PREFSRC, ip4('192.0.2.10')), rta(RTA_OIF, i32(12))]),
    0,
  )!.value;
  assert.deepEqual(valueDevices(link), [12]);
  assert.equal(valueHasGateway(link), false);
  const blackhole = decodeRoute(routeMsg({ dstLen: 8, type: 6 }, [rta(RTA_DST, ip4('10.0.0.0')), rta(RTA_PRIORITY, u32(5))]), 0)!.value;
  assert.deepEqual(valueDevices(blackhole), []);
  assert.equal(valueHasGateway(blackhole), false);
  const mp = decodeRoute(sampleV6Multipath(254, 2), 0)!.value;
  assert.deepEqual(valueDevices(mp), [3, 5]);
  assert.equal(valueHasGateway(mp), true);
  // RTA_VIA (18) counts as a gateway
  const via = decodeRoute(
    routeMsg({ dstLen: 8 }, [rta(RTA_DST, ip4('10.0.0.0')), rta(18, [10, 0, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), rta(RTA_OIF, i32(2))]),
    0,
  )!.value;
  assert.equal(valueHasGateway(via), true);
  assert.deepEqual(valueDevices(via), [2]);
  assert.deepEqual(valueDevices(''), []);
  assert.equal(valueHasGateway(String.fromCharCode(1, 0, 0, 0)), false);
});

test('lookupRequest: a fibmatch lookup that names the table, with the destination and the mark', () => {
  const b = lookupRequest(new Uint8Array([100, 1, 2, 1]), 0x7e570064, 9);
  assert.equal(b.readUInt32LE(0), b.length);
  assert.equal(b.readUInt16LE(4), RTM.GETROUTE);
  assert.equal(b.readUInt16LE(6), 1); // NLM_F_REQUEST, no dump
  assert.equal(b.readUInt32LE(8), 9);
  assert.equal(b[16], 2); // AF_INET
  assert.equal(b[17], 32);
  assert.equal(b.readUInt32LE(16 + 8), 0x3000); // RTM_F_FIB_MATCH | RTM_F_LOOKUP_TABLE
  // RTA_DST then RTA_MARK
  assert.deepEqual([b.readUInt16LE(28), b.readUInt16LE(30)], [8, 1]);
  assert.deepEqual([...b.subarray(32, 36)], [100, 1, 2, 1]);
  assert.deepEqual([b.readUInt16LE(36), b.readUInt16LE(38), b.readUInt32LE(40)], [8, 16, 0x7e570064]);
  const v6 = lookupRequest(new Uint8Array(16).fill(0x20, 0, 1), 0, 1);
  assert.equal(v6[16], 10);
  assert.equal(v6[17], 128);
});

test('messageCount: the messages of a datagram', () => {
  const two = Buffer.concat([dumpRequest(4, 1), dumpRequest(6, 2)]);
  assert.equal(messageCount(two), 2);
  assert.equal(messageCount(Buffer.alloc(0)), 0);
});

test('nextMessage: the same walk as messages(), without an object per message', () => {
  const a = sampleV4(254, 4);
  const done = nlmsg(3, NLM_F.MULTI, 9, i32(0));
  const odd = nlmsg(1, 0, 10, Buffer.from([1, 2]));
  const b = sampleV6Multipath(254, 2);
  for (const dgram of [
    Buffer.concat([a, done, pad4(odd), b]),
    Buffer.concat([a, b.subarray(0, b.length - 4)]),
    Buffer.concat([a, Buffer.alloc(8)]),
    Buffer.alloc(0),
  ]) {
    const walked: [number, number][] = [];
    for (let off = 0, next; (next = nextMessage(dgram, off)) > 0; off = next) walked.push([off, messageType(dgram, off)]);
    assert.deepEqual(
      walked,
      [...messages(dgram)].map((m) => [m.off, m.type]),
    );
  }
  // the last message of a datagram may end unpadded: the next offset is past the end, and stops
  assert.equal(nextMessage(odd, 0), 20);
  assert.equal(nextMessage(odd, 20), -1);
});

test('decodeRoute: values of one route after another are their own (the bytes are assembled in one buffer)', () => {
  const routes = [sampleV4(254, 4), sampleV6Multipath(254, 2, [1, 0]), sampleV4(254, 4, { gw: '192.0.2.9' }), sampleV4(100, 78)];
  const values = routes.map((m) => decodeRoute(m, 0)!.value);
  assert.equal(values[0], values[3], 'equal routes, equal values');
  assert.notEqual(values[0], values[2]);
  assert.equal(decodeRoute(routes[0]!, 0)!.value, values[0], 'decoding again gives the same value');
  assert.equal(decodeRoute(routes[1]!, 0)!.value, decodeRoute(sampleV6Multipath(100, 78, [1, 0]), 0)!.value);
});

test('decodeRoute: a value longer than any so far (200 nexthops) is whole', () => {
  const hops = Array.from({ length: 200 }, (_, i) => rtnh(0, 0, 3 + (i % 50), [rta(RTA_GATEWAY, ip6(`fe80::${(i + 1).toString(16)}`))]));
  const msg = routeMsg({ family: AF_INET6, dstLen: 48, table: 254, protocol: 2, scope: 0, type: 1 }, [
    rta(RTA_TABLE, u32(254)),
    rta(RTA_DST, ip6('2001:db8:1::')),
    rta(RTA_MULTIPATH, Buffer.concat(hops)),
    rta(RTA_PREF, [0]),
  ]);
  const r = decodeRoute(msg, 0)!;
  const multipath = 4 + hops.reduce((n, h) => n + h.length, 0);
  // type, scope, onlink, 0; the multipath attribute; RTA_PREF (4 + 1 bytes, padded to 8)
  assert.equal(r.value.length, 4 + multipath + 8);
  assert.equal(r.oifs.length, 200);
  const back = Buffer.alloc(msg.length + 64);
  const end = encodeRoute(back, 0, 'replace', keyOf(r), r.value, 100, 78, 1);
  assert.equal(decodeRoute(back.subarray(0, end), 0)!.value, r.value, 'it round-trips');
  // and a short one after it is not padded by the long one's bytes
  assert.equal(decodeRoute(sampleV4(254, 4), 0)!.value, decodeRoute(sampleV4(100, 78), 0)!.value);
});

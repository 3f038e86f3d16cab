import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRoute, encodeRoute, messages, NLM_F, RTM, type DecodedRoute, type RouteKey } from '../../src/routecopy/codec.js';
import { RouteCopier, type CopyOptions, type CopyPort, type CopyTable } from '../../src/routecopy/engine.js';
import type { CopyFilter } from '../../src/routecopy/filter.js';
import { formatKey } from '../../src/routecopy/store.js';
import { parsePrefix } from '../../src/net/ip.js';
import { prng32 } from '../../src/util/prng.js';

const MAIN = 254;
const COPY = 78;
const OWN = 77;
const ESRCH = 3;

// ---------------------------------------------------------------------------
// Route keys and values

function key(text: string, metric?: number, tos = 0): RouteKey {
  const p = parsePrefix(text);
  assert.ok(p.ok, text);
  const n = p.prefix.family === 4 ? 4 : 16;
  const dst = new Uint8Array(n);
  let v = p.prefix.value;
  for (let i = n - 1; i >= 0; i--) {
    dst[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return { family: p.prefix.family, dst, len: p.prefix.length, tos, metric: metric ?? (p.prefix.family === 6 ? 1024 : 0) };
}

function rta(type: number, payload: Buffer | number[]): Buffer {
  const p = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const b = Buffer.alloc((4 + p.length + 3) & ~3);
  b.writeUInt16LE(4 + p.length, 0);
  b.writeUInt16LE(type, 2);
  p.copy(b, 4);
  return b;
}
const i32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n);
  return b;
};
const ip4 = (t: string) => t.split('.').map(Number);

/** A value as decodeRoute makes it: type, scope, onlink, 0, then the copied attributes. */
function val(o: { dev?: number; gw?: string; type?: number; devs?: number[] }): string {
  const attrs: Buffer[] = [];
  if (o.gw) attrs.push(rta(5, ip4(o.gw)));
  if (o.dev) attrs.push(rta(4, i32(o.dev)));
  if (o.devs) {
    const nhs = o.devs.map((d, i) => {
      const gw = rta(5, [10, 0, d, i + 1]);
      const h = Buffer.alloc(8);
      h.writeUInt16LE(8 + gw.length, 0);
      h.writeInt32LE(d, 4);
      return Buffer.concat([h, gw]);
    });
    attrs.push(rta(9, Buffer.concat(nhs)));
  }
  const scope = o.type && o.type !== 1 ? 0 : o.gw || o.devs ? 0 : 253;
  return String.fromCharCode(o.type ?? 1, scope, 0, 0) + Buffer.concat(attrs).toString('latin1');
}

/** Values with names, for readable table listings. */
const V = {
  link2: val({ dev: 2 }),
  gw2: val({ gw: '10.1.0.1', dev: 2 }),
  gw2b: val({ gw: '10.1.0.2', dev: 2 }),
  gw6: val({ gw: '198.51.100.1', dev: 6 }),
  gw5: val({ gw: '203.0.113.1', dev: 5 }),
  mp34: val({ devs: [3, 4] }),
  blackhole: val({ type: 6 }),
  link7: val({ dev: 7 }),
};
const valueName = new Map(Object.entries(V).map(([k, v]) => [v, k]));
const nameOf = (v: string) => valueName.get(v) ?? `?${Buffer.from(v, 'latin1').toString('hex')}`;

// ---------------------------------------------------------------------------
// A fake kernel behind the port

interface KRoute {
  key: RouteKey;
  protocol: number;
  value: string;
}

function kid(k: RouteKey): string {
  const n = k.family === 4 ? 4 : 16;
  const b: number[] = [];
  for (let i = 0; i < n; i++) b.push(k.dst[i] ?? 0);
  return `${k.family}|${b.join('.')}|${k.len}|${k.tos}|${k.metric}`;
}

const keyOf = (r: DecodedRoute): RouteKey => ({ family: r.family, dst: Uint8Array.from(r.dst), len: r.len, tos: r.tos, metric: r.metric });

interface WriteRecord {
  op: 'replace' | 'delete';
  table: number;
  route: string;
  protocol: number;
  seq: number;
  value?: string;
}

class FakeKernel implements CopyPort {
  readonly tables = new Map<number, Map<string, KRoute>>();
  readonly writes: WriteRecord[] = [];
  /** every datagram written: its messages' seqs and whether each asked for an ACK */
  readonly datagrams: { seqs: number[]; acks: boolean[]; ackSeq: number }[] = [];
  dumps = 0;
  /** runs inside a dump, before its routes are read (the dump promise is pending) */
  onDump: ((n: number, family: 4 | 6) => void | Promise<void>) | undefined;
  /** an errno for a write, or 0 */
  failWrite: ((op: 'replace' | 'delete', table: number, k: RouteKey) => number) | undefined;
  /** runs inside a write, before it is applied */
  onWrite: (() => void | Promise<void>) | undefined;
  /** the datagrams of the rehearsal (written `dry`: not applied), as decoded writes */
  readonly dry: WriteRecord[] = [];
  /** runs inside a dry write */
  onDryWrite: (() => void) | undefined;

  put(table: number, k: RouteKey, protocol: number, value: string): void {
    const t = this.tables.get(table) ?? new Map<string, KRoute>();
    this.tables.set(table, t);
    t.set(kid(k), { key: { ...k, dst: Uint8Array.from(k.dst) }, protocol, value });
  }
  remove(table: number, k: RouteKey): boolean {
    return this.tables.get(table)?.delete(kid(k)) ?? false;
  }
  get(table: number, k: RouteKey): KRoute | undefined {
    return this.tables.get(table)?.get(kid(k));
  }
  /** The routes of a table as sorted text: "10.1.0.0/16 proto 78 link2". */
  list(table: number): string[] {
    return [...(this.tables.get(table)?.values() ?? [])].map((r) => `${formatKey(r.key)} proto ${r.protocol} ${nameOf(r.value)}`).sort();
  }

  async dump(family: 4 | 6, onRoute: (buf: Buffer, off: number) => void): Promise<{ interrupted: boolean }> {
    const n = ++this.dumps;
    await new Promise((r) => setImmediate(r));
    if (this.onDump) await this.onDump(n, family);
    // the routes of every table, several to a datagram as the kernel sends them
    const all: [number, KRoute][] = [];
    for (const [table, t] of this.tables) for (const r of t.values()) if (r.key.family === family) all.push([table, r]);
    let buf = Buffer.alloc(2048);
    let off = 0;
    let offs: number[] = [];
    const deliver = async () => {
      for (const o of offs) onRoute(buf, o);
      buf = Buffer.alloc(2048);
      off = 0;
      offs = [];
      await new Promise((r) => setImmediate(r));
    };
    for (const [table, r] of all) {
      let end = encodeRoute(buf, off, 'replace', r.key, r.value, table, r.protocol, 0, NLM_F.MULTI);
      if (end < 0) {
        await deliver();
        end = encodeRoute(buf, off, 'replace', r.key, r.value, table, r.protocol, 0, NLM_F.MULTI);
      }
      offs.push(off);
      off = end;
    }
    await deliver();
    return { interrupted: false };
  }

  async write(datagram: Buffer, ackSeq: number, dry = false): Promise<{ seq: number; errno: number }[]> {
    await new Promise((r) => setImmediate(r));
    if (dry) {
      for (const m of messages(datagram)) {
        const r = decodeRoute(datagram, m.off)!;
        this.dry.push({ op: m.type === RTM.NEWROUTE ? 'replace' : 'delete', table: r.table, route: formatKey(r), protocol: r.protocol, seq: m.seq });
      }
      this.onDryWrite?.();
      return [];
    }
    if (this.onWrite) await this.onWrite();
    const errors: { seq: number; errno: number }[] = [];
    const d = { seqs: [] as number[], acks: [] as boolean[], ackSeq };
    this.datagrams.push(d);
    let total = 0;
    for (const m of messages(datagram)) {
      total += (m.len + 3) & ~3;
      d.seqs.push(m.seq);
      d.acks.push((m.flags & NLM_F.ACK) !== 0);
      const r = decodeRoute(datagram, m.off);
      assert.ok(r, 'a route message');
      const k = keyOf(r);
      const op = m.type === RTM.NEWROUTE ? 'replace' : 'delete';
      this.writes.push({ op, table: r.table, route: formatKey(k), protocol: r.protocol, seq: m.seq, ...(op === 'replace' ? { value: nameOf(r.value) } : {}) });
      const errno = this.failWrite?.(op, r.table, k) ?? 0;
      if (errno) {
        errors.push({ seq: m.seq, errno });
        continue;
      }
      if (op === 'replace') {
        assert.equal(m.flags & (NLM_F.CREATE | NLM_F.REPLACE), NLM_F.CREATE | NLM_F.REPLACE);
        this.put(r.table, k, r.protocol, r.value);
      } else {
        // the kernel deletes only a route of the protocol the message names
        const have = this.get(r.table, k);
        if (!have || (r.protocol !== 0 && have.protocol !== r.protocol)) errors.push({ seq: m.seq, errno: ESRCH });
        else this.remove(r.table, k);
      }
    }
    assert.equal(total, datagram.length, 'the datagram holds whole messages');
    return errors;
  }
}

/** A route event datagram (the kernel's RTM_NEWROUTE / RTM_DELROUTE notification). */
function event(type: 'new' | 'del', table: number, k: RouteKey, protocol: number, value: string): Buffer {
  const b = Buffer.alloc(1024);
  const end = encodeRoute(b, 0, 'replace', k, value, table, protocol, 0);
  b.writeUInt16LE(type === 'new' ? RTM.NEWROUTE : RTM.DELROUTE, 4);
  b.writeUInt16LE(0, 6);
  return b.subarray(0, end);
}

/** Let the copier's flush (setImmediate, then the async writes) run to the end. */
async function settle(): Promise<void> {
  for (let i = 0; i < 30; i++) await new Promise((r) => setImmediate(r));
}

const simpleFilter: CopyFilter = (r) => r.table === MAIN && r.len > 0;
const TABLES: CopyTable[] = [
  { provider: 'isp1', table: 100, families: [4] },
  { provider: 'isp2', table: 101, families: [4] },
];

// main's routes and the copy tables before the first resync
const A = key('10.1.0.0/16');
const B = key('10.2.0.0/16');
const C = key('192.168.0.0/24');
const D = key('10.3.0.0/16', 100);
const E = key('10.4.0.0/16');
const DEF = key('0.0.0.0/0');
const S = key('10.9.0.0/16'); // a stale copy
const F = key('10.8.0.0/16'); // a foreign route not in main
const N = key('10.5.0.0/16'); // added later

function setup(o: Partial<CopyOptions> = {}) {
  const k = new FakeKernel();
  k.put(MAIN, DEF, 4, V.gw2);
  k.put(MAIN, A, 2, V.link2);
  k.put(MAIN, B, 4, V.gw2);
  k.put(MAIN, C, 4, V.gw2);
  k.put(MAIN, D, 4, V.mp34);
  k.put(MAIN, E, 4, V.blackhole);
  k.put(200, key('172.16.0.0/12'), 4, V.link2);
  k.put(100, DEF, OWN, V.gw5);
  k.put(100, B, COPY, V.gw2b); // changed
  k.put(100, S, COPY, V.link2); // stale
  k.put(100, F, 4, V.link7); // foreign, not in main
  k.put(101, DEF, OWN, V.gw6);
  k.put(101, C, 4, V.gw6); // foreign at a key main has
  const logs: Record<string, unknown>[] = [];
  const progress: [string, number, number][] = [];
  const copier = new RouteCopier(k, {
    tables: TABLES,
    protocol: COPY,
    ownProtocol: OWN,
    filter: simpleFilter,
    log: (e) => logs.push(e),
    progress: (p, d, t) => progress.push([p, d, t]),
    ...o,
  });
  return { k, copier, logs, progress };
}

const EXPECT_100 = [
  '10.1.0.0/16 proto 78 link2',
  '10.2.0.0/16 proto 78 gw2',
  '10.3.0.0/16 metric 100 proto 78 mp34',
  '10.4.0.0/16 proto 78 blackhole',
  '10.8.0.0/16 proto 4 link7',
  '192.168.0.0/24 proto 78 gw2',
  'default proto 77 gw5',
];
const EXPECT_101 = [
  '10.1.0.0/16 proto 78 link2',
  '10.2.0.0/16 proto 78 gw2',
  '10.3.0.0/16 metric 100 proto 78 mp34',
  '10.4.0.0/16 proto 78 blackhole',
  '192.168.0.0/24 proto 4 gw6',
  'default proto 77 gw6',
];

/** Datagrams are well formed: the last message (only) asks for the ACK the port is told of; seqs rise. */
function checkDatagrams(k: FakeKernel): void {
  let last = 0;
  for (const d of k.datagrams) {
    assert.ok(d.seqs.length > 0);
    assert.equal(d.ackSeq, d.seqs[d.seqs.length - 1]);
    assert.deepEqual(
      d.acks,
      d.seqs.map((_, i) => i === d.seqs.length - 1),
    );
    for (const s of d.seqs) {
      assert.ok(s > last, 'sequence numbers rise');
      last = s;
    }
  }
}

// ---------------------------------------------------------------------------
// Resync

test('resync: copies main into both tables, deletes stale copies, replaces changed ones, leaves foreign routes alone', async () => {
  const { k, copier, logs, progress } = setup();
  const mainBefore = k.list(MAIN);
  const t200 = k.list(200);
  await copier.resync('start');
  assert.deepEqual(k.list(100), EXPECT_100);
  assert.deepEqual(k.list(101), EXPECT_101);
  assert.deepEqual(k.list(MAIN), mainBefore);
  assert.deepEqual(k.list(200), t200);
  // every write carries the copy protocol and goes to a copy table; none to the foreign key
  assert.ok(k.writes.every((w) => w.protocol === COPY && (w.table === 100 || w.table === 101)));
  assert.ok(!k.writes.some((w) => w.table === 101 && w.route === '192.168.0.0/24'));
  assert.ok(!k.writes.some((w) => w.route === '10.8.0.0/16'));
  assert.ok(!k.writes.some((w) => w.route === 'default'));
  assert.equal(k.writes.length, 10);
  // the fixes first, then the routes without a gateway, then those with one
  assert.deepEqual(
    k.writes
      .slice(0, 2)
      .map((w) => `${w.op} ${w.table} ${w.route}`)
      .sort(),
    ['delete 100 10.9.0.0/16', 'replace 100 10.2.0.0/16'],
  );
  assert.deepEqual(
    k.writes
      .slice(2, 6)
      .map((w) => `${w.table} ${w.route}`)
      .sort(),
    ['100 10.1.0.0/16', '100 10.4.0.0/16', '101 10.1.0.0/16', '101 10.4.0.0/16'],
  );
  assert.deepEqual(
    k.writes
      .slice(6)
      .map((w) => `${w.table} ${w.route}`)
      .sort(),
    ['100 10.3.0.0/16 metric 100', '100 192.168.0.0/24', '101 10.2.0.0/16', '101 10.3.0.0/16 metric 100'],
  );
  checkDatagrams(k);
  const st = copier.status();
  assert.deepEqual(st.tables, [
    { provider: 'isp1', table: 100 },
    { provider: 'isp2', table: 101 },
  ]);
  assert.deepEqual(st.mainRoutes, { 4: 5, 6: 0 });
  assert.equal(st.resyncs, 1);
  assert.equal(st.syncing, false);
  assert.equal(st.driftRepaired, 0);
  assert.equal(st.writeErrors, 0);
  assert.ok(st.lastResync);
  assert.deepEqual({ ...st.lastResync, at: undefined, ms: undefined }, { at: undefined, ms: undefined, added: 8, replaced: 1, deleted: 1, drift: false });
  assert.deepEqual(st.foreign, [
    { table: 100, route: '10.8.0.0/16', protocol: 4 },
    { table: 101, route: '192.168.0.0/24', protocol: 4 },
  ]);
  assert.ok(st.values >= 4);
  assert.ok(st.bytes > 0);
  assert.ok(logs.some((l) => l.event === 'copy-resync' && l.why === 'start'));
  assert.ok(logs.some((l) => l.event === 'copy-foreign-routes' && l.table === 101));
  const last = progress.filter(([p]) => p === 'copying IPv4 routes').pop();
  assert.deepEqual(last, ['copying IPv4 routes', 10, 10]);
});

test('resync: a second resync with no change writes nothing', async () => {
  const { k, copier, logs } = setup();
  await copier.resync('start');
  const writes = k.writes.length;
  const datagrams = k.datagrams.length;
  await copier.resync('periodic check');
  assert.equal(k.writes.length, writes);
  assert.equal(k.datagrams.length, datagrams);
  const st = copier.status();
  assert.equal(st.resyncs, 2);
  assert.deepEqual({ ...st.lastResync!, at: 0, ms: 0 }, { at: 0, ms: 0, added: 0, replaced: 0, deleted: 0, drift: false });
  assert.equal(st.driftRepaired, 0);
  assert.equal(st.foreign.length, 2);
  assert.deepEqual(k.list(100), EXPECT_100);
  assert.deepEqual(k.list(101), EXPECT_101);
  // foreign routes already reported are not reported again
  assert.equal(logs.filter((l) => l.event === 'copy-foreign-routes').length, 2);
});

test('resync: out-of-band changes to a copy table are drift, repaired and counted', async () => {
  const { k, copier, logs } = setup();
  await copier.resync('start');
  k.remove(100, A); // a copy gone
  k.put(101, B, COPY, V.gw6); // a copy changed
  k.put(100, key('10.77.0.0/16'), COPY, V.link2); // a copy that main does not have
  k.remove(100, F); // the foreign route not in main left
  k.remove(101, C); // the foreign route at main's key left: now main's copy belongs there
  await copier.resync('periodic check');
  const st = copier.status();
  assert.deepEqual({ ...st.lastResync!, at: 0, ms: 0 }, { at: 0, ms: 0, added: 2, replaced: 1, deleted: 1, drift: true });
  assert.equal(st.driftRepaired, 4);
  assert.deepEqual(st.foreign, []);
  assert.deepEqual(
    k.list(100),
    EXPECT_100.filter((r) => !r.startsWith('10.8.')),
  );
  assert.deepEqual(
    k.list(101),
    EXPECT_101.map((r) => (r.startsWith('192.168.0.0/24') ? '192.168.0.0/24 proto 78 gw2' : r)),
  );
  assert.ok(logs.some((l) => l.event === 'copy-drift-repaired'));
  // and a further check finds nothing
  await copier.resync('periodic check');
  assert.equal(copier.status().lastResync!.drift, false);
  assert.equal(copier.status().driftRepaired, 4);
});

test("resync: routes of multihome's own protocol and cached clones in a copy table are left alone", async () => {
  const { k, copier } = setup();
  k.put(100, key('10.66.0.0/16'), OWN, V.gw5);
  // a cached clone (RTM_F_CLONED in rtm_flags: encodeRoute writes the value's third char there)
  const cloned = String.fromCharCode(1, 0, 0x200, 0) + rta(4, i32(2)).toString('latin1');
  k.put(100, key('10.67.0.0/16'), 4, cloned);
  k.put(101, key('10.68.0.0/16'), COPY, cloned);
  await copier.resync('start');
  assert.ok(k.list(100).includes('10.66.0.0/16 proto 77 gw5'));
  assert.ok(k.list(100).some((r) => r.startsWith('10.67.0.0/16 proto 4 ')));
  assert.ok(k.list(101).some((r) => r.startsWith('10.68.0.0/16 proto 78 ')));
  assert.deepEqual(
    copier.status().foreign.map((f) => f.route),
    ['10.8.0.0/16', '192.168.0.0/24'],
  );
  assert.ok(!k.writes.some((w) => w.route.startsWith('10.6')));
});

test('resync: a copy table with an id above 255 (header byte 252, RTA_TABLE)', async () => {
  const k = new FakeKernel();
  k.put(MAIN, A, 2, V.link2);
  k.put(MAIN, B, 4, V.gw2);
  k.put(1000, S, COPY, V.link2);
  k.put(1000, F, 4, V.link7);
  k.put(1001, S, COPY, V.link2); // not a copy table: untouched
  const copier = new RouteCopier(k, {
    tables: [{ provider: 'big', table: 1000, families: [4] }],
    protocol: COPY,
    ownProtocol: OWN,
    filter: simpleFilter,
    log: () => {},
  });
  await copier.resync('start');
  assert.deepEqual(k.list(1000), ['10.1.0.0/16 proto 78 link2', '10.2.0.0/16 proto 78 gw2', '10.8.0.0/16 proto 4 link7']);
  assert.deepEqual(k.list(1001), ['10.9.0.0/16 proto 78 link2']);
  assert.deepEqual(copier.status().foreign, [{ table: 1000, route: '10.8.0.0/16', protocol: 4 }]);
  copier.onDatagram(event('new', MAIN, N, 4, V.gw2));
  await settle();
  assert.ok(k.list(1000).includes('10.5.0.0/16 proto 78 gw2'));
});

test('resync: IPv6 goes only to the tables that copy IPv6', async () => {
  const k = new FakeKernel();
  const V6 = key('2001:db8:1::/48');
  k.put(MAIN, A, 2, V.link2);
  k.put(MAIN, V6, 2, V.link2);
  k.put(MAIN, key('::/0'), 4, V.gw2);
  k.put(101, key('2001:db8:9::/48'), COPY, V.link2); // isp2 copies no IPv6: not its to delete
  const copier = new RouteCopier(k, {
    tables: [
      { provider: 'isp1', table: 100, families: [4, 6] },
      { provider: 'isp2', table: 101, families: [4] },
    ],
    protocol: COPY,
    ownProtocol: OWN,
    filter: simpleFilter,
    log: () => {},
  });
  await copier.resync('start');
  assert.deepEqual(k.list(100), ['10.1.0.0/16 proto 78 link2', '2001:db8:1::/48 metric 1024 proto 78 link2']);
  assert.deepEqual(k.list(101), ['10.1.0.0/16 proto 78 link2', '2001:db8:9::/48 metric 1024 proto 78 link2']);
  assert.deepEqual(copier.status().mainRoutes, { 4: 1, 6: 1 });
  copier.onDatagram(event('new', MAIN, key('2001:db8:2::/48'), 4, V.gw2));
  await settle();
  assert.ok(k.list(100).includes('2001:db8:2::/48 metric 1024 proto 78 gw2'));
  assert.ok(!k.list(101).some((r) => r.startsWith('2001:db8:2::')));
});

test('resync: a big main goes out in several well-formed datagrams, with progress', async () => {
  const k = new FakeKernel();
  const rnd = prng32(5);
  const n = 4000;
  const keys = new Set<string>();
  for (let i = 0; i < n; i++) {
    const a = rnd();
    const kk = key(`${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.0/24`, rnd() % 3);
    if (keys.has(kid(kk))) continue;
    keys.add(kid(kk));
    k.put(MAIN, kk, 4, [V.link2, V.gw2, V.gw2b, V.mp34][i & 3]!);
  }
  // some stale and changed copies too
  let i = 0;
  for (const r of [...k.tables.get(MAIN)!.values()]) {
    if (i++ % 10 === 0) k.put(100, r.key, COPY, V.link7);
  }
  for (let j = 0; j < 50; j++) k.put(101, key(`100.64.${j}.0/24`), COPY, V.link2);
  const progress: [string, number, number][] = [];
  const copier = new RouteCopier(k, {
    tables: TABLES,
    protocol: COPY,
    ownProtocol: OWN,
    filter: simpleFilter,
    log: () => {},
    progress: (p, d, t) => progress.push([p, d, t]),
  });
  await copier.resync('start');
  const want = k.list(MAIN).map((r) => r.replace(' proto 4 ', ' proto 78 '));
  assert.deepEqual(k.list(100), want);
  assert.deepEqual(k.list(101), want);
  assert.ok(k.datagrams.length > 4, `${k.datagrams.length} datagrams`);
  checkDatagrams(k);
  const total = keys.size * 2 + 50;
  assert.equal(k.writes.length, total);
  const copying = progress.filter(([p]) => p === 'copying IPv4 routes');
  assert.ok(copying.length === k.datagrams.length);
  assert.ok(copying.every(([, , t]) => t === total));
  assert.equal(Math.max(...copying.map(([, d]) => d)), total);
  const st = copier.status();
  assert.equal(st.mainRoutes[4], keys.size);
  // every tenth route of main had a copy in table 100 with another value
  const changed = Math.ceil(keys.size / 10);
  assert.deepEqual({ ...st.lastResync!, at: 0, ms: 0 }, { at: 0, ms: 0, added: 2 * keys.size - changed, replaced: changed, deleted: 50, drift: false });
});

// ---------------------------------------------------------------------------
// Live events

test('events: a route added to main and then deleted is mirrored to both tables', async () => {
  const { k, copier } = setup();
  await copier.resync('start');
  const before = k.datagrams.length;
  k.put(MAIN, N, 4, V.gw2);
  copier.onDatagram(event('new', MAIN, N, 4, V.gw2));
  assert.ok(!k.list(100).some((r) => r.startsWith('10.5.')), 'written after the flush, not synchronously');
  await settle();
  assert.ok(k.list(100).includes('10.5.0.0/16 proto 78 gw2'));
  assert.ok(k.list(101).includes('10.5.0.0/16 proto 78 gw2'));
  assert.equal(k.datagrams.length, before + 1, 'one datagram for the event');
  assert.equal(copier.status().mainRoutes[4], 6);
  k.remove(MAIN, N);
  copier.onDatagram(event('del', MAIN, N, 4, V.gw2));
  await settle();
  assert.deepEqual(k.list(100), EXPECT_100);
  assert.deepEqual(k.list(101), EXPECT_101);
  const dels = k.writes.slice(-2);
  assert.deepEqual(dels.map((w) => `${w.op} ${w.table} ${w.route} ${w.protocol}`).sort(), ['delete 100 10.5.0.0/16 78', 'delete 101 10.5.0.0/16 78']);
  const st = copier.status();
  assert.equal(st.eventsApplied, 2);
  assert.equal(st.mainRoutes[4], 5);
  assert.equal(typeof st.lastLagMs, 'number');
  assert.ok(st.lastLagMs! >= 0);
  assert.equal(st.writeErrors, 0);
  checkDatagrams(k);
});

test('events: a changed route is replaced; the events of one datagram make one batch', async () => {
  const { k, copier } = setup();
  await copier.resync('start');
  const before = k.datagrams.length;
  const writes = k.writes.length;
  copier.onDatagram(Buffer.concat([event('new', MAIN, B, 4, V.gw2b), event('new', MAIN, N, 4, V.link2), event('new', MAIN, key('10.6.0.0/16'), 4, V.link2)]));
  await settle();
  assert.equal(k.datagrams.length, before + 1);
  assert.equal(k.writes.length, writes + 6);
  assert.ok(k.list(100).includes('10.2.0.0/16 proto 78 gw2b'));
  assert.ok(k.list(101).includes('10.2.0.0/16 proto 78 gw2b'));
  assert.ok(k.list(101).includes('10.6.0.0/16 proto 78 link2'));
  // the same route again changes nothing
  copier.onDatagram(event('new', MAIN, B, 4, V.gw2b));
  await settle();
  assert.equal(k.writes.length, writes + 6);
  assert.equal(copier.status().eventsApplied, 4);
  // two datagrams read before the flush runs also make one batch
  copier.onDatagram(event('new', MAIN, key('10.7.0.0/16'), 4, V.link2));
  copier.onDatagram(event('del', MAIN, N, 4, V.link2));
  await settle();
  assert.equal(k.datagrams.length, before + 2);
  assert.ok(!k.list(100).some((r) => r.startsWith('10.5.')));
  assert.ok(k.list(100).includes('10.7.0.0/16 proto 78 link2'));
  checkDatagrams(k);
});

test('events: main routes that are not copied, other tables, and echoes of our writes write nothing', async () => {
  const { k, copier } = setup();
  await copier.resync('start');
  const writes = k.writes.length;
  copier.onDatagram(event('new', MAIN, key('0.0.0.0/0', 5), 4, V.gw2)); // a default route
  copier.onDatagram(event('del', MAIN, key('10.200.0.0/16'), 4, V.gw2)); // a route main's set never had
  copier.onDatagram(event('new', 200, N, 4, V.gw2)); // another table
  copier.onDatagram(event('new', 100, N, COPY, V.gw2)); // our own copy's echo
  copier.onDatagram(event('del', 101, A, COPY, V.link2)); // a copy's delete (drift: repaired by the check, not here)
  copier.onDatagram(event('new', 100, key('10.66.0.0/16'), OWN, V.gw5)); // multihome's own route
  copier.onDatagram(Buffer.concat([Buffer.from([20, 0, 0, 0, 3, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])])); // NLMSG_DONE
  await settle();
  assert.equal(k.writes.length, writes);
  assert.deepEqual(copier.status().foreign.length, 2);
  assert.equal(copier.status().eventsApplied, 2);
});

test('events: a main route replaced by one the filter rejects is deleted from the copies', async () => {
  const { k, copier } = setup({ filter: (r) => simpleFilter(r) && r.protocol !== 186 });
  await copier.resync('start');
  copier.onDatagram(event('new', MAIN, A, 186, V.link2));
  await settle();
  assert.ok(!k.list(100).some((r) => r.startsWith('10.1.0.0/16')));
  assert.ok(!k.list(101).some((r) => r.startsWith('10.1.0.0/16')));
  assert.equal(copier.status().mainRoutes[4], 4);
});

test('events: foreign routes in a copy table keep the copier off their key until they go', async () => {
  const { k, copier, logs } = setup();
  await copier.resync('start');
  // a foreign route appears at a copied key (another tool replaced our copy)
  k.put(100, A, 16, V.link7);
  copier.onDatagram(event('new', 100, A, 16, V.link7));
  await settle();
  assert.ok(copier.status().foreign.some((f) => f.table === 100 && f.route === '10.1.0.0/16' && f.protocol === 16));
  assert.ok(logs.some((l) => l.event === 'copy-foreign-route' && l.route === '10.1.0.0/16'));
  // main changes that key: only the other table is written
  const writes = k.writes.length;
  k.put(MAIN, A, 2, V.gw2b);
  copier.onDatagram(event('new', MAIN, A, 2, V.gw2b));
  await settle();
  assert.deepEqual(
    k.writes.slice(writes).map((w) => `${w.op} ${w.table} ${w.route}`),
    ['replace 101 10.1.0.0/16'],
  );
  assert.ok(k.list(100).includes('10.1.0.0/16 proto 16 link7'));
  // main gets the foreign route's key in the other table too: not written there either
  k.put(MAIN, C, 4, V.gw2b);
  copier.onDatagram(event('new', MAIN, C, 4, V.gw2b));
  await settle();
  assert.deepEqual(
    k.writes.slice(writes + 1).map((w) => `${w.op} ${w.table} ${w.route}`),
    ['replace 100 192.168.0.0/24'],
  );
  assert.ok(k.list(101).includes('192.168.0.0/24 proto 4 gw6'));
  // the foreign route goes: main's route is copied to its key
  k.remove(100, A);
  copier.onDatagram(event('del', 100, A, 16, V.link7));
  await settle();
  assert.ok(k.list(100).includes('10.1.0.0/16 proto 78 gw2b'));
  assert.ok(!copier.status().foreign.some((f) => f.route === '10.1.0.0/16'));
  // a foreign route that was never reported going away changes nothing
  const w2 = k.writes.length;
  copier.onDatagram(event('del', 101, B, 16, V.link7));
  await settle();
  assert.equal(k.writes.length, w2);
  // a resync still agrees
  await copier.resync('periodic check');
  assert.equal(copier.status().lastResync!.drift, false);
});

test('events: write errors are counted and named; deleting a copy that is already gone is not an error', async () => {
  const { k, copier, logs } = setup();
  await copier.resync('start');
  k.failWrite = (op, table, kk) => (op === 'replace' && table === 101 && formatKey(kk) === '10.5.0.0/16' ? 101 : 0);
  copier.onDatagram(event('new', MAIN, N, 4, V.gw2));
  await settle();
  let st = copier.status();
  assert.equal(st.writeErrors, 1);
  assert.equal(st.lastWriteError, 'replace 10.5.0.0/16 table 101: ENETUNREACH');
  assert.ok(logs.some((l) => l.event === 'copy-write-errors' && l.errors === 1));
  assert.ok(k.list(100).includes('10.5.0.0/16 proto 78 gw2'));
  // the copy in 100 goes behind our back; 101 never had one: both deletes get ESRCH
  k.failWrite = undefined;
  k.remove(100, N);
  copier.onDatagram(event('del', MAIN, N, 4, V.gw2));
  await settle();
  st = copier.status();
  assert.equal(st.writeErrors, 1);
  assert.equal(k.writes.filter((w) => w.op === 'delete' && w.route === '10.5.0.0/16').length, 2);
  // an unknown errno is named by number
  k.failWrite = (op) => (op === 'replace' ? 95 : 0);
  copier.onDatagram(event('new', MAIN, N, 4, V.gw2));
  await settle();
  st = copier.status();
  assert.equal(st.writeErrors, 3);
  assert.match(st.lastWriteError!, /^replace 10\.5\.0\.0\/16 table 10[01]: errno 95$/);
});

test('events: what arrives while a resync runs is replayed after it, in order', async () => {
  const { k, copier } = setup();
  await copier.resync('start');
  const X = key('10.50.0.0/16');
  const Y = key('10.51.0.0/16');
  const Z = key('10.52.0.0/16');
  const first = k.dumps;
  let sawSyncing = false;
  k.onDump = (n) => {
    if (n === first + 1) {
      // during the dump of main (which reads the kernel after this): Y and Z are added
      k.put(MAIN, Y, 4, V.link2);
      copier.onDatagram(event('new', MAIN, Y, 4, V.link2));
      k.put(MAIN, Z, 4, V.link2);
      copier.onDatagram(event('new', MAIN, Z, 4, V.link2));
    }
    if (n === first + 2) {
      // during the dump of the copy tables (main is read already): X added, A and Z deleted
      sawSyncing = copier.status().syncing;
      k.put(MAIN, X, 4, V.gw2);
      copier.onDatagram(event('new', MAIN, X, 4, V.gw2));
      k.remove(MAIN, A);
      copier.onDatagram(event('del', MAIN, A, 2, V.link2));
      k.remove(MAIN, Z);
      copier.onDatagram(event('del', MAIN, Z, 4, V.link2));
    }
  };
  const p = copier.resync('periodic check');
  assert.equal(copier.status().syncing, true);
  await p;
  k.onDump = undefined;
  assert.equal(sawSyncing, true);
  await settle();
  for (const t of [100, 101]) {
    const l = k.list(t);
    assert.ok(l.includes('10.50.0.0/16 proto 78 gw2'), `X in ${t}`);
    assert.ok(l.includes('10.51.0.0/16 proto 78 link2'), `Y in ${t}`);
    assert.ok(!l.some((r) => r.startsWith('10.52.')), `Z not in ${t}`);
    assert.ok(!l.some((r) => r.startsWith('10.1.0.0/16')), `A not in ${t}`);
  }
  // Y was written once per table (the replayed event found it already in main's set)
  assert.equal(k.writes.filter((w) => w.route === '10.51.0.0/16').length, 2);
  assert.equal(copier.status().mainRoutes[4], 6);
  // a check agrees
  await copier.resync('periodic check');
  assert.deepEqual({ ...copier.status().lastResync!, at: 0, ms: 0 }, { at: 0, ms: 0, added: 0, replaced: 0, deleted: 0, drift: false });
});

test('resync: requests while one runs are coalesced into one more run', async () => {
  const { k, copier } = setup();
  await copier.resync('start');
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const first = k.dumps;
  k.onDump = (n) => (n === first + 1 ? gate : undefined);
  const p1 = copier.resync('a');
  const p2 = copier.resync('b');
  const p3 = copier.resync('c');
  assert.equal(p1, p2);
  assert.equal(p1, p3);
  k.put(MAIN, N, 4, V.gw2);
  release();
  await p1;
  k.onDump = undefined;
  assert.equal(copier.status().resyncs, 3);
  assert.equal(k.dumps, first + 4);
  assert.ok(k.list(101).includes('10.5.0.0/16 proto 78 gw2'));
});

test('events buffered during a resync that fails are replayed in order with the later ones', async () => {
  const { k, copier } = setup();
  await copier.resync('start');
  const X = key('10.50.0.0/16');
  const first = k.dumps;
  k.onDump = (n) => {
    if (n === first + 1) {
      k.put(MAIN, X, 4, V.gw2);
      copier.onDatagram(event('new', MAIN, X, 4, V.gw2));
      throw new Error('dump failed');
    }
  };
  await assert.rejects(copier.resync('periodic check'), /dump failed/);
  k.onDump = undefined;
  assert.equal(copier.status().syncing, false);
  // X goes again; its delete arrives after the failed resync
  k.remove(MAIN, X);
  copier.onDatagram(event('del', MAIN, X, 4, V.gw2));
  await settle();
  await copier.resync('periodic check');
  await settle();
  // main has no X: neither may the copies
  assert.ok(!k.list(100).some((r) => r.startsWith('10.50.')), `table 100: ${k.list(100).join(', ')}`);
  assert.ok(!k.list(101).some((r) => r.startsWith('10.50.')));
});

// ---------------------------------------------------------------------------
// Links

test("onLinkDown drops main's routes through the device (oif or a multipath nexthop) without writing", async () => {
  const { k, copier, logs } = setup();
  await copier.resync('start');
  const writes = k.writes.length;
  copier.onLinkDown(99); // no route uses it
  assert.equal(copier.status().mainRoutes[4], 5);
  assert.ok(!logs.some((l) => l.event === 'copy-link-down'));
  copier.onLinkDown(4); // D's second nexthop
  assert.equal(copier.status().mainRoutes[4], 4);
  assert.ok(logs.some((l) => l.event === 'copy-link-down' && l.ifindex === 4 && l.dropped === 1));
  copier.onLinkDown(2); // A, B, C
  assert.equal(copier.status().mainRoutes[4], 1);
  assert.ok(logs.some((l) => l.event === 'copy-link-down' && l.ifindex === 2 && l.dropped === 3));
  await settle();
  assert.equal(k.writes.length, writes, 'the kernel removed the routes itself');
  // the kernel's own deletes that follow write nothing either
  copier.onDatagram(event('del', MAIN, A, 2, V.link2));
  await settle();
  assert.equal(k.writes.length, writes);
  // a route through the device coming back is copied again
  copier.onDatagram(event('new', MAIN, A, 2, V.link2));
  await settle();
  assert.deepEqual(
    k.writes
      .slice(writes)
      .map((w) => `${w.op} ${w.table} ${w.route}`)
      .sort(),
    ['replace 100 10.1.0.0/16', 'replace 101 10.1.0.0/16'],
  );
  assert.equal(copier.status().mainRoutes[4], 2);
});

test('stop: events after stop are ignored', async () => {
  const { k, copier } = setup();
  await copier.resync('start');
  const writes = k.writes.length;
  copier.stop();
  copier.onDatagram(event('new', MAIN, N, 4, V.gw2));
  await settle();
  assert.equal(k.writes.length, writes);
});

test("onLinkDown during a resync's writes: every remaining route of main is still copied", async () => {
  const k = new FakeKernel();
  const rnd = prng32(8);
  let added = 0;
  while (added < 6000) {
    const a = rnd();
    const kk = key(`${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.0/24`);
    if (k.get(MAIN, kk)) continue;
    k.put(MAIN, kk, 4, added & 1 ? V.link2 : V.link7);
    added++;
  }
  // half of main is already in the tables (marked in the resync), half is missing
  let i = 0;
  for (const r of [...k.tables.get(MAIN)!.values()]) if (i++ & 2) for (const t of [100, 101]) k.put(t, r.key, COPY, r.value);
  const copier = new RouteCopier(k, { tables: TABLES, protocol: COPY, ownProtocol: OWN, filter: simpleFilter, log: () => {} });
  let down = false;
  k.onWrite = () => {
    // the first write's ACK is awaited when four datagrams are out: the resync is in the middle of its walk
    if (down) return;
    // device 7 goes down: the kernel drops its routes from every table, then the copier hears of it
    down = true;
    for (const t of [MAIN, 100, 101]) for (const r of [...(k.tables.get(t)?.values() ?? [])]) if (r.value === V.link7) k.remove(t, r.key);
    copier.onLinkDown(7);
  };
  k.failWrite = (op, _t, kk) => (down && op === 'replace' && k.get(MAIN, kk) === undefined ? 100 /* ENETDOWN */ : 0);
  await copier.resync('start');
  assert.equal(down, true);
  assert.equal(copier.status().mainRoutes[4], 3000);
  const want = k.list(MAIN).map((r) => r.replace(' proto 4 ', ' proto 78 '));
  for (const t of [100, 101]) {
    const have = new Set(k.list(t));
    const missing = want.filter((r) => !have.has(r));
    assert.deepEqual(missing.slice(0, 5), [], `table ${t}: ${missing.length} of main's routes not copied`);
  }
});

// ---------------------------------------------------------------------------
// Bulk resyncs with the event socket paused (CopyPort.pauseEvents / resumeEvents)

/** A kernel whose event stream the copier can pause: events are delivered only while it listens. */
class PausingKernel extends FakeKernel {
  paused = false;
  pauses = 0;
  resumes = 0;
  pauseEvents(): void {
    assert.equal(this.paused, false);
    this.paused = true;
    this.pauses++;
  }
  async resumeEvents(): Promise<void> {
    await new Promise((r) => setImmediate(r));
    this.paused = false;
    this.resumes++;
  }
  /** A change of main and its event, which is lost while paused. */
  change(copier: RouteCopier, op: 'new' | 'del', k: RouteKey, value = V.link2): void {
    if (op === 'new') this.put(MAIN, k, 4, value);
    else this.remove(MAIN, k);
    if (!this.paused) copier.onDatagram(event(op, MAIN, k, 4, value));
  }
}

/** `n` distinct /24s (IPv4) or /48s (IPv6) from a seed. */
function manyKeys(family: 4 | 6, n: number, seed: number): RouteKey[] {
  const rnd = prng32(seed);
  const out = new Map<string, RouteKey>();
  while (out.size < n) {
    const a = rnd();
    const kk =
      family === 4 ? key(`${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.0/24`) : key(`2001:${(a >>> 16).toString(16)}:${(a & 0xffff).toString(16)}::/48`);
    out.set(kid(kk), kk);
  }
  return [...out.values()];
}

const copiesOfMain = (k: FakeKernel, family: 4 | 6) =>
  [...k.tables.get(MAIN)!.values()]
    .filter((r) => r.key.family === family && r.key.len > 0)
    .map((r) => `${formatKey(r.key)} proto 78 ${nameOf(r.value)}`)
    .sort();
const copiesIn = (k: FakeKernel, table: number, family: 4 | 6) =>
  [...(k.tables.get(table)?.values() ?? [])]
    .filter((r) => r.key.family === family && r.protocol === COPY)
    .map((r) => `${formatKey(r.key)} proto 78 ${nameOf(r.value)}`)
    .sort();

test("bulk resync: events paused around a large write, main's changes meanwhile caught by a second dump", async () => {
  const k = new PausingKernel();
  for (const kk of manyKeys(4, 2200, 21)) k.put(MAIN, kk, 4, V.link2);
  const small = new PausingKernel();
  for (const kk of manyKeys(4, 100, 22)) small.put(MAIN, kk, 4, V.link2);
  const copier = new RouteCopier(k, { tables: TABLES, protocol: COPY, ownProtocol: OWN, filter: simpleFilter, log: () => {} });
  const X = key('10.50.0.0/16');
  const [R, Q] = [...k.tables.get(MAIN)!.values()].map((r) => r.key);
  let changed = false;
  k.onWrite = () => {
    if (changed) return;
    changed = true;
    assert.equal(k.paused, true, 'the bulk write runs with events paused');
    k.change(copier, 'new', X, V.gw2);
    k.change(copier, 'del', R!);
    k.change(copier, 'new', Q!, V.gw2b);
  };
  await copier.resync('start');
  await settle();
  k.onWrite = undefined;
  assert.equal(changed, true);
  assert.equal(k.pauses, 1);
  assert.equal(k.resumes, 1);
  assert.equal(k.paused, false);
  for (const t of [100, 101]) assert.deepEqual(copiesIn(k, t, 4), copiesOfMain(k, 4), `table ${t}`);
  assert.equal(copier.status().mainRoutes[4], 2200);
  checkDatagrams(k);
  // live events after it are mirrored as usual
  k.change(copier, 'new', N, V.gw2);
  await settle();
  for (const t of [100, 101]) assert.deepEqual(copiesIn(k, t, 4), copiesOfMain(k, 4));
  // a check agrees
  await copier.resync('periodic check');
  assert.equal(copier.status().lastResync!.drift, false);
  assert.equal(k.pauses, 1);
  // a small resync does not pause events
  const c2 = new RouteCopier(small, { tables: TABLES, protocol: COPY, ownProtocol: OWN, filter: simpleFilter, log: () => {} });
  await c2.resync('start');
  assert.equal(small.pauses, 0);
  assert.deepEqual(copiesIn(small, 100, 4), copiesOfMain(small, 4));
});

test('bulk resync: a change of the other family while events are paused is not lost', async () => {
  const k = new PausingKernel();
  const tables: CopyTable[] = [
    { provider: 'isp1', table: 100, families: [4, 6] },
    { provider: 'isp2', table: 101, families: [4, 6] },
  ];
  k.put(MAIN, A, 2, V.link2);
  for (const kk of manyKeys(6, 2100, 23)) k.put(MAIN, kk, 4, V.link2);
  const copier = new RouteCopier(k, { tables, protocol: COPY, ownProtocol: OWN, filter: simpleFilter, log: () => {} });
  const X = key('10.50.0.0/16');
  k.onWrite = () => {
    // IPv4 is done; the IPv6 bulk write runs with events paused: an IPv4 route is added meanwhile
    if (k.paused && !k.get(MAIN, X)) k.change(copier, 'new', X, V.gw2);
  };
  await copier.resync('start');
  await settle();
  k.onWrite = undefined;
  assert.ok(k.get(MAIN, X));
  assert.equal(k.pauses, 1);
  for (const t of [100, 101]) assert.deepEqual(copiesIn(k, t, 6), copiesOfMain(k, 6));
  for (const t of [100, 101]) assert.deepEqual(copiesIn(k, t, 4), copiesOfMain(k, 4), `IPv4 copies in table ${t}`);
});

test('bulk resync: events buffered before the pause are not replayed over the newer catch-up dump', async () => {
  const k = new PausingKernel();
  for (const kk of manyKeys(4, 2200, 24)) k.put(MAIN, kk, 4, V.link2);
  const copier = new RouteCopier(k, { tables: TABLES, protocol: COPY, ownProtocol: OWN, filter: simpleFilter, log: () => {} });
  const X = key('10.50.0.0/16');
  k.onDump = (n) => {
    // during the first dump of main (events still on): X is added, its event buffered
    if (n === 1) k.change(copier, 'new', X, V.gw2);
  };
  k.onWrite = () => {
    // during the bulk write (events paused): X goes again, its event lost
    if (k.paused && k.get(MAIN, X)) k.change(copier, 'del', X, V.gw2);
  };
  await copier.resync('start');
  await settle();
  k.onDump = undefined;
  k.onWrite = undefined;
  assert.equal(k.get(MAIN, X), undefined);
  assert.equal(k.pauses, 1);
  for (const t of [100, 101]) assert.ok(!k.get(t, X), `no copy of ${formatKey(X)} in table ${t}: main does not have it`);
  assert.equal(copier.status().mainRoutes[4], 2200);
});

test('a live write that fails (the socket reported an error) is followed by a resync that repairs the copies', async () => {
  const { k, copier, logs } = setup();
  await copier.resync('start');
  const resyncs = copier.status().resyncs;
  let fail = true;
  k.onWrite = () => {
    if (fail) {
      fail = false;
      throw new Error('route writes: No buffer space available');
    }
  };
  k.put(MAIN, N, 4, V.gw2);
  copier.onDatagram(event('new', MAIN, N, 4, V.gw2));
  await settle();
  await settle();
  k.onWrite = undefined;
  assert.ok(
    logs.some((l) => l.event === 'error' && l.during === 'copy'),
    JSON.stringify(logs),
  );
  assert.equal(copier.status().resyncs, resyncs + 1);
  assert.ok(k.list(100).includes('10.5.0.0/16 proto 78 gw2'), k.list(100).join(', '));
  assert.ok(k.list(101).includes('10.5.0.0/16 proto 78 gw2'));
});

// ---------------------------------------------------------------------------
// The rehearsal after the first resync (warmup.ts)

test('rehearsal: after the first resync, synthetic adds and deletes go through the live path and nothing is written', async () => {
  const { k, copier, logs } = setup({ rehearse: true });
  const plain = setup();
  await plain.copier.resync('start');
  await copier.resync('start');
  await settle();
  // every synthetic key was written (dry) to both tables, added and then deleted
  const added = k.dry.filter((w) => w.op === 'replace');
  const deleted = k.dry.filter((w) => w.op === 'delete');
  assert.ok(added.length > 1000, `${added.length} dry adds`);
  assert.equal(deleted.length, added.length);
  assert.deepEqual(new Set(added.map((w) => w.table)), new Set([100, 101]));
  assert.ok(added.every((w) => w.route.startsWith('240.') && w.protocol === COPY));
  // nothing of it in the kernel, main's set, the counters, the values or the logs
  assert.deepEqual(k.list(100), EXPECT_100);
  assert.deepEqual(k.list(101), EXPECT_101);
  assert.deepEqual(k.writes, plain.k.writes);
  const st = copier.status();
  const { lastResync: _a, ...rest } = st;
  const { lastResync: _b, ...restPlain } = plain.copier.status();
  assert.deepEqual(rest, restPlain);
  assert.deepEqual(
    logs.map((l) => l.event),
    plain.logs.map((l) => l.event),
  );
  // once: the next resync does not rehearse
  const dry = k.dry.length;
  await copier.resync('periodic check');
  assert.equal(k.dry.length, dry);
});

test('rehearsal: events that arrive while it runs wait, and are copied after it', async () => {
  const { k, copier } = setup({ rehearse: true });
  let arrived = false;
  k.onDryWrite = () => {
    if (arrived) return;
    arrived = true;
    k.put(MAIN, N, 4, V.gw2);
    copier.onDatagram(event('new', MAIN, N, 4, V.gw2));
    assert.ok(!k.list(100).some((r) => r.startsWith('10.5.')));
  };
  await copier.resync('start');
  await settle();
  assert.ok(arrived);
  assert.ok(k.list(100).includes('10.5.0.0/16 proto 78 gw2'));
  assert.ok(k.list(101).includes('10.5.0.0/16 proto 78 gw2'));
  assert.equal(copier.status().eventsApplied, 1);
  assert.equal(copier.status().mainRoutes[4], 6);
});

test('rehearsal: stopped in the middle, none of its writes ever reaches the kernel and main keeps none of its keys', async () => {
  const { k, copier } = setup({ rehearse: true });
  // stopped after the first turn's adds were written (dry), before their deletes
  k.onDryWrite = () => copier.stop();
  await copier.resync('start');
  await settle();
  assert.ok(k.dry.length > 0);
  assert.ok(
    k.dry.every((w) => w.op === 'replace'),
    'stopped before any delete',
  );
  assert.ok(!k.writes.some((w) => w.route.startsWith('240.')));
  assert.deepEqual(copier.status().mainRoutes, { 4: 5, 6: 0 });
  assert.equal(copier.status().eventsApplied, 0);
  assert.deepEqual(k.list(100), EXPECT_100);
});

test('rehearsal: a resync asked for while it runs follows it, and does not rehearse again', async () => {
  const { k, copier, logs } = setup({ rehearse: true });
  const asked: { resync?: Promise<void> } = {};
  k.onDryWrite = () => {
    if (asked.resync) return;
    // meanwhile a copy went missing behind the copier's back
    k.remove(101, A);
    asked.resync = copier.resync('periodic check');
  };
  await copier.resync('start');
  assert.ok(asked.resync);
  await asked.resync;
  await settle();
  const dry = k.dry.length;
  assert.equal(k.dry.filter((w) => w.op === 'delete').length, dry / 2, 'one rehearsal, whole');
  assert.equal(copier.status().resyncs, 2);
  assert.deepEqual(
    logs.filter((l) => l.event === 'copy-resync' || l.event === 'copy-drift-repaired').map((l) => l.event),
    ['copy-resync', 'copy-drift-repaired'],
  );
  assert.deepEqual(k.list(101), EXPECT_101);
  assert.ok(!k.writes.some((w) => w.route.startsWith('240.')));
});

test('rehearsal: writes of events heard before the first resync are written for real, never dry', async () => {
  const { k, copier } = setup({ rehearse: true });
  // enough routes for several datagrams, each write slow: the flush is still running when
  // the resync (fast on the fake) is done and the rehearsal begins
  const keys = Array.from({ length: 1500 }, (_, i) => key(`10.${100 + (i >> 8)}.${i & 255}.0/24`));
  for (const x of keys) {
    k.put(MAIN, x, 4, V.gw2);
    copier.onDatagram(event('new', MAIN, x, 4, V.gw2));
  }
  k.onWrite = () => new Promise((r) => setTimeout(r, 5));
  await copier.resync('start');
  await copier.idle();
  await settle();
  assert.ok(k.dry.length > 0);
  assert.deepEqual(
    k.dry.filter((w) => !w.route.startsWith('240.')),
    [],
  );
  for (const x of keys) assert.ok(k.get(100, x) && k.get(101, x), formatKey(x));
});

test('rehearsal: IPv6 only, keys of 100::/64', async () => {
  const k = new FakeKernel();
  const routes = [key('2001:db8:1::/48'), key('2001:db8:2::/48'), key('2001:db8:3::/48')];
  for (const r of routes) k.put(MAIN, r, 4, V.link2);
  const tables: CopyTable[] = [{ provider: 'isp1', table: 100, families: [6] }];
  const copier = new RouteCopier(k, { tables, protocol: COPY, ownProtocol: OWN, filter: simpleFilter, log: () => {}, rehearse: true });
  await copier.resync('start');
  await settle();
  assert.ok(k.dry.length > 1000, `${k.dry.length} dry writes`);
  assert.ok(
    k.dry.every((w) => w.route.startsWith('100::') && w.route.endsWith('/80') && w.table === 100),
    k.dry[0]?.route,
  );
  assert.deepEqual(
    k.list(100),
    routes.map((r) => `${formatKey(r)} proto 78 link2`),
  );
  assert.deepEqual(copier.status().mainRoutes, { 4: 0, 6: 3 });
  assert.equal(copier.status().values, 1);
});

test('rehearsal: with routes added by hand not copied, its events are of a protocol that is', async () => {
  const boot: CopyFilter = (r) => simpleFilter(r) && r.protocol !== 3;
  const { k, copier } = setup({ rehearse: true, filter: boot });
  await copier.resync('start');
  await settle();
  assert.ok(k.dry.length > 1000, `${k.dry.length} dry writes`);
  const plain = setup({ filter: boot });
  await plain.copier.resync('start');
  assert.deepEqual(copier.status().mainRoutes, plain.copier.status().mainRoutes);
});

test('rehearsal: nothing the filter copies in 240.0.0.0/4 (excluded): no rehearsal, nothing changed', async () => {
  const no240: CopyFilter = (r) => simpleFilter(r) && !(r.family === 4 && r.dst[0]! >= 240);
  const { k, copier } = setup({ rehearse: true, filter: no240 });
  await copier.resync('start');
  await settle();
  assert.equal(k.dry.length, 0);
  assert.deepEqual(k.list(100), EXPECT_100);
});

test('rehearsal: a key main holds is not rehearsed, and main keeps it', async () => {
  const { k, copier } = setup({ rehearse: true });
  const held = key('240.0.5.0/24');
  k.put(MAIN, held, 4, V.gw2);
  await copier.resync('start');
  await settle();
  assert.ok(!k.dry.some((w) => w.route === '240.0.5.0/24'));
  assert.ok(k.list(100).includes('240.0.5.0/24 proto 78 gw2'));
  assert.equal(copier.status().mainRoutes[4], 6);
  // and it is still followed: deleted from main, deleted from the copies
  k.remove(MAIN, held);
  copier.onDatagram(event('del', MAIN, held, 4, V.gw2));
  await settle();
  assert.ok(!k.list(100).some((r) => r.startsWith('240.')));
});

test('rehearsal: without IPv4 routes in main there is nothing to rehearse', async () => {
  const k = new FakeKernel();
  const copier = new RouteCopier(k, { tables: TABLES, protocol: COPY, ownProtocol: OWN, filter: simpleFilter, log: () => {}, rehearse: true });
  await copier.resync('start');
  assert.equal(k.dry.length, 0);
});

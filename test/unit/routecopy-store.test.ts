import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RouteKey } from '../../src/routecopy/codec.js';
import { formatKey, keyAddress, RouteSet, ValuePool } from '../../src/routecopy/store.js';
import { prng32 } from '../../src/util/prng.js';

const prng = prng32;

/** Reference-model key: every field, the destination at full width (missing bytes are zeros). */
function refId(k: RouteKey): string {
  const n = k.family === 4 ? 4 : 16;
  const b: number[] = [];
  for (let i = 0; i < n; i++) b.push(k.dst[i] ?? 0);
  return `${k.family}|${b.map((x) => x.toString(16).padStart(2, '0')).join('')}|${k.len}|${k.tos}|${k.metric}`;
}

/** A random key from a smallish universe, so that operations hit existing keys often. */
function keyGen(family: 4 | 6, seed: number, universe: number): () => RouteKey {
  const rnd = prng(seed);
  const n = family === 4 ? 4 : 16;
  const bases: Uint8Array[] = [];
  for (let i = 0; i < universe; i++) {
    const d = new Uint8Array(n);
    for (let j = 0; j < n; j++) d[j] = rnd() & 255;
    bases.push(d);
  }
  const metrics = family === 4 ? [0, 0, 100, 0xffffffff] : [1024, 1024, 256, 0];
  const toss = [0, 0, 0, 0x10];
  return () => {
    const dst = Uint8Array.from(bases[rnd() % universe]!);
    // keys differing only in length, metric or tos are distinct
    const len = [8, 16, 24, n * 8][rnd() & 3]!;
    return { family, dst, len, tos: toss[rnd() & 3]!, metric: metrics[rnd() & 3]! };
  };
}

/** Everything iteration finds, as reference ids → value ids; also checks keyAt/valueAt/slotOf agree. */
function contents(set: RouteSet): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of set.slots()) {
    const k = set.keyAt(s);
    assert.equal(k.family, set.family);
    assert.equal(k.dst.length, set.family === 4 ? 4 : 16);
    const id = refId(k);
    assert.ok(!out.has(id), `key ${id} found twice`);
    out.set(id, set.valueAt(s));
    assert.equal(set.slotOf(k), s);
    assert.equal(set.get(k), set.valueAt(s));
  }
  return out;
}

function assertSame(set: RouteSet, ref: Map<string, { key: RouteKey; value: number }>, what: string): void {
  assert.equal(set.size, ref.size, `${what}: size`);
  const got = contents(set);
  assert.equal(got.size, ref.size, `${what}: iterated entries`);
  for (const [id, { key, value }] of ref) {
    assert.equal(got.get(id), value, `${what}: ${id}`);
    assert.equal(set.get(key), value, `${what}: get ${id}`);
  }
}

/** A random sequence of set/delete/get against a Map. */
function randomOps(family: 4 | 6, seed: number, ops: number, universe: number, expected: number): RouteSet {
  const set = new RouteSet(family, expected);
  const initialCap = set.capacity;
  const ref = new Map<string, { key: RouteKey; value: number }>();
  const rnd = prng(seed ^ 0x5bd1e995);
  const nextKey = keyGen(family, seed, universe);
  let maxSize = 0;
  for (let i = 0; i < ops; i++) {
    const k = nextKey();
    const id = refId(k);
    const op = rnd() % 10;
    if (op < 5) {
      const v = rnd() % 12;
      const before = ref.get(id);
      const want = before === undefined ? 'added' : before.value === v ? 'same' : 'changed';
      assert.equal(set.set(k, v), want, `op ${i}: set ${id}`);
      ref.set(id, { key: k, value: v });
    } else if (op < 8) {
      assert.equal(set.delete(k), ref.delete(id), `op ${i}: delete ${id}`);
    } else {
      assert.equal(set.get(k), ref.get(id)?.value ?? -1, `op ${i}: get ${id}`);
      assert.equal(set.slotOf(k) >= 0, ref.has(id), `op ${i}: slotOf ${id}`);
    }
    assert.equal(set.size, ref.size, `op ${i}: size`);
    maxSize = Math.max(maxSize, set.size);
    if (i % 5000 === 4999) assertSame(set, ref, `after op ${i}`);
  }
  assertSame(set, ref, 'at the end');
  // the table grew past its initial capacity and keeps its load under 60%
  assert.ok(maxSize * 10 > initialCap * 6, `the test should outgrow the initial capacity (${maxSize} vs ${initialCap})`);
  assert.ok(set.capacity > initialCap);
  assert.ok(maxSize * 10 <= set.capacity * 6);
  return set;
}

// ---------------------------------------------------------------------------
// ValuePool

test('ValuePool interns: equal strings share an id, ids are dense and stable', () => {
  const pool = new ValuePool();
  assert.equal(pool.size, 0);
  const a = pool.intern('\x01\x00\x00\x00abc');
  const b = pool.intern('\x01\xfd\x00\x00');
  assert.equal(a, 0);
  assert.equal(b, 1);
  assert.equal(pool.intern('\x01\x00\x00\x00abc'), a);
  assert.equal(pool.size, 2);
  assert.equal(pool.value(a), '\x01\x00\x00\x00abc');
  assert.equal(pool.value(b), '\x01\xfd\x00\x00');
  // latin1 strings with every byte value survive
  const all = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
  const c = pool.intern(all);
  assert.equal(pool.value(c), all);
  assert.equal(pool.intern(all.slice()), c);
  assert.equal(pool.size, 3);
});

// ---------------------------------------------------------------------------
// RouteSet against a Map

test('RouteSet: 50,000 random IPv4 set/delete/get operations match a Map', () => {
  randomOps(4, 1, 50_000, 3000, 1);
});

test('RouteSet: 5,000 random IPv6 set/delete/get operations match a Map', () => {
  randomOps(6, 2, 5_000, 400, 1);
});

test('RouteSet: a large initial capacity does not change behaviour', () => {
  const set = new RouteSet(4, 100_000);
  assert.ok(set.capacity >= 200_000);
  const ref = new Map<string, { key: RouteKey; value: number }>();
  const next = keyGen(4, 9, 500);
  for (let i = 0; i < 3000; i++) {
    const k = next();
    set.set(k, i % 7);
    ref.set(refId(k), { key: k, value: i % 7 });
  }
  assertSame(set, ref, 'large table');
});

test('RouteSet: keys differing only in metric, tos or length are distinct; family width and short dst', () => {
  const set = new RouteSet(4);
  const dst = Uint8Array.from([10, 0, 0, 0]);
  const base: RouteKey = { family: 4, dst, len: 8, tos: 0, metric: 0 };
  assert.equal(set.set(base, 1), 'added');
  assert.equal(set.set({ ...base, metric: 100 }, 2), 'added');
  assert.equal(set.set({ ...base, tos: 0x10 }, 3), 'added');
  assert.equal(set.set({ ...base, len: 16 }, 4), 'added');
  assert.equal(set.set({ ...base, metric: 0xffffffff }, 5), 'added');
  assert.equal(set.size, 5);
  assert.equal(set.get(base), 1);
  assert.equal(set.get({ ...base, metric: 100 }), 2);
  assert.equal(set.get({ ...base, tos: 0x10 }), 3);
  assert.equal(set.get({ ...base, len: 16 }), 4);
  assert.equal(set.get({ ...base, metric: 0xffffffff }), 5);
  assert.equal(set.get({ ...base, tos: 0x10, metric: 100 }), -1);
  // a short destination (missing bytes are zeros) is the same key as the full one
  assert.equal(set.get({ ...base, dst: Uint8Array.from([10]) }), 1);
  assert.equal(set.set({ ...base, dst: Uint8Array.from([10, 0]) }, 1), 'same');
  assert.equal(set.set({ ...base, dst: Uint8Array.from([10, 0]) }, 9), 'changed');
  assert.equal(set.get(base), 9);
  // the default route: no destination bytes at all
  const def: RouteKey = { family: 4, dst: new Uint8Array(0), len: 0, tos: 0, metric: 0 };
  assert.equal(set.set(def, 7), 'added');
  assert.equal(set.get({ ...def, dst: new Uint8Array(4) }), 7);
  const slot = set.slotOf(def);
  assert.deepEqual(set.keyAt(slot), { family: 4, dst: new Uint8Array(4), len: 0, tos: 0, metric: 0 });
  // keyAt gives a fresh object each time
  assert.notEqual(set.keyAt(slot).dst, set.keyAt(slot).dst);
  // a dst that is a view into a larger buffer (as decodeRoute gives) works
  const buf = Buffer.from([0xaa, 10, 0, 0, 0, 0xbb]);
  assert.equal(set.get({ ...base, dst: buf.subarray(1, 5) }), 9);
  // IPv6: all 16 bytes count
  const s6 = new RouteSet(6);
  const d6 = new Uint8Array(16);
  d6[0] = 0x20;
  d6[1] = 0x01;
  const k6: RouteKey = { family: 6, dst: d6, len: 128, tos: 0, metric: 1024 };
  assert.equal(s6.set(k6, 1), 'added');
  for (let i = 0; i < 16; i++) {
    const d = Uint8Array.from(d6);
    d[i] = d[i]! ^ 1;
    assert.equal(s6.get({ ...k6, dst: d }), -1, `byte ${i}`);
    assert.equal(s6.set({ ...k6, dst: d }, 2), 'added');
  }
  assert.equal(s6.size, 17);
  assert.equal(s6.get(k6), 1);
  assert.deepEqual(s6.keyAt(s6.slotOf(k6)), k6);
});

test('RouteSet: delete, clear, bytes, capacity', () => {
  const set = new RouteSet(4, 1);
  assert.equal(set.capacity, 16);
  assert.equal(set.bytes, 16 * 3 * 4 + 16 * 4);
  const k: RouteKey = { family: 4, dst: Uint8Array.from([192, 0, 2, 0]), len: 24, tos: 0, metric: 0 };
  assert.equal(set.delete(k), false);
  assert.equal(set.slotOf(k), -1);
  set.set(k, 3);
  assert.equal(set.delete(k), true);
  assert.equal(set.delete(k), false);
  assert.equal(set.size, 0);
  assert.deepEqual([...set.slots()], []);
  const next = keyGen(4, 3, 1000);
  for (let i = 0; i < 100; i++) set.set(next(), 1);
  assert.ok(set.size > 50);
  assert.ok(set.capacity >= 128);
  assert.equal(set.bytes, set.capacity * 16);
  set.clear();
  assert.equal(set.size, 0);
  assert.deepEqual([...set.slots()], []);
  assert.equal(set.set(k, 4), 'added');
  assert.equal(set.get(k), 4);
  assert.equal(set.size, 1);
  const s6 = new RouteSet(6, 1);
  assert.equal(s6.bytes, 16 * 6 * 4 + 16 * 4);
});

// ---------------------------------------------------------------------------
// Backward-shift deletion: runs of colliding keys in a 16-slot table

/** Candidate keys grouped by home slot in a 16-slot table (a key alone in the table sits at its home). */
function keysByHome(family: 4 | 6, count: number, seed: number): Map<number, RouteKey[]> {
  const next = keyGen(family, seed, 100_000);
  const byHome = new Map<number, RouteKey[]>();
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    const k = next();
    if (seen.has(refId(k))) continue;
    seen.add(refId(k));
    const probe = new RouteSet(family, 1);
    probe.set(k, 0);
    const home = probe.slotOf(k);
    byHome.set(home, [...(byHome.get(home) ?? []), k]);
  }
  return byHome;
}

function shuffle<T>(a: T[], rnd: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rnd() % (i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

for (const family of [4, 6] as const) {
  test(`RouteSet: backward-shift deletion keeps colliding IPv${family} runs findable (every home slot, wrap-around)`, () => {
    const byHome = keysByHome(family, 4000, 40 + family);
    assert.equal(byHome.size, 16);
    const rnd = prng(77 + family);
    for (let home = 0; home < 16; home++) {
      const same = byHome.get(home)!;
      assert.ok(same.length >= 9, `home ${home}: ${same.length} candidates`);
      for (let round = 0; round < 20; round++) {
        // 9 keys fill a 16-slot table without growing it (60% load): all from one home, or
        // mixed with keys of the next homes so that runs merge (and wrap past slot 15)
        const pick =
          round % 2 === 0
            ? shuffle([...same], rnd).slice(0, 9)
            : shuffle(
                [
                  ...shuffle([...same], rnd).slice(0, 4),
                  ...shuffle([...byHome.get((home + 1) & 15)!], rnd).slice(0, 3),
                  ...shuffle([...byHome.get((home + 3) & 15)!], rnd).slice(0, 2),
                ],
                rnd,
              );
        const set = new RouteSet(family, 1);
        const ref = new Map<string, { key: RouteKey; value: number }>();
        pick.forEach((k, i) => {
          assert.equal(set.set(k, i), 'added');
          ref.set(refId(k), { key: k, value: i });
        });
        assert.equal(set.capacity, 16, 'the table must stay small');
        assertSame(set, ref, `home ${home} round ${round} filled`);
        for (const k of shuffle([...pick], rnd)) {
          assert.equal(set.delete(k), true);
          ref.delete(refId(k));
          assertSame(set, ref, `home ${home} round ${round} after a delete`);
          assert.equal(set.get(k), -1);
        }
        assert.equal(set.size, 0);
      }
    }
  });
}

test('RouteSet: 20,000 random operations on 9 keys in a 16-slot table (heavy probe-run churn)', () => {
  const byHome = keysByHome(4, 2000, 5);
  const rnd = prng(11);
  // three crowded homes next to each other, around the wrap
  const keys = [...byHome.get(14)!.slice(0, 3), ...byHome.get(15)!.slice(0, 3), ...byHome.get(0)!.slice(0, 3)];
  assert.equal(keys.length, 9);
  const set = new RouteSet(4, 1);
  const ref = new Map<string, { key: RouteKey; value: number }>();
  for (let i = 0; i < 20_000; i++) {
    const k: RouteKey = keys[rnd() % keys.length]!;
    const id = refId(k);
    if (rnd() & 1) {
      const v = rnd() % 3;
      const before = ref.get(id);
      assert.equal(set.set(k, v), before === undefined ? 'added' : before.value === v ? 'same' : 'changed');
      ref.set(id, { key: k, value: v });
    } else {
      assert.equal(set.delete(k), ref.delete(id));
    }
    for (const kk of keys) assert.equal(set.get(kk), ref.get(refId(kk))?.value ?? -1, `op ${i}`);
    assert.equal(set.size, ref.size);
  }
  assert.equal(set.capacity, 16);
  assertSame(set, ref, 'end');
});

test('RouteSet: growth keeps every entry (from 16 slots to 1M keys worth)', () => {
  const set = new RouteSet(4, 1);
  const caps = new Set<number>([set.capacity]);
  const n = 200_000;
  for (let i = 0; i < n; i++) {
    const dst = Uint8Array.from([i >>> 24, (i >>> 16) & 255, (i >>> 8) & 255, i & 255]);
    assert.equal(set.set({ family: 4, dst, len: 32, tos: 0, metric: 0 }, i & 1023), 'added');
    caps.add(set.capacity);
  }
  assert.equal(set.size, n);
  assert.ok(caps.size >= 14, `grew ${caps.size - 1} times`);
  for (let i = 0; i < n; i += 7) {
    const dst = Uint8Array.from([i >>> 24, (i >>> 16) & 255, (i >>> 8) & 255, i & 255]);
    assert.equal(set.get({ family: 4, dst, len: 32, tos: 0, metric: 0 }), i & 1023);
  }
  let count = 0;
  for (const s of set.slots()) {
    const k = set.keyAt(s);
    const i = ((k.dst[0]! << 24) | (k.dst[1]! << 16) | (k.dst[2]! << 8) | k.dst[3]!) >>> 0;
    assert.equal(set.valueAt(s), i & 1023);
    count++;
  }
  assert.equal(count, n);
});

// ---------------------------------------------------------------------------
// Text

test('formatKey and keyAddress', () => {
  const k = (family: 4 | 6, dst: number[], len: number, tos = 0, metric = 0): RouteKey => ({ family, dst: Uint8Array.from(dst), len, tos, metric });
  assert.equal(formatKey(k(4, [10, 0, 0, 0], 8)), '10.0.0.0/8');
  assert.equal(formatKey(k(4, [10], 8)), '10.0.0.0/8');
  assert.equal(formatKey(k(4, [192, 0, 2, 1], 32)), '192.0.2.1/32');
  assert.equal(formatKey(k(4, [], 0)), 'default');
  assert.equal(formatKey(k(6, [], 0)), 'default');
  assert.equal(formatKey(k(4, [], 0, 0, 100)), 'default metric 100');
  assert.equal(formatKey(k(6, [0x20, 0x01, 0x0d, 0xb8], 32, 0, 1024)), '2001:db8::/32 metric 1024');
  assert.equal(formatKey(k(6, [0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(12).fill(0)], 32, 0, 1024)), '2001:db8::/32 metric 1024');
  assert.equal(formatKey(k(6, [0xfe, 0x80], 64, 0, 256)), 'fe80::/64 metric 256');
  assert.equal(formatKey(k(4, [10, 1, 0, 0], 16, 16)), '10.1.0.0/16 tos 16');
  assert.equal(formatKey(k(4, [10, 1, 0, 0], 16, 16, 5)), '10.1.0.0/16 tos 16 metric 5');
  assert.equal(formatKey(k(4, [10, 1, 0, 0], 16, 0, 0xffffffff)), '10.1.0.0/16 metric 4294967295');
  assert.deepEqual(keyAddress(k(4, [10, 1, 2, 3], 32)), { family: 4, value: 0x0a010203n });
  assert.deepEqual(keyAddress(k(4, [], 0)), { family: 4, value: 0n });
  assert.deepEqual(keyAddress(k(6, [0x20, 0x01], 16)), { family: 6, value: 0x2001n << 112n });
});

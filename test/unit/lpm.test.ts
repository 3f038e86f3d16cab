import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAddress } from '../../src/net/ip.js';
import { intToIpv4, ipv4Mask, ipv4ToInt, Lpm4, Lpm6, parseIpv4Prefix, parseIpv6Prefix } from '../../src/net/lpm.js';
import { prng32 } from '../../src/util/prng.js';

const prng = prng32;

const v4 = (text: string): number => {
  const a = ipv4ToInt(text);
  assert.ok(a >= 0, text);
  return a;
};
const v6 = (text: string): bigint => {
  const a = parseAddress(text);
  assert.ok(a && a.family === 6, text);
  return a.value;
};

/** The chain longest → shortest as "net/len" texts. */
function chain4<T>(lpm: Lpm4<T>, addr: number): string[] {
  const out: string[] = [];
  for (let id = lpm.longest(addr); id >= 0; id = lpm.parent(id)) out.push(lpm.prefixText(id));
  return out;
}

// ---------------------------------------------------------------------------
// Text helpers

test('ipv4ToInt / intToIpv4 round trip and edges', () => {
  assert.equal(ipv4ToInt('0.0.0.0'), 0);
  assert.equal(ipv4ToInt('255.255.255.255'), 0xffffffff);
  assert.equal(ipv4ToInt('192.0.2.1'), 0xc0000201);
  assert.equal(ipv4ToInt('10.1.2.3'), 0x0a010203);
  assert.equal(intToIpv4(0xffffffff), '255.255.255.255');
  assert.equal(intToIpv4(-1), '255.255.255.255'); // int32 with the same bits
  assert.equal(intToIpv4(0), '0.0.0.0');
  const rnd = prng(1);
  for (let i = 0; i < 2000; i++) {
    const a = rnd();
    assert.equal(ipv4ToInt(intToIpv4(a)), a);
    const ref = parseAddress(intToIpv4(a));
    assert.equal(ref?.value, BigInt(a));
  }
  assert.equal(ipv4ToInt('1.2.3.4/24', 0, 7), 0x01020304);
});

test('ipv4ToInt rejects what ip.ts rejects', () => {
  for (const t of [
    '',
    '1',
    '1.2.3',
    '1.2.3.4.5',
    '256.0.0.1',
    '01.2.3.4',
    '1.2.3.04',
    '1..3.4',
    '.1.2.3',
    '1.2.3.',
    ' 1.2.3.4',
    '1.2.3.4 ',
    'a.b.c.d',
    '1.2.3.1000',
    '-1.2.3.4',
  ]) {
    assert.equal(ipv4ToInt(t), -1, t);
    // ip.ts trims spaces first; the fast parser takes route text as ip prints it.
    if (t.trim() === t) assert.equal(parseAddress(t)?.family === 4, false, t);
  }
  assert.equal(ipv4ToInt('0.0.0.0'), 0);
  assert.equal(ipv4ToInt('100.200.10.0'), 0x64c80a00);
});

test('parseIpv4Prefix reads ip -json route destinations', () => {
  assert.deepEqual(parseIpv4Prefix('default'), { network: 0, length: 0 });
  assert.deepEqual(parseIpv4Prefix('0.0.0.0/0'), { network: 0, length: 0 });
  assert.deepEqual(parseIpv4Prefix('192.0.2.7'), { network: 0xc0000207, length: 32 });
  assert.deepEqual(parseIpv4Prefix('192.0.2.0/24'), { network: 0xc0000200, length: 24 });
  assert.deepEqual(parseIpv4Prefix('10.0.0.0/8'), { network: 0x0a000000, length: 8 });
  assert.deepEqual(parseIpv4Prefix('255.255.255.255/32'), { network: 0xffffffff, length: 32 });
  for (const t of ['192.0.2.1/24', '10.0.0.0/33', '10.0.0.0/', '10.0.0.0/08', '10.0.0.0/x', '10.0.0/8', '2001:db8::/32', '1.2.3.0/024']) {
    assert.equal(parseIpv4Prefix(t), null, t);
  }
  assert.equal(ipv4Mask(0), 0);
  assert.equal(ipv4Mask(32) >>> 0, 0xffffffff);
  assert.equal(ipv4Mask(24) >>> 0, 0xffffff00);
});

test('parseIpv6Prefix', () => {
  assert.deepEqual(parseIpv6Prefix('default'), { network: 0n, length: 0 });
  assert.deepEqual(parseIpv6Prefix('2001:db8::/32'), { network: v6('2001:db8::'), length: 32 });
  assert.deepEqual(parseIpv6Prefix('2001:db8::1'), { network: v6('2001:db8::1'), length: 128 });
  assert.equal(parseIpv6Prefix('2001:db8::1/64'), null);
  assert.equal(parseIpv6Prefix('10.0.0.0/8'), null);
});

// ---------------------------------------------------------------------------
// Lpm4: fixed cases

test('Lpm4: nested prefixes, longest first, with the default and host routes', () => {
  const lpm = new Lpm4<string>();
  const add = (p: string, v: string): void => {
    const q = parseIpv4Prefix(p);
    assert.ok(q, p);
    lpm.add(q.network, q.length, v);
  };
  add('10.0.0.0/8', 'a');
  add('default', 'def');
  add('10.1.0.0/16', 'b');
  add('10.1.2.0/24', 'c');
  add('10.1.2.128/25', 'd');
  add('10.1.2.130/31', 'e');
  add('10.1.2.131', 'f');
  add('10.1.3.0/24', 'g');
  add('255.255.255.255/32', 'bcast');
  lpm.build();
  assert.equal(lpm.size, 9);
  assert.equal(lpm.chunkCount, 2); // 10.1.2.0/24 and 255.255.255.0/24 hold longer prefixes
  assert.deepEqual(chain4(lpm, v4('10.1.2.131')), ['10.1.2.131/32', '10.1.2.130/31', '10.1.2.128/25', '10.1.2.0/24', '10.1.0.0/16', '10.0.0.0/8', '0.0.0.0/0']);
  assert.deepEqual(chain4(lpm, v4('10.1.2.130')), ['10.1.2.130/31', '10.1.2.128/25', '10.1.2.0/24', '10.1.0.0/16', '10.0.0.0/8', '0.0.0.0/0']);
  assert.deepEqual(chain4(lpm, v4('10.1.2.129')), ['10.1.2.128/25', '10.1.2.0/24', '10.1.0.0/16', '10.0.0.0/8', '0.0.0.0/0']);
  assert.deepEqual(chain4(lpm, v4('10.1.2.127')), ['10.1.2.0/24', '10.1.0.0/16', '10.0.0.0/8', '0.0.0.0/0']);
  assert.deepEqual(chain4(lpm, v4('10.1.3.9')), ['10.1.3.0/24', '10.1.0.0/16', '10.0.0.0/8', '0.0.0.0/0']);
  assert.deepEqual(chain4(lpm, v4('10.1.4.9')), ['10.1.0.0/16', '10.0.0.0/8', '0.0.0.0/0']);
  assert.deepEqual(chain4(lpm, v4('10.2.0.0')), ['10.0.0.0/8', '0.0.0.0/0']);
  assert.deepEqual(chain4(lpm, v4('11.0.0.0')), ['0.0.0.0/0']);
  assert.deepEqual(chain4(lpm, v4('255.255.255.255')), ['255.255.255.255/32', '0.0.0.0/0']);
  assert.deepEqual(chain4(lpm, v4('255.255.255.254')), ['0.0.0.0/0']);
  assert.deepEqual(chain4(lpm, 0), ['0.0.0.0/0']);
  // An int32 with the same bits is the same address.
  assert.equal(lpm.longest(-1), lpm.longest(0xffffffff));
  assert.equal(lpm.valuesOf(lpm.longest(-1))[0], 'bcast');
  assert.deepEqual(
    [...lpm.matches(v4('10.1.4.9'))].map((id) => lpm.valuesOf(id)[0]),
    ['b', 'a', 'def'],
  );
  assert.deepEqual(lpm.prefixOf(lpm.longest(v4('10.1.2.131'))), { network: v4('10.1.2.131'), length: 32 });
  assert.equal(lpm.parent(-1), -1);
});

test('Lpm4: no default route means no match outside the prefixes', () => {
  const lpm = new Lpm4<number>();
  lpm.add(v4('192.0.2.0'), 24, 1);
  lpm.add(v4('192.0.2.64'), 26, 2);
  lpm.build();
  assert.equal(lpm.longest(v4('192.0.3.0')), -1);
  assert.equal(lpm.longest(v4('192.0.1.255')), -1);
  assert.deepEqual(chain4(lpm, v4('192.0.2.65')), ['192.0.2.64/26', '192.0.2.0/24']);
  assert.deepEqual(chain4(lpm, v4('192.0.2.128')), ['192.0.2.0/24']);
  assert.deepEqual([...lpm.matches(v4('8.8.8.8'))], []);
});

test('Lpm4: an empty index and an index with only the default route', () => {
  const empty = new Lpm4<number>();
  empty.build();
  assert.equal(empty.size, 0);
  assert.equal(empty.longest(0), -1);
  assert.equal(empty.longest(-1), -1);
  const def = new Lpm4<number>();
  def.add(0, 0, 7);
  def.build();
  for (const a of [0, 1, 0x7fffffff, 0x80000000, 0xffffffff]) {
    const id = def.longest(a);
    assert.deepEqual(def.prefixOf(id), { network: 0, length: 0 });
    assert.equal(def.parent(id), -1);
  }
});

test('Lpm4: a host route under no other prefix, at both ends of the space', () => {
  const lpm = new Lpm4<string>();
  lpm.add(0, 32, 'zero');
  lpm.add(0xffffffff, 32, 'ones');
  lpm.build();
  assert.equal(lpm.chunkCount, 2);
  assert.deepEqual(lpm.valuesOf(lpm.longest(0)), ['zero']);
  assert.deepEqual(lpm.valuesOf(lpm.longest(0xffffffff)), ['ones']);
  assert.equal(lpm.longest(1), -1);
  assert.equal(lpm.longest(0xfffffffe), -1);
  assert.equal(lpm.parent(lpm.longest(0)), -1);
});

test('Lpm4: many values at one prefix keep insertion order, duplicates do not add entries', () => {
  const lpm = new Lpm4<{ via: string }>();
  const n = 1000;
  for (let i = 0; i < n; i++) {
    lpm.add(v4('198.51.100.0'), 24, { via: `gw${i}` });
    if (i % 100 === 0) lpm.add(v4('198.51.100.0'), 25, { via: `long${i}` });
  }
  lpm.add(0, 0, { via: 'd1' });
  lpm.add(0, 0, { via: 'd2' });
  lpm.build();
  assert.equal(lpm.size, 3);
  assert.equal(lpm.totalValues, n + 10 + 2);
  const id = lpm.longest(v4('198.51.100.200'));
  assert.equal(lpm.valueCount(id), n);
  assert.deepEqual(
    lpm.valuesOf(id).map((v) => v.via),
    Array.from({ length: n }, (_, i) => `gw${i}`),
  );
  assert.equal(lpm.valueAt(id, 0).via, 'gw0');
  assert.equal(lpm.valueAt(id, n - 1).via, `gw${n - 1}`);
  assert.throws(() => lpm.valueAt(id, n), RangeError);
  const long = lpm.longest(v4('198.51.100.1'));
  assert.deepEqual(
    lpm.valuesOf(long).map((v) => v.via),
    Array.from({ length: 10 }, (_, i) => `long${i * 100}`),
  );
  assert.equal(lpm.parent(long), id);
  assert.deepEqual(
    lpm.valuesOf(lpm.parent(id)).map((v) => v.via),
    ['d1', 'd2'],
  );
});

test('Lpm4: arguments are checked, the index is frozen after build', () => {
  const lpm = new Lpm4<number>();
  assert.throws(() => lpm.add(v4('10.0.0.1'), 24, 1), /host bits/);
  assert.throws(() => lpm.add(0, 33, 1), RangeError);
  assert.throws(() => lpm.add(0, -1, 1), RangeError);
  assert.throws(() => lpm.add(2 ** 32, 0, 1), RangeError);
  assert.throws(() => lpm.add(1.5, 32, 1), RangeError);
  assert.throws(() => lpm.longest(0), /build/);
  lpm.add(0x80000000 | 0, 1, 1); // int32 form of 128.0.0.0
  lpm.build();
  assert.deepEqual(lpm.prefixOf(lpm.longest(v4('200.1.1.1'))), { network: 0x80000000, length: 1 });
  assert.throws(() => lpm.add(0, 0, 2), /frozen/);
  assert.throws(() => lpm.build(), /frozen/);
  assert.throws(() => lpm.prefixOf(5), RangeError);
});

// ---------------------------------------------------------------------------
// Lpm4 against a brute-force reference

interface Ref4 {
  net: number;
  len: number;
  values: number[];
}

/** Every stored prefix containing addr, longest first. */
function brute4(refs: Ref4[], addr: number): Ref4[] {
  return refs.filter((r) => ((addr ^ r.net) & ipv4Mask(r.len)) === 0).sort((a, b) => b.len - a.len);
}

function randomSet4(rnd: () => number, count: number, lenOf: () => number): { lpm: Lpm4<number>; refs: Ref4[] } {
  // Few "sites" so that prefixes nest and share /24 blocks.
  const sites = Array.from({ length: 1 + (count >> 3) }, () => rnd());
  const lpm = new Lpm4<number>();
  const byKey = new Map<string, Ref4>();
  for (let i = 0; i < count; i++) {
    const len = lenOf();
    const base = rnd() % 4 === 0 ? rnd() : sites[rnd() % sites.length]! ^ (rnd() & 0x3ff);
    const net = (base & ipv4Mask(len)) >>> 0;
    lpm.add(net, len, i);
    const key = `${net}/${len}`;
    let r = byKey.get(key);
    if (!r) byKey.set(key, (r = { net, len, values: [] }));
    r.values.push(i);
  }
  lpm.build();
  return { lpm, refs: [...byKey.values()] };
}

function checkAgainst4(lpm: Lpm4<number>, refs: Ref4[], addr: number): void {
  const want = brute4(refs, addr);
  const got: Ref4[] = [];
  let prevLen = 33;
  for (let id = lpm.longest(addr); id >= 0; id = lpm.parent(id)) {
    const p = lpm.prefixOf(id);
    assert.ok(p.length < prevLen, 'the chain gets strictly shorter');
    prevLen = p.length;
    got.push({ net: p.network, len: p.length, values: lpm.valuesOf(id) });
  }
  assert.deepEqual(got, want, `lookup ${intToIpv4(addr)}`);
}

test('Lpm4 matches a brute-force reference on random prefix sets', () => {
  const lenMixes: [string, (r: () => number) => number][] = [
    ['uniform 0..32', (r) => r() % 33],
    ['BGP-like', (r) => [8, 12, 16, 18, 20, 22, 23, 24, 24, 24, 24, 25, 26, 28, 30, 32][r() % 16]!],
    ['long only', (r) => 24 + (r() % 9)],
    ['short only', (r) => r() % 17],
  ];
  for (let seed = 1; seed <= 12; seed++) {
    const [name, mix] = lenMixes[seed % lenMixes.length]!;
    const rnd = prng(seed * 7919);
    const count = [1, 5, 40, 300, 2000][seed % 5]!;
    const { lpm, refs } = randomSet4(rnd, count, () => mix(rnd));
    assert.equal(lpm.size, refs.length, name);
    assert.equal(lpm.totalValues, count);
    // Lookups near the prefixes (their first, last and a random address) and random ones.
    for (const r of refs.slice(0, 500)) {
      const host = ~ipv4Mask(r.len);
      checkAgainst4(lpm, refs, r.net);
      checkAgainst4(lpm, refs, (r.net | host) >>> 0);
      checkAgainst4(lpm, refs, (r.net | (rnd() & host)) >>> 0);
      checkAgainst4(lpm, refs, (r.net ^ (1 << (31 - Math.min(r.len, 31)))) >>> 0);
    }
    for (let i = 0; i < 1500; i++) checkAgainst4(lpm, refs, rnd());
  }
});

test('Lpm4: parent ids point to shorter enclosing prefixes with smaller ids', () => {
  const rnd = prng(42);
  const { lpm, refs } = randomSet4(rnd, 3000, () => rnd() % 33);
  for (let id = 0; id < lpm.size; id++) {
    const p = lpm.parent(id);
    if (p < 0) {
      // No stored prefix encloses it.
      const me = lpm.prefixOf(id);
      assert.equal(brute4(refs, me.network).filter((r) => r.len < me.length).length, 0);
      continue;
    }
    assert.ok(p < id);
    const a = lpm.prefixOf(p);
    const b = lpm.prefixOf(id);
    assert.ok(a.length < b.length);
    assert.equal(((a.network ^ b.network) & ipv4Mask(a.length)) >>> 0, 0);
    // And it is the longest one enclosing it.
    const enclosing = brute4(refs, b.network).filter((r) => r.len < b.length);
    assert.equal(enclosing[0]?.len, a.length);
  }
});

// ---------------------------------------------------------------------------
// Lpm6

const V6_MAX = (1n << 128n) - 1n;
const mask6 = (len: number): bigint => (len === 0 ? 0n : (V6_MAX >> BigInt(128 - len)) << BigInt(128 - len));

function rand128(rnd: () => number): bigint {
  return (BigInt(rnd()) << 96n) | (BigInt(rnd()) << 64n) | (BigInt(rnd()) << 32n) | BigInt(rnd());
}

interface Ref6 {
  net: bigint;
  len: number;
  values: number[];
}

function brute6(refs: Ref6[], addr: bigint): Ref6[] {
  return refs.filter((r) => (addr & mask6(r.len)) === r.net).sort((a, b) => b.len - a.len);
}

function checkAgainst6(lpm: Lpm6<number>, refs: Ref6[], addr: bigint): void {
  const want = brute6(refs, addr);
  const got: Ref6[] = [];
  for (let id = lpm.longest(addr); id >= 0; id = lpm.parent(id)) {
    const p = lpm.prefixOf(id);
    got.push({ net: p.network, len: p.length, values: lpm.valuesOf(id) });
  }
  assert.deepEqual(got, want, `lookup ${addr.toString(16)}`);
}

test('Lpm6: nested prefixes, the default and a host route', () => {
  const lpm = new Lpm6<string>();
  const add = (t: string, v: string): void => {
    const p = parseIpv6Prefix(t);
    assert.ok(p, t);
    lpm.add(p.network, p.length, v);
  };
  add('2001:db8::/32', 'a');
  add('::/0', 'def');
  add('2001:db8:1::/48', 'b');
  add('2001:db8:1:2::/64', 'c');
  add('2001:db8:1:2::1', 'host');
  add('2001:db8:1:2::1', 'host2');
  add('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128', 'ones');
  lpm.build();
  assert.equal(lpm.size, 6);
  const names = (addr: bigint): string[] => [...lpm.matches(addr)].map((id) => lpm.valuesOf(id).join('+'));
  assert.deepEqual(names(v6('2001:db8:1:2::1')), ['host+host2', 'c', 'b', 'a', 'def']);
  assert.deepEqual(names(v6('2001:db8:1:2::2')), ['c', 'b', 'a', 'def']);
  assert.deepEqual(names(v6('2001:db8:1:3::2')), ['b', 'a', 'def']);
  assert.deepEqual(names(v6('2001:db8:2::')), ['a', 'def']);
  assert.deepEqual(names(v6('2001:db9::')), ['def']);
  assert.deepEqual(names(V6_MAX), ['ones', 'def']);
  assert.deepEqual(names(0n), ['def']);
  assert.deepEqual(lpm.prefixOf(lpm.longest(v6('2001:db8:1:2::1'))), { network: v6('2001:db8:1:2::1'), length: 128 });
  assert.throws(() => lpm.add(0n, 0, 'x'), /frozen/);
  const bad = new Lpm6<number>();
  assert.throws(() => bad.add(v6('2001:db8::1'), 64, 1), /host bits/);
  assert.throws(() => bad.add(0n, 129, 1), RangeError);
  assert.throws(() => bad.add(-1n, 0, 1), RangeError);
  assert.throws(() => bad.add(V6_MAX + 1n, 128, 1), RangeError);
  assert.throws(() => bad.longest(0n), /build/);
  bad.build();
  assert.equal(bad.longest(0n), -1);
});

test('Lpm6: every length around the number/bigint key boundary (/52, /53) and at the ends', () => {
  const addr = v6('2001:db8:abcd:ef12:3456:789a:bcde:f012');
  const lpm = new Lpm6<number>();
  for (let len = 0; len <= 128; len++) lpm.add(addr & mask6(len), len, len);
  lpm.build();
  assert.equal(lpm.size, 129);
  const chain = [...lpm.matches(addr)].map((id) => lpm.valueAt(id, 0));
  assert.deepEqual(
    chain,
    Array.from({ length: 129 }, (_, i) => 128 - i),
  );
  // Flip one bit: only the prefixes shorter than its position still match.
  for (const bit of [0, 1, 50, 51, 52, 53, 75, 76, 77, 127]) {
    const other = addr ^ (1n << BigInt(127 - bit));
    assert.equal(lpm.lengthOf(lpm.longest(other)), bit, `bit ${bit}`);
    assert.equal([...lpm.matches(other)].length, bit + 1);
  }
});

test('Lpm6 matches a brute-force reference on random prefix sets', () => {
  for (let seed = 1; seed <= 8; seed++) {
    const rnd = prng(seed * 104729);
    const count = [3, 50, 400, 1500][seed % 4]!;
    const sites = Array.from({ length: 1 + (count >> 3) }, () => rand128(rnd));
    const lpm = new Lpm6<number>();
    const byKey = new Map<string, Ref6>();
    for (let i = 0; i < count; i++) {
      const len = seed % 2 === 0 ? rnd() % 129 : [0, 16, 29, 32, 40, 44, 48, 48, 56, 60, 64, 64, 96, 112, 127, 128][rnd() % 16]!;
      const base = rnd() % 4 === 0 ? rand128(rnd) : sites[rnd() % sites.length]! ^ (rand128(rnd) >> BigInt(rnd() % 128));
      const net = base & mask6(len);
      lpm.add(net, len, i);
      const key = `${net}/${len}`;
      let r = byKey.get(key);
      if (!r) byKey.set(key, (r = { net, len, values: [] }));
      r.values.push(i);
    }
    lpm.build();
    const refs = [...byKey.values()];
    assert.equal(lpm.size, refs.length);
    assert.equal(lpm.totalValues, count);
    for (const r of refs.slice(0, 300)) {
      const host = V6_MAX ^ mask6(r.len);
      checkAgainst6(lpm, refs, r.net);
      checkAgainst6(lpm, refs, r.net | host);
      checkAgainst6(lpm, refs, r.net | (rand128(rnd) & host));
    }
    for (let i = 0; i < 1000; i++) checkAgainst6(lpm, refs, rand128(rnd));
    // Parents: shorter, enclosing, smaller id.
    for (let id = 0; id < lpm.size; id++) {
      const p = lpm.parent(id);
      if (p < 0) continue;
      const a = lpm.prefixOf(p);
      const b = lpm.prefixOf(id);
      assert.ok(p < id && a.length < b.length && (b.network & mask6(a.length)) === a.network);
    }
  }
});

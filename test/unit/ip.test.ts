import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  canonicalAddress,
  canonicalRouteDst,
  familyBits,
  formatAddress,
  formatPrefix,
  formatRouteDst,
  isLinkLocal,
  minimalPrefixes,
  networkOf,
  parseAddress,
  parsePrefix,
  prefixContains,
  type Address,
  type Family,
  type Prefix,
} from '../../src/net/ip.js';

/** Parse an address that must be valid. */
function addr(text: string): Address {
  const a = parseAddress(text);
  assert.ok(a, `expected ${JSON.stringify(text)} to parse`);
  return a;
}

/** Parse a prefix that must be valid. */
function pfx(text: string, fam?: Family): Prefix {
  const r = parsePrefix(text, fam);
  assert.ok(r.ok, `expected ${JSON.stringify(text)} to parse: ${r.ok ? '' : r.reason}`);
  return r.prefix;
}

/** Round trip through parse and format. */
const canon = (text: string): string => formatAddress(addr(text));

// ---------------------------------------------------------------- IPv4

test('parseAddress: IPv4 dotted quads become family 4 with the right value', () => {
  assert.deepEqual(parseAddress('0.0.0.0'), { family: 4, value: 0n, v4: 0 });
  assert.deepEqual(parseAddress('255.255.255.255'), { family: 4, value: 0xffffffffn, v4: 4294967295 });
  assert.deepEqual(parseAddress('192.168.99.1'), { family: 4, value: 0xc0a86301n, v4: 3232260865 });
  assert.deepEqual(parseAddress('10.0.0.1'), { family: 4, value: 0x0a000001n, v4: 167772161 });
  assert.deepEqual(parseAddress('1.2.3.4'), { family: 4, value: 0x01020304n, v4: 16909060 });
});

test('parseAddress: surrounding whitespace is ignored', () => {
  assert.deepEqual(parseAddress('  10.0.0.1 '), { family: 4, value: 0x0a000001n, v4: 167772161 });
  assert.deepEqual(parseAddress('\t::1\n'), { family: 6, value: 1n });
});

test('parseAddress: invalid IPv4 text is rejected', () => {
  for (const bad of [
    '01.2.3.4', // leading zero: octal to some tools
    '1.2.3.04',
    '1.02.3.4',
    '00.0.0.0',
    '256.0.0.0',
    '1.2.3.256',
    '1.2.3.999',
    '1.2.3',
    '1.2.3.4.5',
    '1.2.3.',
    '.1.2.3',
    '1..2.3',
    '1.2.3.-4',
    '1.2.3.4a',
    '1.2.3.1234',
    '0x1.2.3.4',
    '1.2.3.+4',
    '',
    ' ',
    'localhost',
  ]) {
    assert.equal(parseAddress(bad), null, `${JSON.stringify(bad)} should not parse`);
  }
});

test('formatAddress: IPv4 as plain dotted decimal', () => {
  assert.equal(formatAddress({ family: 4, value: 0n }), '0.0.0.0');
  assert.equal(formatAddress({ family: 4, value: 0xffffffffn }), '255.255.255.255');
  assert.equal(formatAddress({ family: 4, value: 0xc0a86300n }), '192.168.99.0');
  assert.equal(formatAddress({ family: 4, value: 0x0a00000an }), '10.0.0.10');
});

// ---------------------------------------------------------------- IPv6 parsing

test('parseAddress: IPv6 full, compressed and the unspecified address', () => {
  assert.deepEqual(parseAddress('::'), { family: 6, value: 0n });
  assert.deepEqual(parseAddress('::1'), { family: 6, value: 1n });
  assert.deepEqual(parseAddress('1::'), { family: 6, value: 1n << 112n });
  assert.deepEqual(parseAddress('2001:db8::1'), { family: 6, value: (0x20010db8n << 96n) | 1n });
  assert.deepEqual(parseAddress('2001:0db8:0000:0000:0000:0000:0000:0001'), { family: 6, value: (0x20010db8n << 96n) | 1n });
  assert.deepEqual(parseAddress('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), { family: 6, value: (1n << 128n) - 1n });
  assert.deepEqual(parseAddress('1:2:3:4:5:6:7:8'), { family: 6, value: 0x00010002000300040005000600070008n });
});

test('parseAddress: IPv6 "::" standing for exactly one group is accepted on input', () => {
  assert.deepEqual(parseAddress('1:2:3:4:5:6:7::'), { family: 6, value: 0x00010002000300040005000600070000n });
  assert.deepEqual(parseAddress('::2:3:4:5:6:7:8'), { family: 6, value: 0x00000002000300040005000600070008n });
  assert.deepEqual(parseAddress('1:2:3::5:6:7:8'), { family: 6, value: 0x00010002000300000005000600070008n });
});

test('parseAddress: IPv6 hex digits are case-insensitive', () => {
  assert.deepEqual(parseAddress('2001:DB8::ABCD'), parseAddress('2001:db8::abcd'));
  assert.deepEqual(parseAddress('FE80::1'), { family: 6, value: (0xfe80n << 112n) | 1n });
});

test('parseAddress: IPv6 with an embedded IPv4 tail', () => {
  assert.deepEqual(parseAddress('::ffff:192.0.2.1'), { family: 6, value: (0xffffn << 32n) | 0xc0000201n });
  assert.deepEqual(parseAddress('::192.0.2.1'), { family: 6, value: 0xc0000201n });
  assert.deepEqual(parseAddress('64:ff9b::203.0.113.7'), { family: 6, value: (0x64ff9bn << 96n) | 0xcb007107n });
  assert.deepEqual(parseAddress('1:2:3:4:5:6:1.2.3.4'), { family: 6, value: 0x00010002000300040005000601020304n });
  // the embedded IPv4 part follows the IPv4 rules
  assert.equal(parseAddress('::ffff:192.0.2.01'), null);
  assert.equal(parseAddress('::ffff:192.0.2.256'), null);
  assert.equal(parseAddress('::ffff:192.0.2'), null);
  // and it takes two groups: 7 groups + IPv4 is too many
  assert.equal(parseAddress('1:2:3:4:5:6:7:1.2.3.4'), null);
  // it can only be the last part
  assert.equal(parseAddress('::1.2.3.4:5'), null);
  assert.equal(parseAddress('1.2.3.4:1::'), null);
});

test('parseAddress: an embedded IPv4 part before "::" is rejected', () => {
  assert.equal(parseAddress('1.2.3.4::'), null);
  assert.equal(parseAddress('1:1.2.3.4::'), null);
  assert.equal(parseAddress('1.2.3.4::5'), null);
});

test('parseAddress: invalid IPv6 text is rejected', () => {
  for (const bad of [
    ':::',
    '::::',
    '1::2::3',
    '::1::',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7:8::',
    '::1:2:3:4:5:6:7:8',
    '1:2:3:4::5:6:7:8',
    '12345::',
    '::12345',
    'g::1',
    '2001:db8::-1',
    ':1::',
    '1:',
    ':1',
    '1::2:',
    ':',
    'fe80::1%eth0',
    '2001:db8::/64',
    '[::1]',
  ]) {
    assert.equal(parseAddress(bad), null, `${JSON.stringify(bad)} should not parse`);
  }
});

// ---------------------------------------------------------------- IPv6 formatting (RFC 5952)

test('formatAddress: the unspecified and loopback addresses', () => {
  assert.equal(formatAddress({ family: 6, value: 0n }), '::');
  assert.equal(formatAddress({ family: 6, value: 1n }), '::1');
  assert.equal(formatAddress({ family: 6, value: 1n << 112n }), '1::');
});

test('formatAddress: lowercase hex without leading zeros (RFC 5952 4.1, 4.3)', () => {
  assert.equal(canon('2001:0DB8:00AB:000C:0000:0000:0000:0001'), '2001:db8:ab:c::1');
  assert.equal(canon('ABCD:EF01:2345:6789:ABCD:EF01:2345:6789'), 'abcd:ef01:2345:6789:abcd:ef01:2345:6789');
  assert.equal(canon('FE80::A:B'), 'fe80::a:b');
});

test('formatAddress: the longest run of zero groups is compressed (RFC 5952 4.2.1, 4.2.3)', () => {
  assert.equal(canon('2001:0:0:1:0:0:0:1'), '2001:0:0:1::1');
  assert.equal(canon('2001:db8:0:0:0:0:2:1'), '2001:db8::2:1');
  assert.equal(canon('0:0:0:1:0:0:0:0'), '0:0:0:1::');
  assert.equal(canon('0:0:0:0:1:0:0:0'), '::1:0:0:0');
  assert.equal(canon('1:0:0:2:0:0:0:3'), '1:0:0:2::3');
  assert.equal(canon('2001:db8::'), '2001:db8::');
});

test('formatAddress: on equal runs the first one is compressed (RFC 5952 4.2.3)', () => {
  assert.equal(canon('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
  assert.equal(canon('1:0:0:2:3:0:0:4'), '1::2:3:0:0:4');
  assert.equal(canon('0:0:1:2:3:4:0:0'), '::1:2:3:4:0:0');
});

test('formatAddress: a single zero group is not compressed (RFC 5952 4.2.2)', () => {
  assert.equal(canon('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1');
  assert.equal(canon('1:2:3:4:5:6:7::'), '1:2:3:4:5:6:7:0');
  assert.equal(canon('::2:3:4:5:6:7:8'), '0:2:3:4:5:6:7:8');
  assert.equal(canon('1:0:2:0:3:0:4:0'), '1:0:2:0:3:0:4:0');
});

test('formatAddress: addresses with an embedded IPv4 tail come out as hex groups', () => {
  // Kept consistent on both sides (config and `ip -json` output both go through canonicalAddress).
  assert.equal(canon('::ffff:192.0.2.1'), '::ffff:c000:201');
  assert.equal(canon('64:ff9b::203.0.113.7'), '64:ff9b::cb00:7107');
});

test('formatAddress ∘ parseAddress is the identity on canonical text', () => {
  for (const t of ['::', '::1', '1::', '2001:db8::1', 'fe80::1:2', '2001:db8:0:1:1:1:1:1', '2001:db8::1:0:0:1', '10.1.2.3', '0.0.0.0']) {
    assert.equal(canon(t), t);
  }
});

test('canonicalAddress: canonicalises valid text, returns invalid text unchanged', () => {
  assert.equal(canonicalAddress('2001:DB8:0::1'), '2001:db8::1');
  assert.equal(canonicalAddress(' 10.0.0.1 '), '10.0.0.1');
  assert.equal(canonicalAddress('not-an-address'), 'not-an-address');
  assert.equal(canonicalAddress('01.2.3.4'), '01.2.3.4');
});

// ---------------------------------------------------------------- prefixes

test('familyBits', () => {
  assert.equal(familyBits(4), 32);
  assert.equal(familyBits(6), 128);
});

test('parsePrefix: networks of both families', () => {
  assert.deepEqual(parsePrefix('192.168.99.0/24'), { ok: true, prefix: { family: 4, value: 0xc0a86300n, length: 24 } });
  assert.deepEqual(parsePrefix('10.0.0.0/8'), { ok: true, prefix: { family: 4, value: 0x0a000000n, length: 8 } });
  assert.deepEqual(parsePrefix('0.0.0.0/0'), { ok: true, prefix: { family: 4, value: 0n, length: 0 } });
  assert.deepEqual(parsePrefix('2001:db8::/32'), { ok: true, prefix: { family: 6, value: 0x20010db8n << 96n, length: 32 } });
  assert.deepEqual(parsePrefix('::/0'), { ok: true, prefix: { family: 6, value: 0n, length: 0 } });
  assert.deepEqual(parsePrefix(' 10.0.0.0/8 '), { ok: true, prefix: { family: 4, value: 0x0a000000n, length: 8 } });
});

test('parsePrefix: a bare address is a host prefix', () => {
  assert.deepEqual(parsePrefix('192.0.2.1'), { ok: true, prefix: { family: 4, value: 0xc0000201n, length: 32 } });
  assert.deepEqual(parsePrefix('2001:db8::1'), { ok: true, prefix: { family: 6, value: (0x20010db8n << 96n) | 1n, length: 128 } });
  assert.deepEqual(parsePrefix('192.0.2.1/32'), parsePrefix('192.0.2.1'));
  assert.deepEqual(parsePrefix('2001:db8::1/128'), parsePrefix('2001:db8::1'));
});

test('parsePrefix: host bits set is an error that suggests the network', () => {
  assert.deepEqual(parsePrefix('192.168.99.5/24'), { ok: false, reason: '"192.168.99.5/24" has host bits set', suggestion: '192.168.99.0/24' });
  assert.deepEqual(parsePrefix('10.1.2.3/8'), { ok: false, reason: '"10.1.2.3/8" has host bits set', suggestion: '10.0.0.0/8' });
  assert.deepEqual(parsePrefix('1.2.3.4/0'), { ok: false, reason: '"1.2.3.4/0" has host bits set', suggestion: '0.0.0.0/0' });
  assert.deepEqual(parsePrefix('192.168.1.1/31'), { ok: false, reason: '"192.168.1.1/31" has host bits set', suggestion: '192.168.1.0/31' });
  assert.deepEqual(parsePrefix('2001:db8::1/64'), { ok: false, reason: '"2001:db8::1/64" has host bits set', suggestion: '2001:db8::/64' });
  assert.deepEqual(parsePrefix('2001:DB8:1:2::/32'), { ok: false, reason: '"2001:DB8:1:2::/32" has host bits set', suggestion: '2001:db8::/32' });
});

test('parsePrefix: lengths out of range or not numbers', () => {
  const bad4 = (len: string) => ({ ok: false, reason: `prefix length "${len}" must be a number from 0 to 32` });
  const bad6 = (len: string) => ({ ok: false, reason: `prefix length "${len}" must be a number from 0 to 128` });
  assert.deepEqual(parsePrefix('10.0.0.0/33'), bad4('33'));
  assert.deepEqual(parsePrefix('10.0.0.0/100'), bad4('100'));
  assert.deepEqual(parsePrefix('10.0.0.0/-1'), bad4('-1'));
  assert.deepEqual(parsePrefix('10.0.0.0/'), bad4(''));
  assert.deepEqual(parsePrefix('10.0.0.0/abc'), bad4('abc'));
  assert.deepEqual(parsePrefix('10.0.0.0/8/8'), bad4('8/8'));
  assert.deepEqual(parsePrefix('10.0.0.0/1000'), bad4('1000'));
  assert.deepEqual(parsePrefix('::/129'), bad6('129'));
  assert.deepEqual(parsePrefix('2001:db8::/200'), bad6('200'));
  // the upper bounds themselves are fine
  assert.equal(parsePrefix('10.0.0.1/32').ok, true);
  assert.equal(parsePrefix('::1/128').ok, true);
});

test('parsePrefix: the address part must be an address', () => {
  assert.deepEqual(parsePrefix('192.168.300.0/24'), { ok: false, reason: '"192.168.300.0" is not an IPv4 or IPv6 address' });
  assert.deepEqual(parsePrefix('01.2.3.0/24'), { ok: false, reason: '"01.2.3.0" is not an IPv4 or IPv6 address' });
  assert.deepEqual(parsePrefix('/24'), { ok: false, reason: '"" is not an IPv4 or IPv6 address' });
  assert.deepEqual(parsePrefix('lan'), { ok: false, reason: '"lan" is not an IPv4 or IPv6 address' });
});

test('parsePrefix: "default", "all" and "any" need a family', () => {
  for (const word of ['default', 'all', 'any']) {
    assert.deepEqual(parsePrefix(word), { ok: false, reason: `"${word}" needs a family here`, suggestion: '0.0.0.0/0 or ::/0' });
    assert.deepEqual(parsePrefix(word, 4), { ok: true, prefix: { family: 4, value: 0n, length: 0 } });
    assert.deepEqual(parsePrefix(word, 6), { ok: true, prefix: { family: 6, value: 0n, length: 0 } });
  }
  assert.deepEqual(parsePrefix(' default ', 4), { ok: true, prefix: { family: 4, value: 0n, length: 0 } });
  // the family only matters for the words; an address keeps its own
  assert.deepEqual(parsePrefix('10.0.0.0/8', 6), { ok: true, prefix: { family: 4, value: 0x0a000000n, length: 8 } });
  // other words are not accepted
  assert.equal(parsePrefix('Default', 4).ok, false);
});

test('formatPrefix: canonical address and the length', () => {
  assert.equal(formatPrefix(pfx('192.168.99.0/24')), '192.168.99.0/24');
  assert.equal(formatPrefix(pfx('2001:0DB8::/32')), '2001:db8::/32');
  assert.equal(formatPrefix(pfx('10.0.0.1')), '10.0.0.1/32');
  assert.equal(formatPrefix(pfx('::/0')), '::/0');
});

test('formatRouteDst: "default", bare host addresses, and networks with a length', () => {
  assert.equal(formatRouteDst(pfx('0.0.0.0/0')), 'default');
  assert.equal(formatRouteDst(pfx('::/0')), 'default');
  assert.equal(formatRouteDst(pfx('default', 6)), 'default');
  assert.equal(formatRouteDst(pfx('10.0.0.1/32')), '10.0.0.1');
  assert.equal(formatRouteDst(pfx('2001:db8::1/128')), '2001:db8::1');
  assert.equal(formatRouteDst(pfx('10.0.0.0/8')), '10.0.0.0/8');
  assert.equal(formatRouteDst(pfx('2001:DB8:0:0::/64')), '2001:db8::/64');
  assert.equal(formatRouteDst(pfx('192.168.1.0/31')), '192.168.1.0/31');
});

test('canonicalRouteDst: as `ip -json` prints route destinations; invalid text unchanged', () => {
  assert.equal(canonicalRouteDst('default', 4), 'default');
  assert.equal(canonicalRouteDst('0.0.0.0/0', 4), 'default');
  assert.equal(canonicalRouteDst('2001:DB8::/32', 6), '2001:db8::/32');
  assert.equal(canonicalRouteDst('10.0.0.1/32', 4), '10.0.0.1');
  assert.equal(canonicalRouteDst('10.0.0.1/8', 4), '10.0.0.1/8');
  assert.equal(canonicalRouteDst('junk', 4), 'junk');
});

test('prefixContains: inside, at the edges, outside, and across families', () => {
  const net = pfx('10.0.0.0/8');
  assert.equal(prefixContains(net, addr('10.0.0.0')), true);
  assert.equal(prefixContains(net, addr('10.255.255.255')), true);
  assert.equal(prefixContains(net, addr('10.1.2.3')), true);
  assert.equal(prefixContains(net, addr('11.0.0.0')), false);
  assert.equal(prefixContains(net, addr('9.255.255.255')), false);

  const host = pfx('192.0.2.1');
  assert.equal(prefixContains(host, addr('192.0.2.1')), true);
  assert.equal(prefixContains(host, addr('192.0.2.2')), false);

  assert.equal(prefixContains(pfx('0.0.0.0/0'), addr('203.0.113.9')), true);
  assert.equal(prefixContains(pfx('::/0'), addr('2001:db8::1')), true);
  // families never mix, even where the numbers would match
  assert.equal(prefixContains(pfx('::/0'), addr('203.0.113.9')), false);
  assert.equal(prefixContains(pfx('0.0.0.0/0'), addr('::1')), false);
  assert.equal(prefixContains(pfx('::/96'), addr('0.0.0.1')), false);

  const v6 = pfx('2001:db8::/32');
  assert.equal(prefixContains(v6, addr('2001:db8:ffff:ffff:ffff:ffff:ffff:ffff')), true);
  assert.equal(prefixContains(v6, addr('2001:db9::')), false);
});

test('networkOf: the network an interface address is on', () => {
  assert.deepEqual(networkOf(addr('192.168.99.17'), 24), pfx('192.168.99.0/24'));
  assert.deepEqual(networkOf(addr('2001:db8::abcd'), 64), pfx('2001:db8::/64'));
  assert.deepEqual(networkOf(addr('10.1.2.3'), 0), pfx('0.0.0.0/0'));
  assert.deepEqual(networkOf(addr('10.1.2.3'), 32), pfx('10.1.2.3/32'));
});

test('isLinkLocal: 169.254.0.0/16 and fe80::/10', () => {
  assert.equal(isLinkLocal(addr('169.254.0.1')), true);
  assert.equal(isLinkLocal(addr('169.254.255.255')), true);
  assert.equal(isLinkLocal(addr('169.253.0.1')), false);
  assert.equal(isLinkLocal(addr('169.255.0.1')), false);
  assert.equal(isLinkLocal(addr('fe80::1')), true);
  assert.equal(isLinkLocal(addr('febf::1')), true);
  assert.equal(isLinkLocal(addr('fec0::1')), false);
  assert.equal(isLinkLocal(addr('2001:db8::1')), false);
});

test('minimalPrefixes: covered prefixes and duplicates are dropped', () => {
  const list = ['10.1.0.0/16', '10.0.0.0/8', '192.168.0.0/24', '10.2.3.4', '10.0.0.0/8', '192.168.0.128/25'].map((t) => pfx(t));
  assert.deepEqual(minimalPrefixes(list).map(formatPrefix), ['10.0.0.0/8', '192.168.0.0/24']);
});

test('minimalPrefixes: a /0 covers its whole family and only that', () => {
  const list = ['2001:db8::/32', '10.0.0.0/8', '::/0', 'fe80::1'].map((t) => pfx(t));
  assert.deepEqual(minimalPrefixes(list).map(formatPrefix), ['10.0.0.0/8', '::/0']);
});

test('minimalPrefixes: sorted by family, then address, then length', () => {
  const list = ['2001:db8::/32', '192.168.1.0/24', '10.0.0.0/24', '10.0.1.0/24', '::1', '172.16.0.0/12'].map((t) => pfx(t));
  assert.deepEqual(minimalPrefixes(list).map(formatPrefix), ['10.0.0.0/24', '10.0.1.0/24', '172.16.0.0/12', '192.168.1.0/24', '::1/128', '2001:db8::/32']);
});

test('minimalPrefixes: neighbours are not merged, the input is not changed, equal sets give equal output', () => {
  const a = ['10.0.0.128/25', '10.0.0.0/25'].map((t) => pfx(t));
  const copy = a.map((p) => ({ ...p }));
  assert.deepEqual(minimalPrefixes(a).map(formatPrefix), ['10.0.0.0/25', '10.0.0.128/25']);
  assert.deepEqual(a, copy);

  const x = ['10.0.0.0/8', '10.5.0.0/16', '2001:db8::/48', '192.0.2.0/24'].map((t) => pfx(t));
  const y = ['192.0.2.0/24', '2001:db8::/48', '10.0.0.0/8'].map((t) => pfx(t));
  assert.deepEqual(minimalPrefixes(x), minimalPrefixes(y));
  assert.deepEqual(minimalPrefixes([]), []);
});

test("parseAddress (IPv4 fast scan) agrees with Node's own parser on random dotted strings", async () => {
  const { isIPv4 } = await import('node:net');
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const pieces = ['0', '1', '9', '10', '01', '00', '255', '256', '999', '1000', '', 'a', ' ', '-1', '+1'];
  for (let i = 0; i < 20000; i++) {
    const n = 1 + Math.floor(rand() * 5);
    const text = Array.from({ length: n }, () => pieces[Math.floor(rand() * pieces.length)]).join('.');
    const ours = parseAddress(text);
    assert.equal(ours !== null && ours.family === 4, isIPv4(text), text);
  }
});

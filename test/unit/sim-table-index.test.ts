// The table index gives the same longest-first prefixes whichever structure
// backs it (hash per length for small tables, DIR-24-8 for big ones).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAddress, parseAddress, parsePrefix, prefixContains } from '../../src/net/ip.js';
import { DIR24_THRESHOLD, TableIndex } from '../../src/sim/table-index.js';
import { prngUnit } from '../../src/util/prng.js';
import type { RouteState } from '../../src/state/types.js';

const rng = prngUnit;

function routes(n: number, rand: () => number): RouteState[] {
  const out: RouteState[] = [];
  for (let i = 0; i < n; i++) {
    const len = [0, 8, 12, 16, 20, 24, 24, 28, 32][Math.floor(rand() * 9)]!;
    const host = 32 - len;
    const net = len === 0 ? 0n : (BigInt(Math.floor(rand() * 2 ** 32)) >> BigInt(host)) << BigInt(host);
    const a = formatAddress({ family: 4, value: net });
    out.push({
      family: 4,
      table: 254,
      dst: len === 0 ? 'default' : len === 32 ? a : `${a}/${len}`,
      type: 'unicast',
      tos: 0,
      metric: Math.floor(rand() * 3),
      protocol: 4,
      scope: 0,
      dev: 'eth0',
      flags: [],
    });
  }
  return out;
}

function brute(list: RouteState[], addr: string): number[] {
  const a = parseAddress(addr)!;
  const lens = new Set<number>();
  for (const r of list) {
    const p = parsePrefix(r.dst === 'default' ? '0.0.0.0/0' : r.dst);
    if (p.ok && prefixContains(p.prefix, a)) lens.add(p.prefix.length);
  }
  return [...lens].sort((x, y) => y - x);
}

for (const n of [50, DIR24_THRESHOLD + 500]) {
  test(`table index with ${n} routes: every matching prefix, longest first, routes by metric`, () => {
    const rand = rng(n);
    const list = routes(n, rand);
    const idx = new TableIndex(4);
    for (const r of list) idx.add(r);
    idx.build();
    for (let i = 0; i < (n > 1000 ? 300 : 2000); i++) {
      const pick = list[Math.floor(rand() * list.length)]!;
      const base = parseAddress(pick.dst === 'default' ? '0.0.0.0' : pick.dst.split('/')[0]!)!;
      const addr = formatAddress({ family: 4, value: i % 2 ? base.value : BigInt(Math.floor(rand() * 2 ** 32)) });
      const got = [...idx.matches(parseAddress(addr)!)];
      assert.deepEqual(
        got.map((g) => g.length),
        brute(list, addr),
        addr,
      );
      for (const g of got) for (let k = 1; k < g.routes.length; k++) assert.ok(g.routes[k - 1]!.metric <= g.routes[k]!.metric);
    }
  });
}

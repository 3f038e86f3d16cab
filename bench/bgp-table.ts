// A seeded table shaped like the IPv4 default-free zone, shared by the benchmarks.
import { ipv4Mask } from '../src/net/lpm.js';
import { prng32 } from '../src/util/prng.js';

/** The benchmarks' seeded PRNG (uint32 per call). */
export const prng = prng32;

/** Share of each prefix length, roughly the IPv4 DFZ (2024), plus a few longer than /24. */
const LENGTH_SHARE: Record<number, number> = {
  8: 0.000016,
  9: 0.000013,
  10: 0.00004,
  11: 0.0001,
  12: 0.0003,
  13: 0.0006,
  14: 0.0011,
  15: 0.0019,
  16: 0.0135,
  17: 0.0085,
  18: 0.0145,
  19: 0.027,
  20: 0.045,
  21: 0.055,
  22: 0.125,
  23: 0.1,
  24: 0.6,
  25: 0.0008,
  26: 0.0006,
  27: 0.0004,
  28: 0.0004,
  29: 0.0003,
  30: 0.0003,
  31: 0.0001,
  32: 0.0005,
};

export interface Uplink {
  gateway: string;
  dev: string;
  metric: number;
}
export const UPLINKS: Uplink[] = [
  { gateway: '192.0.2.1', dev: 'wan0', metric: 32 },
  { gateway: '198.51.100.1', dev: 'wan1', metric: 32 },
  { gateway: '203.0.113.1', dev: 'wan2', metric: 32 },
  { gateway: '100.64.0.1', dev: 'wan3', metric: 64 },
];

/** Unicast space: 1.0.0.0 … 223.255.255.255 without 10/8 and 127/8. */
export function randomUnicast(rnd: () => number): number {
  for (;;) {
    const a = rnd();
    const first = a >>> 24;
    if (first >= 1 && first <= 223 && first !== 10 && first !== 127) return a;
  }
}

export function generate(count: number, seed: number): { nets: Uint32Array; lens: Uint8Array } {
  const rnd = prng(seed);
  const perLen: [number, number][] = [];
  const total = Object.values(LENGTH_SHARE).reduce((s, x) => s + x, 0);
  let assigned = 1; // the default route
  for (const [l, share] of Object.entries(LENGTH_SHARE)) {
    const n = Math.round(((count - 1) * share) / total);
    perLen.push([Number(l), n]);
    assigned += n;
  }
  // Rounding: the remainder goes to /24 (or is taken from it).
  const i24 = perLen.findIndex(([l]) => l === 24);
  perLen[i24]![1] = Math.max(0, perLen[i24]![1] + count - assigned);
  const seen = new Set<number>();
  const nets = new Uint32Array(count);
  const lens = new Uint8Array(count);
  let n = 0;
  nets[n] = 0;
  lens[n++] = 0;
  seen.add(0);
  // Shorter prefixes first so that longer ones can nest in them.
  for (const [len, want] of perLen) {
    const before = n;
    let tries = 0;
    for (let k = 0; k < want && n < count && tries < want * 20; tries++) {
      let base: number;
      if (n > 1 && len > 16 && rnd() % 3 === 0) {
        // A more-specific inside an existing shorter prefix (deaggregation).
        const p = 1 + (rnd() % (before - 1 || 1));
        base = (nets[p]! | (rnd() & ~ipv4Mask(lens[p]!))) >>> 0;
      } else {
        base = randomUnicast(rnd);
      }
      const net = (base & ipv4Mask(len)) >>> 0;
      const key = net * 64 + len;
      if (seen.has(key)) continue;
      seen.add(key);
      nets[n] = net;
      lens[n++] = len;
      k++;
    }
  }
  return { nets: nets.subarray(0, n), lens: lens.subarray(0, n) };
}

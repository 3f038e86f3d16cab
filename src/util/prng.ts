// mulberry32: a tiny seeded 32-bit PRNG, for benchmarks, generators and
// randomized tests that must be reproducible from their seed.
export function prng32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** The same stream as numbers in [0, 1). */
export function prngUnit(seed: number): () => number {
  const next = prng32(seed);
  return () => next() / 4294967296;
}

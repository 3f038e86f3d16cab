// The kernel's jhash (include/linux/jhash.h, Bob Jenkins' lookup3) over bytes,
// and nft_jhash's bucket: reciprocal_scale(jhash(key, len, seed), mod). The
// key is the packet's addresses as nft lays them out in its registers (4 bytes
// per IPv4 address, 16 per IPv6 one, concatenated in order), read in CPU byte
// order — little-endian on the machines multihome runs on. With this the
// simulator says exactly which bucket (and uplink) a source hashes to.
import type { Address } from './ip.js';

const rol = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;

/**
 * __jhash_mix: six rounds over the rotating triple — round i takes x = v[i mod 3], the one before it
 * z and the one after it y: x -= z; x ^= rol(z, k); z += y (the kernel writes them out by hand).
 */
const MIX_ROTATIONS = [4, 6, 8, 16, 19, 4];
function mix(a: number, b: number, c: number): [number, number, number] {
  const v = [a, b, c];
  MIX_ROTATIONS.forEach((k, i) => {
    const x = i % 3;
    const y = (x + 1) % 3;
    const z = (x + 2) % 3;
    const zv = v[z]!;
    v[x] = (((v[x]! - zv) >>> 0) ^ rol(zv, k)) >>> 0;
    v[z] = (zv + v[y]!) >>> 0;
  });
  return [v[0]!, v[1]!, v[2]!];
}

function final(a: number, b: number, c: number): number {
  c = (c ^ b) >>> 0;
  c = (c - rol(b, 14)) >>> 0;
  a = (a ^ c) >>> 0;
  a = (a - rol(c, 11)) >>> 0;
  b = (b ^ a) >>> 0;
  b = (b - rol(a, 25)) >>> 0;
  c = (c ^ b) >>> 0;
  c = (c - rol(b, 16)) >>> 0;
  a = (a ^ c) >>> 0;
  a = (a - rol(c, 4)) >>> 0;
  b = (b ^ a) >>> 0;
  b = (b - rol(a, 14)) >>> 0;
  c = (c ^ b) >>> 0;
  c = (c - rol(b, 24)) >>> 0;
  return c;
}

function jhash(key: Uint8Array, seed: number): number {
  let n = key.length;
  let a = (0xdeadbeef + n + seed) >>> 0;
  let b = a;
  let c = a;
  const le = (i: number) => ((key[i] ?? 0) | ((key[i + 1] ?? 0) << 8) | ((key[i + 2] ?? 0) << 16) | ((key[i + 3] ?? 0) << 24)) >>> 0;
  let k = 0;
  while (n > 12) {
    a = (a + le(k)) >>> 0;
    b = (b + le(k + 4)) >>> 0;
    c = (c + le(k + 8)) >>> 0;
    [a, b, c] = mix(a, b, c);
    n -= 12;
    k += 12;
  }
  if (n === 0) return c;
  // the tail: the kernel's switch adds only the bytes present, as reading them zero-padded does
  a = (a + le(k)) >>> 0;
  b = (b + le(k + 4)) >>> 0;
  c = (c + le(k + 8)) >>> 0;
  return final(a, b, c);
}

/** The bytes nft hashes for these addresses: each in network order, concatenated. */
function addressBytes(addrs: Address[]): Uint8Array {
  const out: number[] = [];
  for (const a of addrs) {
    const len = a.family === 4 ? 4 : 16;
    for (let i = len - 1; i >= 0; i--) out.push(Number((a.value >> BigInt(8 * i)) & 0xffn));
  }
  return Uint8Array.from(out);
}

/** The seed multihome's hashes use (fixed, so a source keeps its bucket across reloads): "mult". */
export const JHASH_SEED = 0x6d756c74;

/** nft `jhash … mod N seed S`: the bucket (0 … mod-1). */
export const jhashBucket = (addrs: Address[], mod: number, seed: number): number => Number((BigInt(jhash(addressBytes(addrs), seed)) * BigInt(mod)) >> 32n);

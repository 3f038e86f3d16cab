// Which of main's routes `routes: copy` copies: all of main but its default
// route (each provider table has its own), the per-interface IPv6 link-local
// and multicast routes, cached clones, and what `copy.exclude` names —
// routes at or inside a prefix, through a device, or of a protocol. Pure: the
// devices come in as interface indexes resolved by the caller.
import type { Prefix } from '../net/ip.js';
import type { CopyConfig } from '../config/schema.js';
import { RT_TABLE_MAIN, type DecodedRoute } from './codec.js';

/** rtm_type values copied: unicast, blackhole, unreachable, prohibit, throw. */
const COPIED_TYPES = new Set([1, 6, 7, 8, 9]);

export interface BytePrefix {
  family: 4 | 6;
  bytes: Uint8Array;
  length: number;
}

/** A prefix's network address as bytes (4 or 16), with its family and length. */
export function toBytes(p: Prefix): BytePrefix {
  const n = p.family === 4 ? 4 : 16;
  const bytes = new Uint8Array(n);
  let v = p.value;
  for (let i = n - 1; i >= 0; i--) {
    bytes[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return { family: p.family, bytes, length: p.length };
}

/** Whether the route's destination lies at or inside `p`. */
function inside(r: { family: 4 | 6; dst: Uint8Array; len: number }, p: BytePrefix): boolean {
  if (r.family !== p.family || r.len < p.length) return false;
  const full = p.length >> 3;
  for (let i = 0; i < full; i++) if ((r.dst[i] ?? 0) !== p.bytes[i]) return false;
  const rest = p.length & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((r.dst[full] ?? 0) & mask) === (p.bytes[full]! & mask);
}

const LINK_LOCAL6: BytePrefix = { family: 6, bytes: Uint8Array.from([0xfe, 0x80, ...new Array<number>(14).fill(0)]), length: 10 };
const MULTICAST6: BytePrefix = { family: 6, bytes: Uint8Array.from([0xff, ...new Array<number>(15).fill(0)]), length: 8 };

export type CopyFilter = (r: DecodedRoute) => boolean;

/**
 * The filter for `copy` with `excludedDevices` the interface indexes of
 * copy.exclude.devices that exist now (the caller re-resolves them when links change).
 */
export function copyFilter(copy: CopyConfig, excludedDevices: ReadonlySet<number>): CopyFilter {
  const prefixes = (copy.exclude.prefixes ?? []).map(toBytes);
  const protocols = new Set(copy.exclude.protocols ?? []);
  return (r) => {
    if (r.table !== RT_TABLE_MAIN || r.cloned || r.len === 0) return false;
    if (!COPIED_TYPES.has(r.type)) return false;
    if (r.family === 6 && (inside(r, LINK_LOCAL6) || inside(r, MULTICAST6))) return false;
    if (protocols.has(r.protocol)) return false;
    if (excludedDevices.size > 0) for (const d of r.oifs) if (excludedDevices.has(d)) return false;
    for (const p of prefixes) if (inside(r, p)) return false;
    return true;
  };
}

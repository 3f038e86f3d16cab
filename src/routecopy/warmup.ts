// The events of the rehearsal that warms the copier's live path at start.
//
// After the first resync, the code that follows main's events (decode an
// event, update the set, queue, encode, write) has never run: V8 interprets it
// and compiles it while the first burst of changes is being copied, and the
// first burst after a start took 2–3 times as long as the later ones. So the
// copier runs synthetic events through that code once, on its own instance
// (V8 compiles for the hidden classes and call targets it saw: a scratch
// instance warms the code for the wrong ones, and it is thrown away at the
// first real event), with its writes going nowhere (engine.ts, rehearse).
// Here: adds, then deletes, of keys main does not hold (in reserved blocks), as
// the kernel sends them (one message per datagram). Pure.
import { encodeRoute, type RouteKey } from './codec.js';

/** Events per kind: enough for V8 to optimise the per-event functions. */
export const REHEARSAL_EVENTS = 8192;

/** Events fed per turn of the event loop, about what a listener's chunk brings in a burst. */
export const REHEARSAL_TURN = 256;

/** the protocol of a route added by hand (`ip route add`) */
const RTPROT_BOOT = 3;

/**
 * The i-th key: a /24 of 240.0.0.0/4 (reserved, never routed), or a /80 of 100::/64
 * (IPv6's discard-only block, RFC 6666).
 */
function keyOf(i: number, family: 4 | 6): RouteKey {
  if (family === 4) return { family, dst: Uint8Array.of(240 | ((i >>> 16) & 15), (i >>> 8) & 255, i & 255, 0), len: 24, tos: 0, metric: 0 };
  const dst = new Uint8Array(16);
  dst[0] = 1; // 100::
  dst[8] = (i >>> 8) & 255;
  dst[9] = i & 255;
  return { family, dst, len: 80, tos: 0, metric: 0 };
}

export interface RehearsalOptions {
  /** keys (fewer when main holds some) */
  n?: number;
  family?: 4 | 6;
  table?: number;
  protocol?: number;
}

/**
 * Adds of main's routes with `value` (one of main's own values, so that the filter lets
 * them through as it would a real route) and the deletes of the same keys, `n` keys of
 * 240.0.0.0/4 or 100::/64; keys `absent` says main holds are left out.
 */
export function rehearsalEvents(value: string, absent: (k: RouteKey) => boolean, o: RehearsalOptions = {}): { adds: Buffer[]; deletes: Buffer[] } {
  const { n = REHEARSAL_EVENTS, family = 4, table = 254, protocol = RTPROT_BOOT } = o;
  const adds: Buffer[] = [];
  const deletes: Buffer[] = [];
  const buf = Buffer.allocUnsafe(64 << 10);
  for (let i = 0; i < n; i++) {
    const k = keyOf(i, family);
    if (!absent(k)) continue;
    for (const [op, into] of [
      ['replace', adds],
      ['delete', deletes],
    ] as const) {
      const len = encodeRoute(buf, 0, op, k, op === 'replace' ? value : null, table, protocol, i + 1);
      if (len < 0) return { adds: [], deletes: [] }; // a value longer than any route has
      into.push(Buffer.from(buf.subarray(0, len)));
    }
  }
  return { adds, deletes };
}

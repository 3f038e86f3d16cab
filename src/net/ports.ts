// Port numbers, ranges and lists ("80", 443, "8000-8080", [80, 443]) and protocol names.

export interface PortRange {
  from: number;
  to: number; // inclusive; equal to `from` for a single port
}

export type PortParse = { ok: true; range: PortRange } | { ok: false; reason: string };

const isPort = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= 65535;

export function parsePortRange(item: number | string): PortParse {
  if (typeof item === 'number') {
    return isPort(item) ? { ok: true, range: { from: item, to: item } } : { ok: false, reason: `port ${item} must be a whole number from 1 to 65535` };
  }
  const m = /^\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?$/.exec(item);
  if (!m) return { ok: false, reason: `"${item}" is not a port or a range like "8000-8080"` };
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (!isPort(from) || !isPort(to)) return { ok: false, reason: `"${item}": ports must be from 1 to 65535` };
  if (to < from) return { ok: false, reason: `"${item}": the range runs backwards; write "${to}-${from}"` };
  return { ok: true, range: { from, to } };
}

export function formatPortRange(r: PortRange): string {
  return r.from === r.to ? String(r.from) : `${r.from}-${r.to}`;
}

/** Sort and merge overlapping or adjacent ranges, so that equal sets print equally. */
export function normalisePortRanges(ranges: PortRange[]): PortRange[] {
  const sorted = [...ranges].sort((a, b) => a.from - b.from || a.to - b.to);
  const out: PortRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.from <= last.to + 1) last.to = Math.max(last.to, r.to);
    else out.push({ ...r });
  }
  return out;
}

/** IP protocol numbers by the names nftables and iproute2 both understand. */
export const PROTOCOLS: Record<string, number> = {
  icmp: 1,
  igmp: 2,
  tcp: 6,
  udp: 17,
  gre: 47,
  esp: 50,
  ah: 51,
  icmpv6: 58,
  'ipv6-icmp': 58,
  sctp: 132,
  udplite: 136,
};

/** Protocols whose header carries ports that `sport`/`dport` can match. */
export const PORT_PROTOCOLS = new Set(['tcp', 'udp', 'sctp', 'udplite']);

// Small helpers the importers share: lines, numbers, protocol and DSCP names,
// canonical prefixes for the packet program, address ranges as prefixes.
import { familyBits, formatAddress, formatPrefix, parseAddress, parsePrefix, type Family, type Prefix } from '../../net/ip.js';
import { PROTOCOLS } from '../../net/ports.js';

export interface Line {
  /** 0-based index in the text handed to the parser */
  index: number;
  text: string;
}

export function linesOf(text: string): Line[] {
  return text.split(/\r?\n/).map((t, index) => ({ index, text: t }));
}

/** A u32 written as iproute2 and iptables print it: decimal or 0x-hex. */
export function u32(text: string): number | null {
  if (!/^(0x[0-9a-f]{1,8}|\d{1,10})$/i.test(text)) return null;
  const n = Number(text);
  return n <= 0xffffffff ? n : null;
}

/** IP protocol numbers by the names /etc/protocols gives them (iptables-save and `ip rule` print these). */
const MORE_PROTOCOLS: Record<string, number> = {
  ip: 0,
  hopopt: 0,
  ggp: 3,
  ipencap: 4,
  st: 5,
  egp: 8,
  igp: 9,
  pup: 12,
  hmp: 20,
  'xns-idp': 22,
  rdp: 27,
  'iso-tp4': 29,
  dccp: 33,
  xtp: 36,
  ddp: 37,
  'idpr-cmtp': 38,
  ipv6: 41,
  'ipv6-route': 43,
  'ipv6-frag': 44,
  idrp: 45,
  rsvp: 46,
  skip: 57,
  'ipv6-nonxt': 59,
  'ipv6-opts': 60,
  rspf: 73,
  vmtp: 81,
  eigrp: 88,
  ospf: 89,
  'ax.25': 93,
  ipip: 94,
  etherip: 97,
  encap: 98,
  pim: 103,
  ipcomp: 108,
  comp: 108,
  vrrp: 112,
  l2tp: 115,
  isis: 124,
  fc: 133,
  'mobility-header': 135,
  mh: 135,
  'mpls-in-ip': 137,
  manet: 138,
  hip: 139,
  shim6: 140,
  wesp: 141,
  rohc: 142,
  ethernet: 143,
};

/** "tcp", "6", "ipproto-6" → 6; null when unknown. */
export function protocolNumber(text: string): number | null {
  const t = text.toLowerCase();
  if (/^\d{1,3}$/.test(t)) return Number(t) <= 255 ? Number(t) : null;
  const m = /^ipproto-(\d{1,3})$/.exec(t);
  if (m) return Number(m[1]);
  if (Object.hasOwn(PROTOCOLS, t)) return PROTOCOLS[t]!;
  if (Object.hasOwn(MORE_PROTOCOLS, t)) return MORE_PROTOCOLS[t]!;
  return null;
}

/** iproute2's default /etc/iproute2/rt_dsfield: `ip` prints these names for tos values. */
const DSFIELD_NAMES: Record<string, number> = {
  default: 0x0,
  AF11: 0x28,
  AF12: 0x30,
  AF13: 0x38,
  AF21: 0x48,
  AF22: 0x50,
  AF23: 0x58,
  AF31: 0x68,
  AF32: 0x70,
  AF33: 0x78,
  AF41: 0x88,
  AF42: 0x90,
  AF43: 0x98,
  CS1: 0x20,
  CS2: 0x40,
  CS3: 0x60,
  CS4: 0x80,
  CS5: 0xa0,
  CS6: 0xc0,
  CS7: 0xe0,
  EF: 0xb8,
};

/** "0x10", "16", "CS1" → the dsfield byte; null when unknown. */
export function dsfield(text: string): number | null {
  if (Object.hasOwn(DSFIELD_NAMES, text)) return DSFIELD_NAMES[text]!;
  const upper = text.toUpperCase();
  if (Object.hasOwn(DSFIELD_NAMES, upper)) return DSFIELD_NAMES[upper]!;
  const n = u32(text);
  return n !== null && n <= 0xff ? n : null;
}

export const familyOfAddress = (text: string): Family | null => parseAddress(text)?.family ?? null;

/** How the packet program writes an address set member: a host bare, a network "A/len". */
export const programPrefix = (p: Prefix): string => (p.length === familyBits(p.family) ? formatAddress(p) : formatPrefix(p));

/**
 * "10.0.0.1", "10.0.0.0/8", "10.0.0.0/255.0.0.0" → a prefix. Host bits are
 * cleared as iptables and nft do. null when it is not one (or the mask is not
 * contiguous, which the program cannot hold).
 */
export function readPrefix(text: string): Prefix | null {
  const slash = text.indexOf('/');
  const addr = parseAddress(slash < 0 ? text : text.slice(0, slash));
  if (!addr) return null;
  const bits = familyBits(addr.family);
  let len = bits;
  if (slash >= 0) {
    const l = text.slice(slash + 1);
    if (/^\d{1,3}$/.test(l)) len = Number(l);
    else {
      const mask = parseAddress(l);
      if (!mask || mask.family !== addr.family) return null;
      const ones = mask.value.toString(2).padStart(bits, '0');
      if (!/^1*0*$/.test(ones)) return null;
      len = ones.indexOf('0') < 0 ? bits : ones.indexOf('0');
    }
    if (len > bits) return null;
  }
  const all = (1n << BigInt(bits)) - 1n;
  const maskBits = len === 0 ? 0n : (all >> BigInt(bits - len)) << BigInt(bits - len);
  const r = parsePrefix(`${formatAddress({ family: addr.family, value: addr.value & maskBits })}/${len}`);
  return r.ok ? r.prefix : null;
}

/** The fewest prefixes that cover exactly the addresses first..last (inclusive). */
export function rangeToPrefixes(first: string, last: string): Prefix[] | null {
  const a = parseAddress(first);
  const b = parseAddress(last);
  if (!a || !b || a.family !== b.family || a.value > b.value) return null;
  const bits = familyBits(a.family);
  const out: Prefix[] = [];
  let cur = a.value;
  while (cur <= b.value) {
    // the largest aligned block starting at cur that does not pass b
    let size = 0;
    while (size < bits) {
      const next = size + 1;
      const block = 1n << BigInt(next);
      if (cur % block !== 0n || cur + block - 1n > b.value) break;
      size = next;
    }
    out.push({ family: a.family, value: cur, length: bits - size });
    cur += 1n << BigInt(size);
  }
  return out;
}

/** JSON.stringify with sorted keys: equal data gives equal text whatever the key order. */
export function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

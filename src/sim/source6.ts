// IPv6 source address selection as the kernel does it (net/ipv6/addrconf.c
// ipv6_dev_get_saddr, __ipv6_dev_get_saddr, ipv6_get_saddr_eval; RFC 6724
// section 5): every address of every device is a candidate (only the output
// device's for a link-local or multicast destination), ranked rule by rule;
// the first candidate in device and address order wins a tie. Pure.
import { parseAddress, parsePrefix, prefixContains, type Address, type Prefix } from '../net/ip.js';
import type { AddressState, LinkState } from '../state/types.js';
import type { World } from './world.js';

/** __ipv6_addr_src_scope of an address: 1 loopback, 2 link-local, 5 site-local, 14 global; multicast its own. */
function srcScope(a: Address): number {
  const v = a.value;
  if (v === 1n) return 0x1;
  if (v >> 120n === 0xffn) return Number((v >> 112n) & 0xfn);
  if (v >> 118n === 0x3fan) return 0x2; // fe80::/10
  if (v >> 118n === 0x3fbn) return 0x5; // fec0::/10
  return 0xe;
}

const p6 = (text: string): Prefix => {
  const r = parsePrefix(text, 6);
  if (!r.ok) throw new Error(`bad built-in prefix ${text}`);
  return r.prefix;
};

/** The default policy table (net/ipv6/addrlabel.c ip6addrlbl_init_table), longest prefix first. */
const LABELS: [Prefix, number][] = (
  [
    ['::1/128', 0],
    ['::ffff:0:0/96', 4],
    ['::/96', 3],
    ['2001:10::/28', 7],
    ['2001::/32', 6],
    ['2002::/16', 2],
    ['3ffe::/16', 12],
    ['fec0::/10', 11],
    ['fc00::/7', 5],
    ['::/0', 1],
  ] as [string, number][]
).map(([p, l]) => [p6(p), l]);

const label = (a: Address) => LABELS.find(([p]) => prefixContains(p, a))![1];
const ORCHID = p6('2001:10::/28');
/** IPV6_ADDR_MAPPED, COMPATv4 or LOOPBACK: never "avoided" by rule 3. */
const alwaysPreferred = (a: Address) => a.value === 1n || a.value >> 32n === 0xffffn || (a.value >> 32n === 0n && a.value > 1n);

/** ipv6_addr_diff: the length of the common prefix. */
function commonPrefix(a: Address, b: Address): number {
  const x = a.value ^ b.value;
  return x === 0n ? 128 : 128 - x.toString(2).length;
}

interface Candidate {
  addr: Address;
  ifindex: number;
  state: AddressState;
}

/** The rules of ipv6_get_saddr_eval in order, each a number where more is better. */
function scores(c: Candidate, dst: Address, dstIfindex: number): number[] {
  const scope = srcScope(c.addr);
  const dstScope = srcScope(dst);
  const flags = c.state.flags ?? [];
  return [
    c.addr.value === dst.value ? 1 : 0, // rule 1: the same address
    scope >= dstScope ? -scope : scope - 128, // rule 2: the smallest scope that is enough, else the largest
    alwaysPreferred(c.addr) || !(flags.includes('deprecated') || flags.includes('optimistic')) ? 1 : 0, // rule 3
    !dstIfindex || dstIfindex === c.ifindex ? 1 : 0, // rule 5: the outgoing interface
    label(c.addr) === label(dst) ? 1 : 0, // rule 6: matching label
    flags.includes('temporary') ? 0 : 1, // rule 7: public (use_tempaddr < 2, the default)
    prefixContains(ORCHID, c.addr) === prefixContains(ORCHID, dst) ? 1 : 0, // rule 8-: ORCHID with ORCHID
    Math.min(commonPrefix(c.addr, dst), c.state.prefixlen), // rule 8: longest matching prefix, up to the address's own
    flags.includes('optimistic') ? 0 : 1,
  ];
}

function better(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return false;
}

/** A device's usable IPv6 addresses in its list's order: no tentative (unless optimistic), unspecified or multicast ones. */
function candidates(l: LinkState): Candidate[] {
  const out: Candidate[] = [];
  for (const a of l.addresses) {
    if (a.family !== 6) continue;
    const f = a.flags ?? [];
    if (f.includes('tentative') && !f.includes('optimistic')) continue;
    const addr = parseAddress(a.address);
    if (!addr || addr.value === 0n || addr.value >> 120n === 0xffn) continue;
    out.push({ addr, ifindex: l.index, state: a });
  }
  return out;
}

/** ipv6_dev_get_saddr(dstDev, dst): the kernel's source for `dst` leaving by `dstDev`, or null (EADDRNOTAVAIL). */
export function ipv6DevGetSaddr(w: World, dstDev: string | undefined, dst: Address): Address | null {
  const dev = dstDev ? w.links.get(dstDev) : undefined;
  const dstIfindex = dev?.index ?? 0;
  // A multicast or link-local destination: only the outgoing device's addresses.
  const onlyOif = dev !== undefined && (dst.value >> 120n === 0xffn || srcScope(dst) <= 0x2);
  const links = onlyOif ? [dev] : [...w.links.values()].sort((a, b) => a.index - b.index);
  let best: { c: Candidate; s: number[] } | null = null;
  for (const l of links) {
    for (const c of candidates(l)) {
      const s = scores(c, dst, dstIfindex);
      if (!best || better(s, best.s)) best = { c, s };
    }
  }
  return best ? best.c.addr : null;
}

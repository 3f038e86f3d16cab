// The big policy set of the data-path bench, written two ways: multihome's
// config (8 providers; 8 policies over 10,000 destination prefixes, then 8 over
// 1,000 source prefixes) and the seed's way (one iptables mangle MARK rule per
// prefix, `fwmark N lookup N` rules, SNAT per uplink) as an iptables-restore
// file. Pure text; seeded, so every run measures the same lists.
//
// The measured flows (LAN host → server) match only the LAST policy — the LAN
// prefix is the last source of `src-8` — so every new connection is looked up
// in all 16 lists first: the worst case for a first-match policy list.
import { prng32 } from '../src/util/prng.js';
import { LAN_PREFIX, UPLINKS, type Uplink } from './dataplane-lab.js';

export const DESTINATIONS = 10_000;
export const SOURCES = 1_000;

// First octets the lab uses or that are special: no generated prefix may cover a lab address.
const RESERVED_FIRST = new Set([0, 10, 67, 100, 127, 169, 172, 192, 198, 203, 205]);

/**
 * `count` distinct /24s drawn from `first()`'s octets, each with an even third octet: no two are
 * the halves of one /23, so nothing merges them and every list holds exactly `count` prefixes.
 */
function distinct24(count: number, rnd: () => number, first: () => number): string[] {
  const seen = new Set<string>();
  while (seen.size < count) {
    const r = rnd();
    seen.add(`${first()}.${(r >>> 8) & 255}.${r & 254}.0/24`);
  }
  return [...seen];
}

export interface PolicyLists {
  /** per provider, in UPLINKS' order */
  to: string[][];
  from: string[][];
}

export function policyLists(seed = 14): PolicyLists {
  const rnd = prng32(seed);
  const unicast = () => {
    for (;;) {
      const a = 1 + (rnd() % 223);
      if (!RESERVED_FIRST.has(a)) return a;
    }
  };
  const dst = distinct24(DESTINATIONS, rnd, unicast);
  // LAN sources live in 10/8; the measured LAN is the very last source of all
  const src = [...distinct24(SOURCES - 1, rnd, () => 10), LAN_PREFIX];
  const n = UPLINKS.length;
  const slice = (xs: string[], i: number) => xs.slice((i * xs.length) / n, ((i + 1) * xs.length) / n);
  return { to: UPLINKS.map((_, i) => slice(dst, i)), from: UPLINKS.map((_, i) => slice(src, i)) };
}

const providerYaml = (u: Uplink) => `  ${u.name}: { interface: ${u.dev}, gateway: ${u.gateway}, snat: ${u.addr} }`;

/** (c): multihome's config, destination policies first, then source policies, in provider order. */
export function policyConfig(l: PolicyLists): string {
  const pol = (name: string, key: 'to' | 'from', list: string[], via: string) =>
    `  - name: ${name}\n    match: { ${key}: [${list.join(', ')}] }\n    via: ${via}`;
  return [
    'providers:',
    ...UPLINKS.map(providerYaml),
    `default: ${UPLINKS[0]!.name}`,
    'policies:',
    ...UPLINKS.map((u, i) => pol(`dst-${i + 1}`, 'to', l.to[i]!, u.name)),
    ...UPLINKS.map((u, i) => pol(`src-${i + 1}`, 'from', l.from[i]!, u.name)),
    '',
  ].join('\n');
}

/** The seed's way: provider K's mark is K and its table 100+K. */
export const seedWayMark = (i: number): number => i + 1;
export const seedWayTable = (i: number): number => 100 + i + 1;

/**
 * (d): the seed's recipe (/work/shared/seed) at this size, for iptables-restore: one mangle MARK
 * rule per prefix, appended in the same order as the policies (the MARK target does not stop the
 * chain, so every packet, in both directions, walks all 11,000 rules), SNAT per uplink.
 */
export function seedWayIptables(l: PolicyLists): string {
  const mark = (flag: '-d' | '-s', lists: string[][]) =>
    lists.flatMap((list, i) => list.map((p) => `-A PREROUTING ${flag} ${p} -j MARK --set-mark ${seedWayMark(i)}`));
  return [
    '*mangle',
    ':PREROUTING ACCEPT [0:0]',
    ...mark('-d', l.to),
    ...mark('-s', l.from),
    'COMMIT',
    '*nat',
    ':POSTROUTING ACCEPT [0:0]',
    ...UPLINKS.map((u) => `-A POSTROUTING -o ${u.dev} -j SNAT --to-source ${u.addr}`),
    'COMMIT',
    '',
  ].join('\n');
}

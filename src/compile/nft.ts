// The packet-marking program and SNAT, as one nftables table replaced whole in
// a single transaction. The provider is chosen once per connection (first
// matching policy wins, else the default) and kept in the conntrack mark; later
// packets restore it, so a connection never changes uplink mid-way. Only the
// bits of mark_mask are touched, so other tools' marks survive.
import { createHash } from 'node:crypto';
import type { ResolvedConfig, ResolvedProvider } from '../config/assign.js';
import { providerFamilies } from '../config/semantic.js';
import { snatFor, type PolicyConfig } from '../config/schema.js';
import { formatAddress, formatPrefix, minimalPrefixes, type Family, type Prefix } from '../net/ip.js';
import { formatPortRange, PORT_PROTOCOLS, type PortRange } from '../net/ports.js';
import type { NftState } from '../state/types.js';

export const NFT_FAMILY = 'inet';
export const NFT_TABLE = 'multihome';

const hex8 = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
export const providerChain = (p: ResolvedProvider): string => `to_${p.name}`;

/** `{ a, b }` for several items, `a` for one: an anonymous set is one lookup however long. */
const setOf = (items: string[]): string => (items.length === 1 ? items[0]! : `{ ${items.join(', ')} }`);

function prefixesOf(list: Prefix[] | undefined, family: Family): string[] | undefined {
  if (!list) return undefined;
  return minimalPrefixes(list.filter((p) => p.family === family)).map((p) =>
    p.length === (family === 4 ? 32 : 128) ? formatAddress(p) : formatPrefix(p),
  );
}

const ports = (list: PortRange[]): string => setOf(list.map(formatPortRange));

/** The match part of one policy for one family (or for both when `family` is null). */
export function policyMatch(pol: PolicyConfig, family: Family | null): string {
  const m = pol.match;
  const parts: string[] = [];
  if (m.iif) parts.push(`iifname ${setOf(m.iif.map((i) => `"${i}"`))}`);
  if (family !== null) {
    const ipw = family === 4 ? 'ip' : 'ip6';
    const from = prefixesOf(m.from, family);
    const to = prefixesOf(m.to, family);
    if (from) parts.push(`${ipw} saddr ${setOf(from)}`);
    if (to) parts.push(`${ipw} daddr ${setOf(to)}`);
    if (!from && !to) parts.push(`meta nfproto ${family === 4 ? 'ipv4' : 'ipv6'}`);
  }
  const protos = m.protocol ?? (m.sport || m.dport ? ['tcp', 'udp'] : undefined);
  const hasPorts = Boolean(m.sport || m.dport);
  if (protos && protos.length === 1 && PORT_PROTOCOLS.has(protos[0]!) && hasPorts) {
    const p = protos[0]!;
    if (m.sport) parts.push(`${p} sport ${ports(m.sport)}`);
    if (m.dport) parts.push(`${p} dport ${ports(m.dport)}`);
  } else {
    if (protos) parts.push(`meta l4proto ${setOf(protos)}`);
    if (m.sport) parts.push(`th sport ${ports(m.sport)}`);
    if (m.dport) parts.push(`th dport ${ports(m.dport)}`);
  }
  return parts.join(' ');
}

/** Families a policy's rule is written for: split per family only where addresses need it. */
function policyRuleFamilies(cfg: ResolvedConfig, pol: PolicyConfig): (Family | null)[] {
  const via = providerFamilies(cfg, pol.via);
  const { from, to } = pol.match;
  if (from || to) {
    const has = (list: Prefix[] | undefined, f: Family) => !list || list.some((x) => x.family === f);
    return ([4, 6] as Family[]).filter((f) => via.includes(f) && has(from, f) && has(to, f));
  }
  return via.length === 2 ? [null] : via;
}

function snatRules(p: ResolvedProvider): string[] {
  const out: string[] = [];
  for (const family of [4, 6] as Family[]) {
    if (!p.gateway[family]) continue;
    const target = snatFor(p, family);
    if (target === false) continue;
    const nfproto = family === 4 ? 'ipv4' : 'ipv6';
    if (target === 'masquerade') {
      out.push(`oifname "${p.interface}" meta nfproto ${nfproto} masquerade`);
    } else {
      const a = formatAddress(target);
      out.push(`oifname "${p.interface}" snat ${family === 4 ? 'ip' : 'ip6'} to ${family === 6 ? `[${a}]` : a}`);
    }
  }
  return out;
}

/** The table body without its comment; the fingerprint is taken of this text. */
export function nftBody(cfg: ResolvedConfig): string {
  const providers = Object.values(cfg.providers);
  const mask = cfg.mark_mask >>> 0;
  const keep = hex8(~mask >>> 0);
  const restore = `ct mark & ${hex8(mask)} vmap { ${providers.map((p) => `${hex8(p.mark)} : jump ${providerChain(p)}`).join(', ')} }`;
  const L: string[] = [];
  const t = '\t';
  L.push(`${t}chain prerouting {`);
  L.push(`${t}${t}type filter hook prerouting priority mangle; policy accept;`);
  L.push(`${t}${t}${restore} comment "connection already has an uplink"`);
  const uplinks = providers.map((p) => `"${p.interface}" : jump ${providerChain(p)}`).join(', ');
  L.push(`${t}${t}iifname vmap { ${uplinks} } comment "arrived on an uplink: replies leave the same way"`);
  L.push(`${t}${t}fib daddr type { local, broadcast, multicast } accept comment "to the router itself"`);
  L.push(`${t}${t}ct state != new accept comment "only new connections choose an uplink"`);
  for (const pol of cfg.policies) {
    const p = cfg.providers[pol.via]!;
    for (const fam of policyRuleFamilies(cfg, pol)) {
      const match = policyMatch(pol, fam);
      L.push(`${t}${t}${match ? `${match} ` : ''}jump ${providerChain(p)} comment "policy ${pol.name}"`);
    }
  }
  const def = cfg.providers[cfg.default]!;
  const defFams = providerFamilies(cfg, def.name);
  const defMatch = defFams.length === 2 ? '' : `meta nfproto ${defFams[0] === 4 ? 'ipv4' : 'ipv6'} `;
  L.push(`${t}${t}${defMatch}jump ${providerChain(def)} comment "default"`);
  L.push(`${t}}`);
  L.push('');
  L.push(`${t}chain output {`);
  L.push(`${t}${t}type route hook output priority mangle; policy accept;`);
  L.push(`${t}${t}${restore} comment "the router's replies on connections that have an uplink"`);
  L.push(`${t}}`);
  for (const p of providers) {
    L.push('');
    L.push(`${t}chain ${providerChain(p)} {`);
    L.push(`${t}${t}meta mark set meta mark & ${keep} | ${hex8(p.mark)}`);
    L.push(`${t}${t}ct mark set ct mark & ${keep} | ${hex8(p.mark)}`);
    L.push(`${t}${t}accept`);
    L.push(`${t}}`);
  }
  L.push('');
  L.push(`${t}chain postrouting {`);
  L.push(`${t}${t}type nat hook postrouting priority srcnat; policy accept;`);
  for (const p of providers) for (const r of snatRules(p)) L.push(`${t}${t}${r} comment "snat ${p.name}"`);
  L.push(`${t}}`);
  return L.join('\n');
}

export const fingerprintOf = (body: string): string => createHash('sha256').update(body).digest('hex').slice(0, 16);
export const FINGERPRINT_CHAIN = 'fingerprint';
export const tableComment = (fingerprint: string): string => `multihome ${fingerprint}`;

export function compileNft(cfg: ResolvedConfig): NftState {
  const body = nftBody(cfg);
  const fingerprint = fingerprintOf(body);
  // The table comment is for people; `nft -j` (1.0.6) does not print table comments, so the
  // fingerprint is also kept in the comment of a rule in an unreferenced chain, where JSON shows it.
  const script =
    `table ${NFT_FAMILY} ${NFT_TABLE} {\n\tcomment "${tableComment(fingerprint)}"\n\n${body}\n\n` +
    `\tchain ${FINGERPRINT_CHAIN} {\n\t\treturn comment "${tableComment(fingerprint)}"\n\t}\n}\n`;
  return { family: NFT_FAMILY, name: NFT_TABLE, fingerprint, script };
}

// radvd's config for prefix-per-uplink IPv6: every provider's delegated
// prefix is advertised on the LAN, and the prefixes of uplinks that should
// not take new connections (down, or not the default's active members) are
// advertised with preferred lifetime 0 — deprecated: hosts keep the address
// (existing connections go on) but pick the other prefix's address for new
// ones (RFC 6724 rule 3). Deprecating, not withdrawing: a prefix left out of
// an RA stays preferred on the hosts for its remaining lifetime, and a valid
// lifetime cannot be cut below two hours (RFC 4862 5.5.3 e). Pure.
import type { ResolvedConfig } from '../config/assign.js';
import { formatPrefix } from '../net/ip.js';
import { routedPrefixes } from './program.js';

/** radvd's own limits (2.19): MinRtrAdvInterval ≥ 3 and ≤ 0.75 × Max; Max 4–1800; router lifetime 0 or ≥ Max. */
const RA_TIMING = { min: 3, max: 10, routerLifetime: 30, valid: 3600, preferred: 1800 } as const;

/** Providers whose delegated prefixes the LAN uses unNATed (snat ipv6 false). */
export const raProviders = (cfg: ResolvedConfig): string[] =>
  Object.values(cfg.providers)
    .filter((p) => routedPrefixes(p).length > 0)
    .map((p) => p.name);

/** The radvd.conf text; `preferred`: the providers whose prefixes new connections should use. */
export function radvdConfig(cfg: ResolvedConfig, preferred: string[]): string {
  if (!cfg.ra) return '';
  const L = [
    '# written by multihome: prefixes of uplinks not to use now are deprecated (preferred lifetime 0)',
    `interface ${cfg.ra.interface} {`,
    '\tAdvSendAdvert on;',
    `\tMinRtrAdvInterval ${RA_TIMING.min};`,
    `\tMaxRtrAdvInterval ${RA_TIMING.max};`,
    `\tAdvDefaultLifetime ${RA_TIMING.routerLifetime};`,
  ];
  for (const name of raProviders(cfg)) {
    const p = cfg.providers[name]!;
    const lifetime = preferred.includes(name) ? RA_TIMING.preferred : 0;
    for (const prefix of routedPrefixes(p)) {
      L.push(
        `\tprefix ${formatPrefix(prefix)} {`,
        '\t\tAdvOnLink on;',
        '\t\tAdvAutonomous on;',
        `\t\tAdvValidLifetime ${RA_TIMING.valid};`,
        `\t\tAdvPreferredLifetime ${lifetime}; # ${name}`,
        '\t};',
      );
    }
  }
  L.push('};', '');
  return L.join('\n');
}

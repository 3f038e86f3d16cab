// The sysctls a multi-uplink router needs. Strict rp_filter is kept: marked
// replies pass it because src_valid_mark=1 on each provider interface makes
// the reverse-path lookup use the mark restored from conntrack in PREROUTING
// (see docs/architecture.md, "Reverse-path filtering"). IPv6 has no rp_filter.
import type { ResolvedConfig } from '../config/assign.js';
import type { SystemFacts } from './facts.js';
import { linkOf } from './links.js';

/** sysctl key in slash form, so interface names with dots (eth0.100) stay one path element. */
const ipv4Conf = (dev: string, key: string): string => `net/ipv4/conf/${dev}/${key}`;

const acceptRa = (dev: string): string => `net/ipv6/conf/${dev}/accept_ra`;

/** The sysctls whose current value compile needs to see. */
export const sysctlFactKeys = (cfg: ResolvedConfig): string[] =>
  Object.values(cfg.providers)
    .filter((p) => p.gateway[6])
    .map((p) => acceptRa(p.interface));

export function compileSysctls(cfg: ResolvedConfig, facts: SystemFacts): Record<string, string> {
  const out: Record<string, string> = {};
  const providers = Object.values(cfg.providers);
  if (providers.some((p) => p.gateway[4])) out['net/ipv4/ip_forward'] = '1';
  if (providers.some((p) => p.gateway[6])) out['net/ipv6/conf/all/forwarding'] = '1';
  for (const p of providers) {
    // an interface that does not exist has no sysctls yet; they are set once it appears
    if (!linkOf(p, facts)) continue;
    if (p.gateway[4]) out[ipv4Conf(p.interface, 'src_valid_mark')] = '1';
    // Forwarding on makes the kernel ignore router advertisements where accept_ra=1, and an
    // uplink configured by SLAAC would lose its address and default route. accept_ra=2 keeps
    // them; an uplink with accept_ra=0 (static) is left as it is.
    const ra = facts.sysctls?.[acceptRa(p.interface)];
    if (p.gateway[6] && (ra === '1' || ra === '2')) out[acceptRa(p.interface)] = '2';
  }
  return out;
}

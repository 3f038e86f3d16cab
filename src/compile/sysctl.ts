// The sysctls a multi-uplink router needs. Strict rp_filter is kept: marked
// replies pass it because src_valid_mark=1 on each provider interface makes
// the reverse-path lookup use the mark restored from conntrack in PREROUTING
// (see docs/architecture.md, "Reverse-path filtering").
import type { ResolvedConfig } from '../config/assign.js';

/** sysctl key in slash form, so interface names with dots (eth0.100) stay one path element. */
export const ipv4Conf = (dev: string, key: string): string => `net/ipv4/conf/${dev}/${key}`;

export function compileSysctls(cfg: ResolvedConfig): Record<string, string> {
  const out: Record<string, string> = {};
  const providers = Object.values(cfg.providers);
  if (providers.some((p) => p.gateway[4])) out['net/ipv4/ip_forward'] = '1';
  if (providers.some((p) => p.gateway[6])) out['net/ipv6/conf/all/forwarding'] = '1';
  for (const p of providers) {
    if (p.gateway[4]) out[ipv4Conf(p.interface, 'src_valid_mark')] = '1';
  }
  return out;
}

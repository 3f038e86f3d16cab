// Checks that need the live system: the interface exists, the gateway is on
// one of its subnets. Pure over the facts; reported before anything changes.
import type { ResolvedConfig } from '../config/assign.js';
import type { PathIssue } from '../config/semantic.js';
import { formatAddress, type Family } from '../net/ip.js';
import { gatewayOnLink } from './links.js';
import { closest } from '../util/suggest.js';
import type { SystemFacts } from './facts.js';

export function systemIssues(cfg: ResolvedConfig, facts: SystemFacts): PathIssue[] {
  const issues: PathIssue[] = [];
  const names = facts.links.map((l) => l.name);
  for (const p of Object.values(cfg.providers)) {
    const link = facts.links.find((l) => l.name === p.interface);
    if (!link) {
      const g = closest(p.interface, names);
      issues.push({
        path: ['providers', p.name, 'interface'],
        message: `interface ${p.interface} does not exist on this system`,
        hint: g ? `did you mean "${g}"? (interfaces here: ${names.join(', ')})` : `interfaces here: ${names.join(', ')}`,
      });
      continue;
    }
    // A link that is down has lost its routes (and its IPv6 addresses): the provider is down
    // until it comes back (compile leaves its route out), not a mistake in the config.
    if (!link.up) continue;
    for (const f of [4, 6] as Family[]) {
      const gw = p.gateway[f];
      if (!gw || gatewayOnLink(link, gw)) continue;
      const have = link.addresses.filter((a) => a.family === f && a.scope === 'global').map((a) => `${a.address}/${a.prefixlen}`);
      issues.push({
        path: ['providers', p.name, 'gateway'],
        message: `gateway ${formatAddress(gw)} is not on a subnet of ${p.interface} (${have.length ? have.join(', ') : `no IPv${f} address`})`,
        hint: `check the gateway and the address of ${p.interface}`,
      });
    }
  }
  return issues;
}

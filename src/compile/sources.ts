// The source addresses that identify a provider: its SNAT address, or (for
// masquerade and routed uplinks) the global addresses on its interface now.
import type { ResolvedProvider } from '../config/assign.js';
import { snatFor } from '../config/schema.js';
import { parseAddress, type Address, type Family } from '../net/ip.js';
import type { SystemFacts } from './facts.js';

export function providerSourceAddresses(p: ResolvedProvider, family: Family, facts: SystemFacts): Address[] {
  const target = snatFor(p, family);
  if (typeof target === 'object' && !('npt' in target)) return [target];
  const link = facts.links.find((l) => l.name === p.interface);
  if (!link) return [];
  return link.addresses
    .filter((a) => a.family === family && a.scope === 'global')
    .map((a) => parseAddress(a.address))
    .filter((a): a is Address => a !== null);
}

// What the links allow right now: a provider whose interface is missing,
// administratively down or without carrier cannot carry traffic (it is down,
// whatever its probes say), and a provider's default route can only be
// installed while its interface is up and has an address on the gateway's
// subnet (the kernel refuses it otherwise: "Nexthop has invalid gateway").
// Compile leaves out what cannot be installed and takes such providers out of
// their groups, so the rest still applies. Pure over the facts.
import type { ResolvedProvider } from '../config/assign.js';
import { formatAddress, isLinkLocal, networkOf, parseAddress, prefixContains, type Address, type Family } from '../net/ip.js';
import type { LinkState } from '../state/types.js';
import type { SystemFacts } from './facts.js';

/** Whether the gateway is on one of the link's subnets (or is its point-to-point peer). */
export function gatewayOnLink(link: LinkState, gw: Address): boolean {
  if (isLinkLocal(gw)) return true; // on-link by definition
  return link.addresses.some((a) => {
    const addr = parseAddress(a.peer ?? a.address);
    if (!addr || addr.family !== gw.family) return false;
    if (a.peer && parseAddress(a.peer)?.value === gw.value) return true;
    const own = parseAddress(a.address);
    return own !== null && prefixContains(networkOf(own, a.prefixlen), gw);
  });
}

export const linkOf = (p: ResolvedProvider, facts: SystemFacts): LinkState | undefined => facts.links.find((l) => l.name === p.interface);

/** Why the provider's route of `family` cannot be installed now, or null when it can. */
export function routeBlocker(p: ResolvedProvider, family: Family, facts: SystemFacts): string | null {
  const link = linkOf(p, facts);
  if (!link) return `${p.interface} does not exist`;
  if (!link.up) return `${p.interface} is down`;
  const gw = p.gateway[family];
  if (gw && !gatewayOnLink(link, gw)) return `${p.interface} has no IPv${family} address on the subnet of gateway ${formatAddress(gw)}`;
  return null;
}

/** Why the provider cannot carry traffic now because of its link, or null: the daemon shows it as "down (link)". */
export function linkDown(p: ResolvedProvider, facts: SystemFacts): string | null {
  const link = linkOf(p, facts);
  if (!link) return `${p.interface} does not exist`;
  if (!link.up) return `${p.interface} is administratively down`;
  if (!link.carrier) return `${p.interface} has no carrier`;
  const families = ([4, 6] as Family[]).filter((f) => p.gateway[f]);
  const blocked = families.map((f) => routeBlocker(p, f, facts));
  if (blocked.every((b) => b !== null)) return blocked[0] ?? null;
  return null;
}

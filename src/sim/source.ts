// The source address the host picks for its own packets (reference §2
// "Source address"), ported from the kernel: IPv4 net/ipv4/devinet.c
// inet_select_addr (the route's nexthop device first, then any device), IPv6
// RFC 6724 in source6.ts. Pure.
import { formatAddress, networkOf, parseAddress, prefixContains, type Address } from '../net/ip.js';
import type { AddressState, LinkState, Nexthop, RouteState } from '../state/types.js';
import { ipv6DevGetSaddr } from './source6.js';
import { devConf, type World } from './world.js';

const SCOPES: Record<string, number> = { global: 0, universe: 0, site: 200, link: 253, host: 254, nowhere: 255 };
const RT_SCOPE_LINK = 253;
const RT_SCOPE_HOST = 254;

const scopeOf = (a: AddressState) => SCOPES[a.scope] ?? (Number(a.scope) || 0);
/** Primary IPv4 addresses of a device, in the kernel's order (secondaries are never picked). */
const primaries = (l: LinkState | undefined) => (l?.addresses ?? []).filter((a) => a.family === 4 && !a.flags?.includes('secondary'));

/** inet_ifa_match: `dst` is in the address's subnet (its peer's, for a point-to-point address). */
function ifaMatch(dst: Address, a: AddressState): boolean {
  const base = parseAddress(a.peer ?? a.address);
  return base !== null && prefixContains(networkOf(base, a.prefixlen), dst);
}

/**
 * inet_select_addr(dev, dst, scope): on `dev`, the first primary address of a
 * scope within `scope` (host-scoped ones count as link-scoped with
 * route_localnet) whose subnet holds `dst`, else the first such address; else
 * on any device in ifindex order the first primary address that is not
 * link-scoped and within `scope` (in_dev_select_addr).
 */
function inetSelectAddr(w: World, dev: string | undefined, dst: Address | null, scope: number): Address | null {
  const localnet = dev && devConf(w, dev).routeLocalnet ? RT_SCOPE_LINK : RT_SCOPE_HOST;
  let pick: AddressState | undefined;
  for (const a of primaries(dev ? w.links.get(dev) : undefined)) {
    if (Math.min(scopeOf(a), localnet) > scope) continue;
    if (!dst || ifaMatch(dst, a)) {
      pick = a;
      break;
    }
    pick ??= a;
  }
  if (!pick) {
    for (const l of [...w.links.values()].sort((x, y) => x.index - y.index)) {
      pick = primaries(l).find((a) => scopeOf(a) !== RT_SCOPE_LINK && scopeOf(a) <= scope);
      if (pick) break;
    }
  }
  return pick ? parseAddress(pick.address) : null;
}

/**
 * The source of a packet of this host that leaves by `nh` of `route`: the
 * route's prefsrc, else IPv4 the nexthop's own source (fib_info_update_nhc_saddr:
 * inet_select_addr with its gateway and the route's scope), IPv6 RFC 6724
 * among the addresses (ip6_route_get_saddr with the route's device).
 */
export function routeSource(w: World, route: RouteState, nh: Nexthop | undefined, dst: Address): Address | null {
  if (route.prefsrc) return parseAddress(route.prefsrc);
  const dev = nh?.dev ?? route.dev;
  if (dst.family === 6) return ipv6DevGetSaddr(w, dev, dst);
  const gw = nh?.gateway ? parseAddress(nh.gateway) : null;
  return inetSelectAddr(w, dev, gw && gw.family === 4 ? gw : null, route.scope);
}

/**
 * With a bound device and no route (ip_route_output_key_hash_rcu): the
 * destination is taken as on-link and the source is inet_select_addr(dev, 0,
 * RT_SCOPE_LINK) — on `lo` usually another device's address.
 */
export const onLinkSource = (w: World, dev: string): Address | null => inetSelectAddr(w, dev, null, RT_SCOPE_LINK);

/** MASQUERADE's address: IPv4 nf_nat_masquerade_ipv4 (the output device, the nexthop, global scope), IPv6 RFC 6724 on it. */
export function masqueradeSource(w: World, dev: string | undefined, nh: Nexthop | undefined, dst: Address): string | null {
  const gw = nh?.gateway ? parseAddress(nh.gateway) : null;
  const a = dst.family === 6 ? ipv6DevGetSaddr(w, dev, dst) : inetSelectAddr(w, dev, gw && gw.family === 4 ? gw : dst, 0);
  return a ? formatAddress(a) : null;
}

// Provider tables: the default route through the provider's gateway, plus,
// with `routes: copy`, a copy of main's other routes (the seed's step 1).
import type { ResolvedConfig } from '../config/assign.js';
import { formatAddress, type Family } from '../net/ip.js';
import { TABLE_IDS, type RouteState } from '../state/types.js';
import type { SystemFacts } from './facts.js';
import { routeBlocker } from './links.js';

/** IPv6 routes added without a metric get 1024; IPv4 ones 0. Desired state says so explicitly. */
const defaultMetric = (f: Family): number => (f === 6 ? 1024 : 0);

export function compileRoutes(cfg: ResolvedConfig, facts: SystemFacts): RouteState[] {
  const routes: RouteState[] = [];
  for (const p of Object.values(cfg.providers)) {
    for (const family of [4, 6] as Family[]) {
      const gw = p.gateway[family];
      // a route the kernel would refuse (link down or gone, no address on the gateway's subnet) is left
      // out: the provider is down meanwhile, and its rules make its marked traffic unreachable
      if (!gw || routeBlocker(p, family, facts)) continue;
      routes.push({
        family,
        table: p.table,
        dst: 'default',
        type: 'unicast',
        tos: 0,
        metric: defaultMetric(family),
        protocol: cfg.route_protocol,
        scope: 0,
        gateway: formatAddress(gw),
        dev: p.interface,
        flags: [],
      });
      // on a live system the route copier keeps these (facts.mainRoutes is empty there); a state read
      // for `explain` has main's routes, and the copies show what the copier would make
      if (p.routes === 'copy') routes.push(...copyOfMain(facts.mainRoutes, family, p.table, cfg.copy.protocol));
    }
  }
  return routes;
}

/** main's routes of one family except its default, re-tagged for a provider table. */
function copyOfMain(main: RouteState[], family: Family, table: number, protocol: number): RouteState[] {
  return (
    main
      .filter((r) => r.family === family && r.table === TABLE_IDS.main && r.dst !== 'default')
      // IPv6 link-local routes exist per interface in main already and are looked up there first.
      .filter((r) => !(family === 6 && r.dst.startsWith('fe80:')))
      .map((r) => ({
        ...r,
        table,
        protocol,
        flags: r.flags.filter((f) => f === 'onlink'),
        ...(r.nexthops ? { nexthops: r.nexthops.map((n) => ({ ...n, flags: n.flags.filter((f) => f === 'onlink') })) } : {}),
      }))
  );
}

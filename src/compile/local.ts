// The router's own traffic: `iif lo` rules route the connections the router
// opens from unbound sockets by the default and the `local: true` policies.
//
// Why routing rules and not (only) a re-route in the nft output chain: a
// socket's source address is chosen by its first route lookup, before any
// netfilter hook. Re-routing later on a mark keeps that source, so the packet
// would leave by the new uplink with the old uplink's address (NAT could patch
// that over for IPv4, but not for prefix-per-uplink IPv6, which has no NAT),
// and a socket bound to a provider's address could no longer be told from an
// unbound one. Rules decide before the source is chosen: the kernel then picks
// the chosen uplink's own address, and sockets bound to a provider's address
// never get here (the provider's `from` rules come first).
//
// Order, after every provider's rules: main without its default route (LAN,
// VPN and static routes win, as for forwarded traffic), then each local policy,
// then the default. A target that is a group uses its heaviest active member:
// rules cannot balance per connection.
import type { ResolvedConfig } from '../config/assign.js';
import { policyFamilies, providerFamilies } from '../config/families.js';
import type { Config, PolicyConfig } from '../config/schema.js';
import type { Family } from '../net/ip.js';
import { TABLE_IDS, type RuleState } from '../state/types.js';
import type { SystemFacts } from './facts.js';
import { primaryOf, type HealthView } from './groups.js';
import { routeBlocker } from './links.js';
import { prefixesOf, protoNumber } from './program.js';

type Selector = Pick<RuleState, 'to' | 'ipproto' | 'sport' | 'dport'>;

/** One rule per combination of destination prefix, protocol and port range (an ip rule holds one of each). */
function selectors(pol: PolicyConfig, family: Family): Selector[] {
  const m = pol.match;
  const to = prefixesOf(m.to, family) ?? [undefined];
  const protos = m.protocol ?? (m.sport || m.dport ? ['tcp', 'udp'] : [undefined]);
  const out: Selector[] = [];
  for (const t of to) {
    for (const pr of protos) {
      for (const sp of m.sport ?? [undefined]) {
        for (const dp of m.dport ?? [undefined]) {
          const sel: Selector = {};
          if (t !== undefined) sel.to = t;
          if (pr !== undefined) sel.ipproto = protoNumber(pr);
          if (sp) sel.sport = { from: sp.from, to: sp.to };
          if (dp) sel.dport = { from: dp.from, to: dp.to };
          out.push(sel);
        }
      }
    }
  }
  return out;
}

/** Families a local policy applies to: those its prefixes allow and its target carries. */
const localFamilies = (cfg: Config, pol: PolicyConfig): Family[] => policyFamilies(pol).filter((f) => providerFamilies(cfg, pol.via).includes(f));

/** The rules for the router's own traffic, from priority `first` on. */
export function compileLocalRules(cfg: ResolvedConfig, facts: SystemFacts, view: HealthView, first: number): RuleState[] {
  if (cfg.local_traffic !== 'policies') return [];
  const rules: RuleState[] = [];
  for (const family of [4, 6] as Family[]) {
    if (!Object.values(cfg.providers).some((p) => p.gateway[family])) continue;
    let pref = first; // each family has its own rule list
    const common = { family, protocol: cfg.route_protocol, iif: 'lo' };
    /** the table a target routes by now, 'unreachable', or null (main decides) */
    const target = (name: string): number | 'unreachable' | null => {
      const primary = primaryOf(cfg, name, view);
      if (primary === null) return cfg.groups[name]?.last_resort === 'unreachable' ? 'unreachable' : null;
      const p = cfg.providers[primary]!;
      return p.gateway[family] && !routeBlocker(p, family, facts) ? p.table : null;
    };
    const add = (sel: Selector, t: number | 'unreachable' | null) => {
      const at = pref++; // priorities stay put whatever the health: a failover changes tables only
      if (t === null) return;
      rules.push({ ...common, ...sel, pref: at, ...(t === 'unreachable' ? { action: 'unreachable' as const } : { action: 'lookup' as const, table: t }) });
    };
    add({}, TABLE_IDS.main);
    rules[rules.length - 1]!.suppressPrefixlength = 0;
    for (const pol of cfg.policies) {
      if (!pol.match.local || !localFamilies(cfg, pol).includes(family)) continue;
      const t = target(pol.via);
      for (const sel of selectors(pol, family)) add(sel, t);
    }
    if (providerFamilies(cfg, cfg.default).includes(family)) add({}, target(cfg.default));
  }
  return rules;
}

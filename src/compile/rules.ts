// ip rules: marked traffic and traffic from a provider's own address use the
// provider's table. With `routes: follow`, main's non-default routes are
// consulted first (`lookup main suppress_prefixlength 0`) so LAN, VPN and
// static routes keep working for marked traffic, live.
import type { ResolvedConfig } from '../config/assign.js';
import { formatAddress, formatPrefix, type Family } from '../net/ip.js';
import { routedPrefixes } from './program.js';
import { TABLE_IDS, type RuleState } from '../state/types.js';
import { providerSourceAddresses } from './sources.js';
import type { SystemFacts } from './facts.js';
import { allHealthy, type HealthView } from './groups.js';
import { compileLocalRules } from './local.js';
import { prioritySpan, RULES_PER_PROVIDER } from '../config/priorities.js';

/**
 * Rules of provider #i take prefs base + 10·i … base + 10·i + 9: +0/+1 marked traffic (main without its
 * default, then the table), +2/+3 the provider's source addresses (likewise), +4/+5 unreachable for
 * both when the table has no route. The router's own traffic (local.ts) follows the providers' rules. The
 * "unreachable" last resort's rule is the last of the config's span (config/priorities.ts).
 */

export function compileRules(cfg: ResolvedConfig, facts: SystemFacts, view: HealthView = allHealthy): RuleState[] {
  const rules: RuleState[] = [];
  Object.values(cfg.providers).forEach((p, i) => {
    const base = cfg.rule_priority + RULES_PER_PROVIDER * i;
    for (const family of [4, 6] as Family[]) {
      if (!p.gateway[family]) continue;
      const common = { family, protocol: cfg.route_protocol };
      const byMark = { fwmark: p.mark, fwmask: cfg.mark_mask };
      const follow = p.routes === 'follow';
      if (follow) rules.push({ ...common, ...byMark, pref: base, action: 'lookup', table: TABLE_IDS.main, suppressPrefixlength: 0 });
      rules.push({ ...common, ...byMark, pref: base + 1, action: 'lookup', table: p.table });
      // Fail closed: when the provider's table has no route (its link is down, someone flushed it),
      // its traffic must not fall through to main and leave by another uplink with this one's
      // source address (which that upstream drops, and whose replies come back here).
      rules.push({ ...common, ...byMark, pref: base + 4, action: 'unreachable' });
      const sources = [...providerSourceAddresses(p, family, facts).map(formatAddress), ...(family === 6 ? routedPrefixes(p).map(formatPrefix) : [])];
      for (const from of sources) {
        if (follow) rules.push({ ...common, pref: base + 2, from, action: 'lookup', table: TABLE_IDS.main, suppressPrefixlength: 0 });
        rules.push({ ...common, pref: base + 3, from, action: 'lookup', table: p.table });
        rules.push({ ...common, pref: base + 5, from, action: 'unreachable' });
      }
    }
  });
  rules.push(...compileLocalRules(cfg, facts, view, cfg.rule_priority + RULES_PER_PROVIDER * Object.keys(cfg.providers).length));
  // A group whose members are all down may answer "unreachable" (its last resort): the
  // connection gets this mark and the kernel refuses it at once (ENETUNREACH, an ICMP error).
  if (cfg.unreachableMark !== undefined) {
    for (const family of [4, 6] as Family[]) {
      if (!Object.values(cfg.providers).some((p) => p.gateway[family])) continue;
      rules.push({
        family,
        protocol: cfg.route_protocol,
        pref: cfg.rule_priority + prioritySpan(cfg) - 1,
        fwmark: cfg.unreachableMark,
        fwmask: cfg.mark_mask,
        action: 'unreachable',
      });
    }
  }
  return rules;
}

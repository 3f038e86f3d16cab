// How many ip rule priorities a config takes, from rule_priority on: 10 per provider (rules.ts),
// then the rules of the router's own traffic (local.ts), then one for the "unreachable" last
// resort at the very end. Taken in blocks of 1000, so a config of up to 99 providers keeps the
// one-block layout every earlier version wrote, and a larger one (250 uplinks and more) takes as
// many blocks as it needs — as long as they end before the kernel's "32766: lookup main".
import type { Family } from '../net/ip.js';
import type { Config } from './schema.js';
import { policyFamilies } from './families.js';

export const RULES_PER_PROVIDER = 10;
export const PRIORITY_BLOCK = 1000;
/** The kernel's `32766: from all lookup main`: multihome's rules must all come before it. */
export const MAIN_RULE_PRIORITY = 32766;

/**
 * How many `iif lo` rules the router's own traffic takes at most (compile/local.ts writes one per
 * destination prefix × protocol × port range of each local policy, plus two per family).
 */
export function localRuleCount(cfg: Pick<Config, 'local_traffic' | 'policies'>): number {
  if (cfg.local_traffic === 'main') return 0;
  let n = 0;
  for (const f of [4, 6] as Family[]) {
    n += 2;
    for (const pol of cfg.policies) {
      if (!pol?.match.local || !policyFamilies(pol).includes(f)) continue;
      const m = pol.match;
      const to = m.to ? m.to.filter((p) => p.family === f).length : 1;
      const protos = m.protocol?.length ?? (m.sport || m.dport ? 2 : 1);
      n += to * protos * (m.sport?.length ?? 1) * (m.dport?.length ?? 1);
    }
  }
  return n;
}

/** The priorities the config's rules take: rule_priority … rule_priority + span − 1. */
export function prioritySpan(cfg: Pick<Config, 'local_traffic' | 'policies' | 'providers'>): number {
  const need = RULES_PER_PROVIDER * Object.keys(cfg.providers).length + localRuleCount(cfg) + 1;
  return Math.max(1, Math.ceil(need / PRIORITY_BLOCK)) * PRIORITY_BLOCK;
}

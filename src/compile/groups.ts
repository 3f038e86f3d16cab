// Which members of a group carry its new connections now. Pure: the daemon's
// view of the providers (health, quality, quotas, failback holds) comes in as
// data, so compile, the nft program, the router's own rules and `status` all
// answer the same way.
//
// A member's rank is a sum of penalties (lower is better); the group uses the
// lowest rank present, and within it the first tier that has members of that
// rank, balanced by weight among them:
//   +1 degraded (only with avoid_degraded)   — brownouts: a second choice
//   +2 metered                               — used only while no unmetered member is up
//   +4 held back by failback control         — up again, but the group does not return yet
//   +8 quota used up (quota.last_resort)     — the very last choice before the group's last resort
// Down members (probes or link) and used-up quotas without last_resort are out.
import type { ResolvedConfig } from '../config/assign.js';
import type { GroupConfig } from '../config/schema.js';

/** What the daemon knows about the providers, as plain predicates. */
export interface HealthView {
  healthy(name: string): boolean;
  degraded(name: string): boolean;
  /** the provider's quota is used up for this period */
  exhausted(name: string): boolean;
  /** the group keeps this (healthy) member as a second choice: failback is on hold or manual */
  held(group: string, name: string): boolean;
}

export const allHealthy: HealthView = { healthy: () => true, degraded: () => false, exhausted: () => false, held: () => false };

export interface Member {
  name: string;
  weight: number;
}

/** A member's rank in its group (see the top), or null when it cannot be used at all. */
function memberRank(cfg: ResolvedConfig, groupName: string, group: GroupConfig, name: string, view: HealthView): number | null {
  const p = cfg.providers[name];
  if (!p || !view.healthy(name)) return null;
  let rank = 0;
  if (group.avoid_degraded && view.degraded(name)) rank += 1;
  if (p.metered) rank += 2;
  if (view.held(groupName, name)) rank += 4;
  if (p.quota && view.exhausted(name)) {
    if (!p.quota.last_resort) return null;
    rank += 8;
  }
  return rank;
}

/** The members that carry the group's new connections; empty: every member is down (the last resort). */
export function activeMembers(cfg: ResolvedConfig, groupName: string, view: HealthView): Member[] {
  const group = cfg.groups[groupName];
  if (!group) return [];
  const ranked = group.tiers.map((tier) => tier.map((m) => ({ ...m, rank: memberRank(cfg, groupName, group, m.name, view) })));
  const ranks = ranked.flat().flatMap((m) => (m.rank === null ? [] : [m.rank]));
  if (ranks.length === 0) return [];
  const best = Math.min(...ranks);
  const tier = ranked.find((t) => t.some((m) => m.rank === best))!;
  return tier.filter((m) => m.rank === best).map(({ name, weight }) => ({ name, weight }));
}

/** The provider a target (provider or group) uses for connections that cannot be balanced: the heaviest active member. */
export function primaryOf(cfg: ResolvedConfig, target: string, view: HealthView): string | null {
  if (Object.hasOwn(cfg.providers, target)) return target;
  const members = activeMembers(cfg, target, view);
  if (members.length === 0) return null;
  return members.reduce((a, b) => (b.weight > a.weight ? b : a)).name;
}

// The address families a policy or a provider (or group) carries: what compile and the checks
// use to decide which of IPv4 and IPv6 a rule, a chain or a check applies to.
import type { Family } from '../net/ip.js';
import type { Config, PolicyConfig } from './schema.js';

/** The address families a policy can match, from its prefixes (both when it names none). */
export function policyFamilies(p: PolicyConfig): Family[] {
  const fams = (list?: { family: Family }[]): Set<Family> => new Set(list ? list.map((x) => x.family) : [4, 6]);
  const from = fams(p.match.from);
  const to = fams(p.match.to);
  return ([4, 6] as Family[]).filter((f) => from.has(f) && to.has(f));
}

/** The families a provider carries; for a group, those every member carries. */
export function providerFamilies(cfg: Config, name: string): Family[] {
  const pr = Object.hasOwn(cfg.providers, name) ? cfg.providers[name] : undefined;
  if (pr) return ([4, 6] as Family[]).filter((f) => pr.gateway[f]);
  const g = Object.hasOwn(cfg.groups ?? {}, name) ? cfg.groups[name] : undefined;
  if (!g) return [];
  const members = g.tiers.flat().map((m) => providerFamilies(cfg, m.name));
  return ([4, 6] as Family[]).filter((f) => members.length > 0 && members.every((fs) => fs.includes(f)));
}

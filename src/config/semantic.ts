// Checks across fields that the schema cannot express: references between
// providers and policies, ids that must be unique, marks within the mask.
import type { Family } from '../net/ip.js';
import { PORT_PROTOCOLS } from '../net/ports.js';
import { closest } from '../util/suggest.js';
import { NAME, type Config, type PolicyConfig } from './schema.js';
import { policyFamilies, providerFamilies } from './families.js';
import { localRuleCount, MAIN_RULE_PRIORITY, PRIORITY_BLOCK, prioritySpan, RULES_PER_PROVIDER } from './priorities.js';

export interface PathIssue {
  path: (string | number)[];
  message: string;
  hint?: string;
  atKey?: boolean;
}

export const RESERVED_TABLES: Record<number, string> = { 0: 'unspec', 253: 'default', 254: 'main', 255: 'local' };

const hex = (n: number): string => `0x${n.toString(16)}`;

function groupIssues(cfg: Config, providerNames: string[]): PathIssue[] {
  const issues: PathIssue[] = [];
  for (const [gname, g] of Object.entries(cfg.groups ?? {})) {
    if (!NAME.test(gname))
      issues.push({
        path: ['groups', gname],
        atKey: true,
        message: `group name "${gname}" is not allowed`,
        hint: 'a group name starts with a letter and has at most 32 letters, digits, "_" or "-"',
      });
    if (providerNames.includes(gname))
      issues.push({ path: ['groups', gname], atKey: true, message: `"${gname}" is both a provider and a group`, hint: 'give the group another name' });
    if (!Array.isArray(cfg.groups[gname]) && g.sticky_timeout !== undefined && g.sticky === 'connection') {
      issues.push({
        path: ['groups', gname, 'sticky_timeout'],
        atKey: true,
        message: 'sticky_timeout keeps a source on its member across connections, but sticky is "connection"',
        hint: 'set sticky: source (or source_destination)',
      });
    }
    const seen = new Set<string>();
    g.tiers.forEach((tier, t) => {
      for (const m of tier) {
        const at = ['groups', gname, ...(Array.isArray(cfg.groups[gname]) ? [] : ['tiers']), t];
        if (!providerNames.includes(m.name)) {
          const guess = closest(m.name, providerNames);
          issues.push({
            path: at,
            message: `group "${gname}" names unknown provider "${m.name}"`,
            hint: guess ? `did you mean "${guess}"?` : 'groups list providers (not other groups)',
          });
        } else if (seen.has(m.name)) {
          issues.push({ path: at, message: `provider "${m.name}" is in group "${gname}" twice`, hint: 'list each provider once per group' });
        }
        seen.add(m.name);
      }
    });
  }
  return issues;
}

/**
 * `names`: every provider named in the file, when `cfg` holds only the ones that
 * parsed (so a broken provider is not also reported as unknown where it is used).
 * Policies that failed to parse are null placeholders and are skipped.
 */
export function semanticIssues(cfg: Config, names: string[] = Object.keys(cfg.providers)): PathIssue[] {
  const partial = names.length !== Object.keys(cfg.providers).length;
  const targets = [...names, ...Object.keys(cfg.groups ?? {})];
  const uplinks = uplinkOwners(cfg);
  return [
    ...groupIssues(cfg, names),
    ...copyIssues(cfg),
    ...topIssues(cfg, names, partial, targets),
    ...providerNameIssues(names),
    ...tableIssues(cfg),
    ...markIssues(cfg),
    ...gatewayFamilyIssues(cfg),
    ...quotaIssues(cfg),
    ...uplinkIssues(cfg, uplinks),
    ...capacityIssues(cfg, names, partial),
    ...webIssues(cfg),
    ...raIssues(cfg, uplinks),
    ...policyIssues(cfg, targets, uplinks),
  ];
}

/** The hint for a name that is neither a provider nor a group. */
function unknownHint(n: string, targets: string[]): string {
  const g = closest(n, targets);
  return g ? `did you mean "${g}"?` : `defined providers and groups: ${targets.join(', ') || '(none)'}`;
}

/** Each uplink interface and the (first) provider it belongs to. */
function uplinkOwners(cfg: Config): Map<string, string> {
  const owners = new Map<string, string>();
  for (const [name, p] of Object.entries(cfg.providers)) if (!owners.has(p.interface)) owners.set(p.interface, name);
  return owners;
}

function copyIssues(cfg: Config): PathIssue[] {
  if (!cfg.copy || cfg.copy.protocol !== cfg.route_protocol) return [];
  return [
    {
      path: ['copy', 'protocol'],
      message: `copy.protocol ${cfg.copy.protocol} is route_protocol too`,
      hint: `give the copies their own tag, e.g. ${cfg.route_protocol + 1}`,
    },
  ];
}

/** Some provider, and a default that names one (or a group). */
function topIssues(cfg: Config, names: string[], partial: boolean, targets: string[]): PathIssue[] {
  const issues: PathIssue[] = [];
  if (names.length === 0 && !partial)
    issues.push({ path: ['providers'], message: 'no providers are defined', hint: 'add at least one, e.g. isp1: { interface: eth1, gateway: 203.0.113.1 }' });
  if (cfg.default && !targets.includes(cfg.default))
    issues.push({ path: ['default'], message: `default names unknown provider or group "${cfg.default}"`, hint: unknownHint(cfg.default, targets) });
  return issues;
}

function providerNameIssues(names: string[]): PathIssue[] {
  return names
    .filter((n) => !NAME.test(n))
    .map((n) => ({
      path: ['providers', n],
      atKey: true,
      message: `provider name "${n}" is not allowed`,
      hint: 'a provider name starts with a letter and has at most 32 letters, digits, "_" or "-"',
    }));
}

/** Routing tables: not the kernel's own, one per provider. */
function tableIssues(cfg: Config): PathIssue[] {
  const issues: PathIssue[] = [];
  const tables = new Map<number, string>();
  for (const [name, p] of Object.entries(cfg.providers)) {
    if (p.table === undefined) continue;
    if (Object.hasOwn(RESERVED_TABLES, p.table)) {
      issues.push({
        path: ['providers', name, 'table'],
        message: `table ${p.table} is reserved for the kernel's "${RESERVED_TABLES[p.table]}" table`,
        hint: 'pick another id, e.g. 100, or leave table out to have one assigned',
      });
    } else if (tables.has(p.table)) {
      issues.push({
        path: ['providers', name, 'table'],
        message: `table ${p.table} is already used by provider "${tables.get(p.table)}"`,
        hint: 'give each provider its own table, or leave table out',
      });
    } else tables.set(p.table, name);
  }
  return issues;
}

/** Marks: not 0, inside mark_mask, one per provider. */
function markIssues(cfg: Config): PathIssue[] {
  const issues: PathIssue[] = [];
  const marks = new Map<number, string>();
  for (const [name, p] of Object.entries(cfg.providers)) {
    if (p.mark === undefined) continue;
    if (p.mark === 0) {
      issues.push({
        path: ['providers', name, 'mark'],
        message: 'mark 0 means "unmarked" and cannot name a provider',
        hint: 'pick a value within mark_mask, or leave mark out',
      });
    } else if ((p.mark & ~cfg.mark_mask) >>> 0 !== 0) {
      issues.push({
        path: ['providers', name, 'mark'],
        message: `mark ${hex(p.mark)} has bits outside mark_mask ${hex(cfg.mark_mask)}`,
        hint: `use a value within the mask (e.g. ${hex(lowestBit(cfg.mark_mask))}), or widen mark_mask`,
      });
    } else if (marks.has(p.mark)) {
      issues.push({
        path: ['providers', name, 'mark'],
        message: `mark ${hex(p.mark)} is already used by provider "${marks.get(p.mark)}"`,
        hint: 'give each provider its own mark, or leave mark out',
      });
    } else marks.set(p.mark, name);
  }
  return issues;
}

/** What a provider does in a family (probe targets, delegated prefixes, NPTv6, SNAT addresses) needs its gateway of that family. */
function gatewayFamilyIssues(cfg: Config): PathIssue[] {
  const issues: PathIssue[] = [];
  for (const [name, p] of Object.entries(cfg.providers)) {
    (p.health?.targets ?? []).forEach((t, j) => {
      if (!p.gateway[t.family]) {
        issues.push({
          path: ['providers', name, 'health', 'targets', ...(p.health!.targets.length > 1 ? [j] : [])],
          message: `an IPv${t.family} probe target but provider "${name}" has no IPv${t.family} gateway`,
          hint: `probe an IPv${t.family === 4 ? 6 : 4} target, or add an IPv${t.family} gateway`,
        });
      }
    });
    for (const [j, d] of (p.delegated ?? []).entries()) {
      const at = ['providers', name, 'delegated', ...(p.delegated!.length > 1 ? [j] : [])];
      if (d.family !== 6)
        issues.push({ path: at, message: 'a delegated prefix is an IPv6 prefix (IPv4 LANs use NAT)', hint: 'e.g. delegated: 2001:db8:1:99::/64' });
      else if (!p.gateway[6])
        issues.push({
          path: at,
          message: `provider "${name}" has a delegated IPv6 prefix but no IPv6 gateway`,
          hint: 'add the IPv6 gateway to gateway: [...]',
        });
    }
    const v6 = p.snat?.[6];
    if (v6 && typeof v6 === 'object' && 'npt' in v6) {
      const same = (p.delegated ?? []).some((d) => d.family === 6 && d.length === v6.npt.length);
      if (!same)
        issues.push({
          path: ['providers', name, 'snat'],
          message: `NPTv6 maps the LAN's /${v6.npt.length} to a delegated prefix of the same length, and provider "${name}" has none`,
          hint: `add delegated: <the /${v6.npt.length} the provider routes to you>`,
        });
    }
    for (const f of [4, 6] as Family[]) {
      if (p.snat && typeof p.snat[f] === 'object' && !p.gateway[f]) {
        issues.push({
          path: ['providers', name, 'snat'],
          message: `an IPv${f} SNAT address but no IPv${f} gateway`,
          hint: `add the IPv${f} gateway to gateway: [...], or remove the address`,
        });
      }
    }
  }
  return issues;
}

function quotaIssues(cfg: Config): PathIssue[] {
  return Object.entries(cfg.providers)
    .filter(([, p]) => p.quota && !p.metered)
    .map(([name]) => ({
      path: ['providers', name, 'quota'],
      atKey: true,
      message: 'a quota caps a metered provider',
      hint: 'add metered: true (groups then use it only while no unmetered member is up)',
    }));
}

/** An interface is the uplink of one provider. */
function uplinkIssues(cfg: Config, uplinks: Map<string, string>): PathIssue[] {
  const issues: PathIssue[] = [];
  for (const [name, p] of Object.entries(cfg.providers)) {
    const owner = uplinks.get(p.interface);
    if (owner !== name)
      issues.push({
        path: ['providers', name, 'interface'],
        message: `interface ${p.interface} is already the uplink of provider "${owner}"`,
        hint: 'each provider needs an interface of its own',
      });
  }
  return issues;
}

/** Room for the providers' rules, the router's own traffic's rules, and a mark for each provider. */
function capacityIssues(cfg: Config, names: string[], partial: boolean): PathIssue[] {
  const issues: PathIssue[] = [];
  // The real limit of providers is where their rules end: before the kernel's main rule.
  const span = prioritySpan(cfg);
  const last = cfg.rule_priority + span - 1;
  if (last >= MAIN_RULE_PRIORITY) {
    const local = localRuleCount(cfg);
    const fit = Math.floor((Math.floor((MAIN_RULE_PRIORITY - 1 - cfg.rule_priority) / PRIORITY_BLOCK) * PRIORITY_BLOCK - local - 1) / RULES_PER_PROVIDER);
    issues.push({
      path: ['providers'],
      atKey: true,
      message: `${names.length} providers (${RULES_PER_PROVIDER} rule priorities each) and ${local} rules for the router's own traffic take priorities ${cfg.rule_priority}–${last}, past the kernel's "${MAIN_RULE_PRIORITY}: lookup main"; from rule_priority ${cfg.rule_priority}, ${Math.max(0, fit)} providers fit`,
      hint: `lower rule_priority (it takes blocks of ${PRIORITY_BLOCK}: ${names.length} providers need ${span} priorities, e.g. rule_priority: ${Math.max(1, MAIN_RULE_PRIORITY - span - PRIORITY_BLOCK)}), list fewer destinations or ports in the local: true policies, or set local_traffic: main`,
    });
  }
  // Every provider needs a mark of its own (duplicates are reported above, not here), and a
  // group whose last resort is `unreachable` one more.
  const unreachable = Object.values(cfg.groups ?? {}).some((g) => g.last_resort === 'unreachable');
  const need = names.length + (unreachable ? 1 : 0);
  const free = partial ? Infinity : freeMarks(cfg.mark_mask, need);
  if (free < need) {
    issues.push({
      path: ['mark_mask'],
      message: `mark_mask ${hex(cfg.mark_mask)} leaves room for ${free} mark${free === 1 ? '' : 's'}, but ${names.length} provider${names.length === 1 ? '' : 's'}${unreachable ? ' and the "unreachable" last resort' : ''} need ${need}`,
      hint: `widen mark_mask (e.g. ${need < 0xff ? '0xff' : need < 0xfff ? '0xfff' : '0xffff'})`,
    });
  }
  return issues;
}

/** The status page stays on loopback unless a token guards it. */
function webIssues(cfg: Config): PathIssue[] {
  if (!cfg.web) return [];
  const issues: PathIssue[] = [];
  const h = cfg.web.listen.host;
  const loopback = h === 'localhost' || /^127\./.test(h) || h === '::1';
  if (!loopback && !cfg.web.allow_remote)
    issues.push({
      path: ['web', 'listen'],
      message: `${h} is not a loopback address: the status page and API would be open to the network`,
      hint: 'listen on 127.0.0.1 or [::1], or set allow_remote: true and token_file',
    });
  if (!loopback && cfg.web.allow_remote && !cfg.web.token_file)
    issues.push({
      path: ['web'],
      atKey: true,
      message: 'allow_remote needs token_file: every request but /metrics must carry its token',
      hint: "token_file: /etc/multihome/web.token (root's, not readable by others)",
    });
  if (cfg.web.protect_metrics && !cfg.web.token_file)
    issues.push({ path: ['web', 'protect_metrics'], message: 'protect_metrics needs token_file', hint: 'add token_file' });
  return issues;
}

/** Router advertisements: a routed delegated prefix to advertise, on a LAN interface. */
function raIssues(cfg: Config, uplinks: Map<string, string>): PathIssue[] {
  if (!cfg.ra) return [];
  const issues: PathIssue[] = [];
  const routed = Object.values(cfg.providers).some((p) => p.snat?.[6] === false && (p.delegated ?? []).some((d) => d.family === 6));
  if (!routed)
    issues.push({
      path: ['ra'],
      atKey: true,
      message: 'ra advertises the delegated prefixes of routed (not NATed) IPv6 uplinks, and no provider has one',
      hint: 'give a provider delegated: PREFIX and snat: { ipv6: false }, or remove ra',
    });
  const owner = uplinks.get(cfg.ra.interface);
  if (owner)
    issues.push({
      path: ['ra', 'interface'],
      message: `${cfg.ra.interface} is the uplink of provider "${owner}"`,
      hint: 'ra.interface is the LAN interface the hosts are on',
    });
  return issues;
}

function policyIssues(cfg: Config, targets: string[], uplinks: Map<string, string>): PathIssue[] {
  const issues: PathIssue[] = [];
  const policyNames = new Map<string, number>();
  cfg.policies.forEach((pol, i) => {
    if (!pol) return;
    const at = (...rest: (string | number)[]) => ['policies', i, ...rest];
    if (policyNames.has(pol.name)) {
      issues.push({
        path: at('name'),
        message: `policy name "${pol.name}" is already used by policy #${policyNames.get(pol.name)! + 1}`,
        hint: 'give each policy a unique name',
      });
    } else policyNames.set(pol.name, i);
    issues.push(...viaIssues(cfg, pol, targets, at), ...policyMatchIssues(cfg, pol, uplinks, at));
  });
  return issues;
}

type At = (...rest: (string | number)[]) => (string | number)[];

/** A policy's `via`: a provider or group that carries the families the policy names. */
function viaIssues(cfg: Config, pol: PolicyConfig, targets: string[], at: At): PathIssue[] {
  const issues: PathIssue[] = [];
  const provider = Object.hasOwn(cfg.providers, pol.via) || Object.hasOwn(cfg.groups ?? {}, pol.via) ? pol.via : undefined;
  if (!provider && !targets.includes(pol.via)) {
    issues.push({ path: at('via'), message: `via names unknown provider or group "${pol.via}"`, hint: unknownHint(pol.via, targets) });
  }
  const fams = policyFamilies(pol);
  if (fams.length === 0) {
    issues.push({
      path: at('match'),
      message: 'from and to have no address family in common, so the policy can never match',
      hint: 'list IPv4 and IPv6 prefixes in both, or split the policy',
    });
  } else if (provider) {
    // A family the policy names explicitly (by its prefixes) must be one the provider can carry.
    const has = providerFamilies(cfg, pol.via);
    const named = new Set([...(pol.match.from ?? []), ...(pol.match.to ?? [])].map((x) => x.family));
    const missing = fams.filter((f) => named.has(f) && !has.includes(f));
    if (missing.length > 0) {
      issues.push({
        path: at('via'),
        message: `the policy matches IPv${missing.join('/IPv')} prefixes but provider "${pol.via}" has no IPv${missing.join('/IPv')} gateway${Object.hasOwn(cfg.providers, pol.via) ? '' : ' on every member'}`,
        hint: `add an IPv${missing[0]} gateway to "${pol.via}", or move those prefixes to a policy via another provider`,
      });
    }
  }
  return issues;
}

/** A policy's match: ports need a port protocol, the router's own traffic has no source or input interface to match, uplinks are not LAN interfaces. */
function policyMatchIssues(cfg: Config, pol: PolicyConfig, uplinks: Map<string, string>, at: At): PathIssue[] {
  const issues: PathIssue[] = [];
  if ((pol.match.sport || pol.match.dport) && pol.match.protocol) {
    const bad = pol.match.protocol.filter((p) => !PORT_PROTOCOLS.has(p));
    if (bad.length > 0) {
      issues.push({
        path: at('match', 'protocol'),
        message: `ports are matched but protocol ${bad.join(', ')} has no ports`,
        hint: 'use tcp, udp, sctp or udplite with sport/dport, or drop the ports',
      });
    }
  }
  if (pol.match.local) {
    for (const key of ['from', 'iif'] as const) {
      if (pol.match[key])
        issues.push({
          path: at('match', key),
          atKey: true,
          message: `${key} cannot be matched for the router's own traffic (local: true): its source is chosen by the route`,
          hint:
            key === 'from'
              ? "a socket bound to a provider's address always leaves by that provider; drop from"
              : 'drop iif, or drop local: true to match forwarded traffic',
        });
    }
    if (cfg.local_traffic === 'main')
      issues.push({
        path: at('match', 'local'),
        message: "local_traffic: main leaves the router's own traffic to main, so this policy never applies",
        hint: 'set local_traffic: policies, or remove the policy',
      });
  }
  for (const [j, dev] of (pol.match.iif ?? []).entries()) {
    const owner = uplinks.get(dev);
    if (owner) {
      issues.push({
        path: at('match', 'iif', ...(pol.match.iif!.length > 1 ? [j] : [])),
        message: `${dev} is the uplink of provider "${owner}": connections arriving there always stay on "${owner}" so replies return the same way`,
        hint: 'match on the LAN side interface instead',
      });
    }
  }
  return issues;
}

export function lowestBit(mask: number): number {
  return (mask & -mask) >>> 0;
}

/** How many distinct non-zero marks fit in `mask` (capped at `need`, enough to decide). */
function freeMarks(mask: number, need: number): number {
  let count = 0;
  const low = lowestBit(mask);
  for (let k = 1; count <= need && k * low <= 0xffffffff && k < 1_000_000; k++) {
    if (((k * low) & ~mask) >>> 0 === 0) count++;
    else if (k * low > mask) break;
  }
  return count;
}

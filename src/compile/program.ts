// Config → multihome's packet program (src/state/program.ts): the marking
// program and SNAT as data. render-nft.ts writes it as the nft table; the
// simulator interprets the same data, so `explain` and the kernel never drift.
//
// The provider is chosen once per connection (first matching policy wins, else
// the default) and kept in the conntrack mark; later packets restore it, so a
// connection never changes uplink mid-way. Only the bits of mark_mask are
// touched, so other tools' marks survive.
import type { ResolvedConfig, ResolvedProvider } from '../config/assign.js';
import { providerFamilies } from '../config/families.js';
import { snatFor, type PolicyConfig } from '../config/schema.js';
import { familyBits, formatAddress, formatPrefix, minimalPrefixes, type Family, type Prefix } from '../net/ip.js';
import { PROTOCOLS } from '../net/ports.js';
import { PRIORITY, type Action, type AddrKey, type Chain, type Match, type NftSet, type Program, type ProgramRule } from '../state/program.js';
import { bucketMap } from './buckets.js';
import { activeMembers, allHealthy, type HealthView } from './groups.js';
import { FINGERPRINT_CHAIN } from '../ids.js';

const providerChain = (p: ResolvedProvider): string => `to_${p.name}`;
const groupChain = (name: string): string => `group_${name}`;
const UNREACHABLE_CHAIN = 'to_unreachable';

/** The chain a policy or the default jumps to: a provider's, or a group's. */
const targetChain = (cfg: ResolvedConfig, name: string): string =>
  Object.hasOwn(cfg.providers, name) ? providerChain(cfg.providers[name]!) : groupChain(name);

export const protoNumber = (name: string): number => (Object.hasOwn(PROTOCOLS, name) ? PROTOCOLS[name]! : Number(name));

/** A policy's prefixes of one family, minimal and as nft and ip print them; undefined when it lists none. */
export function prefixesOf(list: Prefix[] | undefined, family: Family): string[] | undefined {
  if (!list) return undefined;
  // A host is written as a bare address, as nft and ip print it.
  return minimalPrefixes(list.filter((p) => p.family === family)).map((p) => (p.length === familyBits(family) ? formatAddress(p) : formatPrefix(p)));
}

/** The match of one policy for one family (or for both when `family` is null). */
function policyMatch(pol: PolicyConfig, family: Family | null): Match {
  const m = pol.match;
  const out: Match = {};
  if (m.iif) out.iif = { values: m.iif };
  if (family !== null) {
    out.family = family;
    const from = prefixesOf(m.from, family);
    const to = prefixesOf(m.to, family);
    if (from) out.saddr = { values: from };
    if (to) out.daddr = { values: to };
  }
  // Ports without a protocol mean TCP or UDP.
  const protos = m.protocol ?? (m.sport || m.dport ? ['tcp', 'udp'] : undefined);
  if (protos) out.l4proto = { values: protos.map(protoNumber) };
  if (m.sport) out.sport = { values: m.sport };
  if (m.dport) out.dport = { values: m.dport };
  return out;
}

/** Families a policy's rule is written for: split per family only where addresses need it. */
function policyRuleFamilies(cfg: ResolvedConfig, pol: PolicyConfig): (Family | null)[] {
  const via = providerFamilies(cfg, pol.via);
  const { from, to } = pol.match;
  if (from || to) {
    const has = (list: Prefix[] | undefined, f: Family) => !list || list.some((x) => x.family === f);
    return ([4, 6] as Family[]).filter((f) => via.includes(f) && has(from, f) && has(to, f));
  }
  return via.length === 2 ? [null] : via;
}

/** A match restricted to the families a provider can carry (none needed when it carries both). */
const familiesOf = (cfg: ResolvedConfig, name: string): Match => {
  const fams = providerFamilies(cfg, name);
  return fams.length === 2 ? {} : { family: fams[0]! };
};

/** NPTv6 of a provider: its LAN prefix and the delegated prefix of the same length it becomes, or null. */
function nptOf(p: ResolvedProvider): { inside: Prefix; outside: Prefix } | null {
  const t = snatFor(p, 6);
  if (typeof t !== 'object' || !('npt' in t)) return null;
  const outside = (p.delegated ?? []).find((d) => d.family === 6 && d.length === t.npt.length);
  return outside ? { inside: t.npt, outside } : null;
}

/** The delegated prefixes a provider's LAN hosts use as they are (no NAT): the source says the uplink. */
export const routedPrefixes = (p: ResolvedProvider): Prefix[] => (snatFor(p, 6) === false ? (p.delegated ?? []).filter((d) => d.family === 6) : []);

function snatRules(p: ResolvedProvider): ProgramRule[] {
  const out: ProgramRule[] = [];
  for (const family of [4, 6] as Family[]) {
    if (!p.gateway[family]) continue;
    const target = snatFor(p, family);
    if (target === false) continue;
    const match: Match = { oif: { values: [p.interface] }, family };
    if (typeof target === 'object' && 'npt' in target) {
      const npt = nptOf(p);
      if (npt)
        out.push({
          match: { ...match, saddr: { values: [formatPrefix(npt.inside)] } },
          actions: [{ kind: 'prefix-nat', dir: 'snat', to: formatPrefix(npt.outside) }],
          comment: `nptv6 ${p.name}`,
        });
      continue;
    }
    const action: Action = target === 'masquerade' ? { kind: 'masquerade' } : { kind: 'snat', to: formatAddress(target) };
    out.push({ match, actions: [action], comment: `snat ${p.name}` });
  }
  return out;
}

/** NPTv6 inbound: the delegated prefix back to the LAN's, so hosts are reachable at their translated address. */
function dnatRules(p: ResolvedProvider): ProgramRule[] {
  const npt = nptOf(p);
  if (!npt) return [];
  return [
    {
      match: { iif: { values: [p.interface] }, family: 6, daddr: { values: [formatPrefix(npt.outside)] } },
      actions: [{ kind: 'prefix-nat', dir: 'dnat', to: formatPrefix(npt.inside) }],
      comment: `nptv6 ${p.name}`,
    },
  ];
}

/** The sticky memory of a group's member, per family (sticky_timeout). */
const stickySet = (group: string, member: string, family: Family): string => `sticky_${group}_${member}_${family}`;
/** Remembers the source (and destination) in the member's sticky set, then sends it to the member. */
const stickChain = (group: string, member: string): string => `stick_${group}_${member}`;

/**
 * A group's chains: its active members (groups.ts: the best-ranked tier), balanced by weight —
 * per connection at random, or by a hash of the source (and destination) over a minimal-move
 * bucket map (buckets.ts); with sticky_timeout, a source seen within the timeout goes back to the
 * member it had, while that member is active. With every member down, the last resort.
 */
function groupChains(cfg: ResolvedConfig, name: string, view: HealthView): { chains: Chain[]; sets: NftSet[] } {
  const group = cfg.groups[name]!;
  const up = activeMembers(cfg, name, view);
  const families = providerFamilies(cfg, name);
  const timeout = group.sticky !== 'connection' ? group.sticky_timeout : undefined;
  const keys: AddrKey[] = group.sticky === 'source_destination' ? ['saddr', 'daddr'] : ['saddr'];
  const members = [...new Set(group.tiers.flat().map((m) => m.name))];
  const sets: NftSet[] = [];
  const extra: Chain[] = [];
  if (timeout !== undefined) {
    for (const m of members) {
      for (const f of families) sets.push({ name: stickySet(name, m, f), family: f, keys, timeout });
      extra.push({
        name: stickChain(name, m),
        rules: [
          ...families.map((f): ProgramRule => ({ match: { family: f }, actions: [{ kind: 'remember', set: stickySet(name, m, f), keys }] })),
          { match: {}, actions: [{ kind: 'jump', chain: providerChain(cfg.providers[m]!) }] },
        ],
      });
    }
  }
  const target = (m: string) => (timeout !== undefined ? stickChain(name, m) : providerChain(cfg.providers[m]!));
  const rules: ProgramRule[] = [];
  if (up.length === 1) rules.push({ match: {}, actions: [{ kind: 'jump', chain: target(up[0]!.name) }] });
  else if (up.length > 1) {
    if (group.sticky === 'connection') {
      const entries = up.map((m) => ({ weight: m.weight, chain: target(m.name) }));
      rules.push({ match: {}, actions: [{ kind: 'balance', by: 'random', entries }], comment: 'balanced per connection' });
    } else {
      if (timeout !== undefined) {
        for (const m of up)
          for (const f of families)
            rules.push({
              match: { family: f, inSet: { keys, set: stickySet(name, m.name, f) } },
              actions: [{ kind: 'jump', chain: stickChain(name, m.name) }],
            });
      }
      const map = bucketMap(up).map(target);
      // entries in the order the buckets first name them, weighted by their share of buckets (as nft -j reads back)
      const entries = [...new Set(map)].map((chain) => ({ chain, weight: map.filter((c) => c === chain).length }));
      const by = group.sticky === 'source' ? 'source' : 'source-destination';
      const what = group.sticky === 'source' ? 'source address' : 'source and destination';
      for (const family of families) rules.push({ match: { family }, actions: [{ kind: 'balance', by, entries, map }], comment: `balanced per ${what}` });
    }
  } else if (group.last_resort === 'unreachable' && cfg.unreachableMark !== undefined) {
    rules.push({ match: {}, actions: [{ kind: 'jump', chain: UNREACHABLE_CHAIN }], comment: 'every member is down: unreachable' });
  } else rules.push({ match: {}, actions: [{ kind: 'accept' }], comment: "every member is down: main's default route" });
  return { chains: [{ name: groupChain(name), rules }, ...extra], sets };
}

/**
 * The output chain: the router's own packets. Replies on connections that have an uplink get its
 * mark back. New connections were already routed by the `iif lo` rules (local.ts), which chose
 * their uplink and, with it, their source address; stamping them with the uplink they leave by
 * gives them the same connection mark as forwarded ones (counters, conntrack deletion per
 * uplink). The mark routes them again, through the same uplink.
 */
function outputRules(cfg: ResolvedConfig, restore: Action): ProgramRule[] {
  const rules: ProgramRule[] = [{ match: {}, actions: [restore], comment: "the router's replies on connections that have an uplink" }];
  if (cfg.local_traffic === 'policies') {
    const providers = Object.values(cfg.providers);
    rules.push({
      match: { ctstate: { values: ['new'] } },
      actions: [{ kind: 'vmap', key: 'oif', entries: providers.map((p) => ({ key: p.interface, verdict: 'jump', chain: providerChain(p) })) }],
      comment: "the router's new connections keep the uplink they were routed to",
    });
  }
  return rules;
}

export function compileProgram(cfg: ResolvedConfig, view: HealthView = allHealthy): Program {
  const providers = Object.values(cfg.providers);
  const mask = cfg.mark_mask >>> 0;
  const keep = ~mask >>> 0;
  const restore: Action = {
    kind: 'vmap',
    key: 'ctmark',
    mask,
    entries: providers.map((p) => ({ key: p.mark, verdict: 'jump', chain: providerChain(p) })),
  };
  const pre: ProgramRule[] = [
    { match: {}, actions: [restore], comment: 'connection already has an uplink' },
    {
      match: {},
      actions: [{ kind: 'vmap', key: 'iif', entries: providers.map((p) => ({ key: p.interface, verdict: 'jump', chain: providerChain(p) })) }],
      comment: 'arrived on an uplink: replies leave the same way',
    },
    { match: { daddrType: { values: ['local', 'broadcast', 'multicast'] } }, actions: [{ kind: 'accept' }], comment: 'to the router itself' },
    { match: { ctstate: { values: ['new'], not: true } }, actions: [{ kind: 'accept' }], comment: 'only new connections choose an uplink' },
  ];
  // Prefix per uplink: a LAN source in a provider's delegated prefix can only leave by that provider
  // (no NAT can change it); the hosts move to the live prefix when the dead one is deprecated (ra).
  for (const p of providers) {
    const routed = minimalPrefixes(routedPrefixes(p)).map(formatPrefix);
    if (routed.length)
      pre.push({
        match: { family: 6, saddr: { values: routed } },
        actions: [{ kind: 'jump', chain: providerChain(p) }],
        comment: `from ${p.name}'s delegated prefix`,
      });
  }
  for (const pol of cfg.policies) {
    if (pol.match.local) continue; // the router's own traffic: routed by the iif lo rules (local.ts)
    for (const fam of policyRuleFamilies(cfg, pol)) {
      pre.push({
        match: policyMatch(pol, fam),
        actions: [{ kind: 'jump', chain: targetChain(cfg, pol.via) }],
        comment: `policy ${pol.name}`,
        origin: `policy ${pol.name}`,
      });
    }
  }
  pre.push({
    match: familiesOf(cfg, cfg.default),
    actions: [{ kind: 'jump', chain: targetChain(cfg, cfg.default) }],
    comment: 'default',
    origin: `default ${cfg.default}`,
  });

  const groups = Object.keys(cfg.groups ?? {}).map((name) => groupChains(cfg, name, view));
  const sets = groups.flatMap((g) => g.sets);
  const chains: Chain[] = [
    { name: 'prerouting', hook: 'prerouting', type: 'filter', priority: PRIORITY.mangle, families: [4, 6], policy: 'accept', rules: pre },
    {
      name: 'output',
      hook: 'output',
      type: 'route',
      priority: PRIORITY.mangle,
      families: [4, 6],
      policy: 'accept',
      rules: outputRules(cfg, restore),
    },
    ...providers.map((p): Chain => ({
      name: providerChain(p),
      rules: [
        // every packet of the provider's connections passes here (new ones and restored ones): bytes for
        // `status` and the metrics, by direction — arriving from the uplink (in) or not (out)
        { match: { iif: { values: [p.interface] } }, actions: [{ kind: 'noop', what: 'counter' }], comment: 'in' },
        { match: { iif: { values: [p.interface], not: true } }, actions: [{ kind: 'noop', what: 'counter' }], comment: 'out' },
        { match: {}, actions: [{ kind: 'mark', and: keep, xor: p.mark >>> 0 }] },
        { match: {}, actions: [{ kind: 'ctmark', and: keep, xor: p.mark >>> 0 }] },
        { match: {}, actions: [{ kind: 'accept' }] },
      ],
    })),
    ...groups.flatMap((g) => g.chains),
    ...(cfg.unreachableMark !== undefined
      ? [
          {
            name: UNREACHABLE_CHAIN,
            rules: [
              { match: {}, actions: [{ kind: 'mark', and: keep, xor: cfg.unreachableMark >>> 0 }] },
              { match: {}, actions: [{ kind: 'ctmark', and: keep, xor: cfg.unreachableMark >>> 0 }] },
              { match: {}, actions: [{ kind: 'accept' }] },
            ],
          } satisfies Chain,
        ]
      : []),
    ...(providers.some((p) => nptOf(p))
      ? [
          {
            name: 'prerouting_nat',
            hook: 'prerouting',
            type: 'nat',
            priority: PRIORITY.dstnat,
            families: [4, 6],
            policy: 'accept',
            rules: providers.flatMap(dnatRules),
          } satisfies Chain,
        ]
      : []),
    {
      name: 'postrouting',
      hook: 'postrouting',
      type: 'nat',
      priority: PRIORITY.srcnat,
      families: [4, 6],
      policy: 'accept',
      rules: providers.flatMap(snatRules),
    },
  ];
  return sets.length > 0 ? { chains, sets } : { chains };
}

/** The chain that carries the fingerprint where `nft -j` shows it (a rule comment). */
export const fingerprintChain = (comment: string): Chain => ({ name: FINGERPRINT_CHAIN, rules: [{ match: {}, actions: [{ kind: 'return' }], comment }] });

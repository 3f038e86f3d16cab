// Plan = the difference between the desired state and the part of the current
// state that multihome owns. Pure. Foreign objects are never in a plan; those
// that sit where multihome works are reported as warnings.
import { compareRoutes, compareRules, routeArgs, routeKey, routeText, ruleKey, ruleText } from '../state/format.js';
import type { NftState, RouteState, RuleState, State } from '../state/types.js';
import { ownedRoutes, ownedRules, type Ownership } from './ownership.js';

export type { Ownership } from './ownership.js';

const inRange = (pref: number, r: [number, number]) => pref >= r[0] && pref <= r[1];

interface SysctlChange {
  key: string;
  from: string | undefined;
  to: string;
}

type NftAction =
  | { action: 'none' }
  | { action: 'create'; to: NftState }
  | { action: 'replace'; reason: string; from: NftState; to: NftState }
  | { action: 'delete'; from: NftState };

export interface Plan {
  sysctls: SysctlChange[];
  routes: { add: RouteState[]; replace: { from: RouteState; to: RouteState }[]; del: RouteState[] };
  rules: { add: RuleState[]; del: RuleState[] };
  nft: NftAction;
  warnings: string[];
  /** what makes the plan impossible to apply as it is (a foreign route where multihome's must go) */
  conflicts: { table: number; message: string }[];
}

export interface NftRecord {
  /** fingerprint → digest of the table as the kernel held it right after multihome loaded it */
  fingerprint: string;
  digest: string;
  /** the script that was loaded, so the next plan can show a diff */
  script?: string;
  /** what multihome owned when it applied, so `down` finds it without a config */
  ownership?: Ownership;
}

/** Route equality for planning: what `ip route` lets us set (kernel-kept flags such as linkdown aside). */
function sameRoute(a: RouteState, b: RouteState): boolean {
  const norm = (r: RouteState) =>
    JSON.stringify({
      // the tag too: a route of an earlier route_protocol is replaced with the current one
      protocol: r.protocol,
      type: r.type,
      scope: r.scope,
      prefsrc: r.prefsrc,
      gateway: r.gateway,
      dev: r.dev,
      onlink: r.flags.includes('onlink'),
      nexthops: r.nexthops?.map((n) => ({ gateway: n.gateway, dev: n.dev, weight: n.weight, onlink: n.flags.includes('onlink') })),
    });
  return norm(a) === norm(b);
}

function planNft(desired: NftState | null, current: NftState | null, record: NftRecord | undefined): NftAction {
  if (!desired) return current ? { action: 'delete', from: current } : { action: 'none' };
  if (!current) return { action: 'create', to: desired };
  const outside = { action: 'replace' as const, reason: 'the table was modified outside multihome', from: current, to: desired };
  if (current.fingerprint !== desired.fingerprint) {
    // The table does not carry this config's fingerprint: either the config changed, or
    // someone edited the table after multihome loaded exactly this config.
    return record?.fingerprint === desired.fingerprint ? outside : { action: 'replace', reason: 'the config changed', from: current, to: desired };
  }
  if (record && record.fingerprint === current.fingerprint && record.digest !== current.digest) return outside;
  return { action: 'none' };
}

export function plan(desired: State, current: State, own: Ownership, nftRecord?: NftRecord): Plan {
  const warnings: string[] = [];

  const sysctls: SysctlChange[] = [];
  for (const [key, to] of Object.entries(desired.sysctls)) {
    const from = current.sysctls[key];
    if (from !== to) sysctls.push({ key, from, to });
  }

  const have = new Map(ownedRoutes(current, own).map((r) => [routeKey(r), r]));
  const conflicts: Plan['conflicts'] = [];
  const isCopy = (r: RouteState) => own.copyProtocol !== undefined && r.protocol === own.copyProtocol;
  const want = new Map(desired.routes.filter((r) => !isCopy(r)).map((r) => [routeKey(r), r]));
  const routes: Plan['routes'] = { add: [], replace: [], del: [] };
  for (const [k, r] of want) {
    const cur = have.get(k);
    if (!cur) routes.add.push(r);
    else if (!sameRoute(cur, r)) routes.replace.push({ from: cur, to: r });
  }
  for (const [k, r] of have) if (!want.has(k)) routes.del.push(r);
  const wantTables = new Set(desired.routes.map((r) => r.table));
  for (const r of current.routes) {
    if (have.has(routeKey(r)) || !wantTables.has(r.table) || isCopy(r)) continue;
    // The kernel refuses a second route with the same key ("File exists"): say so before changing anything.
    const mine = want.get(routeKey(r));
    if (mine)
      conflicts.push({
        table: r.table,
        message: `${routeText(r)} (proto ${r.protocol}) is not multihome's, and multihome's ${routeText(mine).replace(/^table [^:]+: /, '')} has the same destination and metric: the kernel would refuse it ("File exists"). Remove it (ip -${r.family} route del ${routeArgs(r, true).join(' ')}), or give the provider another table id.`,
      });
    else warnings.push(`${routeText(r)} is not multihome's (proto ${r.protocol}); it stays. Remove it, or give the provider another table id.`);
  }

  const owned = ownedRules(current, own);
  const haveRules = new Map(owned.map((r) => [ruleKey(r), r]));
  const wantRules = new Map(desired.rules.map((r) => [ruleKey(r), r]));
  const rules: Plan['rules'] = {
    add: [...wantRules].filter(([k]) => !haveRules.has(k)).map(([, r]) => r),
    del: [...haveRules].filter(([k]) => !wantRules.has(k)).map(([, r]) => r),
  };
  for (const r of current.rules) {
    if (!owned.includes(r) && inRange(r.pref, own.prefs)) {
      warnings.push(
        `rule ${ruleText(r)} (IPv${r.family}) sits in multihome's priority range ${own.prefs[0]}-${own.prefs[1]} but is not multihome's; it stays.`,
      );
    }
  }

  routes.add.sort(compareRoutes);
  routes.del.sort(compareRoutes);
  rules.add.sort(compareRules);
  rules.del.sort(compareRules);
  return { sysctls, routes, rules, nft: planNft(desired.nft, current.nft, nftRecord), warnings, conflicts };
}

export function isEmpty(p: Plan): boolean {
  return (
    p.sysctls.length === 0 &&
    p.routes.add.length + p.routes.replace.length + p.routes.del.length === 0 &&
    p.rules.add.length + p.rules.del.length === 0 &&
    p.nft.action === 'none'
  );
}

export function counts(p: Plan): { add: number; change: number; remove: number } {
  const nftAdd = p.nft.action === 'create' ? 1 : 0;
  const nftChange = p.nft.action === 'replace' ? 1 : 0;
  const nftDel = p.nft.action === 'delete' ? 1 : 0;
  return {
    add: p.routes.add.length + p.rules.add.length + nftAdd,
    change: p.routes.replace.length + p.sysctls.length + nftChange,
    remove: p.routes.del.length + p.rules.del.length + nftDel,
  };
}

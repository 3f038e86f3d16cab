// What multihome owns in the kernel, and how it recognises it: an object is
// multihome's by its tag AND its place (a rule: protocol tag and a priority in
// the range; a route: protocol tag and one of the tables). Pure.
//
// Ownership is always the union of what the config asks for now, what the last
// successful apply recorded, and what an interrupted apply journalled, so that
// nothing multihome ever created can become nobody's (a crash after moving
// `rule_priority`, a provider dropped from the config).
import * as z from 'zod';
import type { ResolvedConfig } from '../config/assign.js';
import { DEFAULTS, DEFAULT_COPY_PROTOCOL, MAX_RULE_PRIORITY } from '../config/schema.js';
import { RESERVED_TABLES } from '../config/semantic.js';
import { MAIN_RULE_PRIORITY, prioritySpan } from '../config/priorities.js';
import { RT_PROTOCOLS } from '../ids.js';
import type { RouteState, RuleState, State } from '../state/types.js';

/** One range multihome owned: its tag, its rule priorities and its tables. */
export interface OwnedRange {
  protocol: number;
  prefs: [number, number];
  tables: number[];
}

export interface Ownership extends OwnedRange {
  /** provider tables that copy main: their routes carrying `copyProtocol` are the route
   *  copier's (src/routecopy/), neither planned here nor reported as foreign */
  copyTables?: number[];
  copyProtocol?: number;
  /** what earlier applies owned: the last successful one (its record), an interrupted one (its journal) */
  previous?: OwnedRange[];
}

const inRange = (pref: number, r: [number, number]) => pref >= r[0] && pref <= r[1];
const MAIN_TABLES = new Set([253, 254, 255]);

const ranges = (o: Ownership): OwnedRange[] => [o, ...(o.previous ?? [])];

export const ownershipOf = (
  cfg: Pick<ResolvedConfig, 'route_protocol' | 'rule_priority' | 'providers'> & Partial<Pick<ResolvedConfig, 'copy' | 'policies' | 'local_traffic'>>,
): Ownership => ({
  protocol: cfg.route_protocol,
  prefs: [
    cfg.rule_priority,
    cfg.rule_priority + prioritySpan({ providers: cfg.providers, policies: cfg.policies ?? [], local_traffic: cfg.local_traffic ?? 'policies' }) - 1,
  ],
  tables: Object.values(cfg.providers).map((p) => p.table),
  copyTables: Object.values(cfg.providers)
    .filter((p) => p.routes === 'copy')
    .map((p) => p.table),
  copyProtocol: cfg.copy?.protocol ?? DEFAULT_COPY_PROTOCOL,
});

export const DEFAULT_OWNERSHIP: Ownership = ownershipOf({ route_protocol: DEFAULTS.route_protocol, rule_priority: DEFAULTS.rule_priority, providers: {} });

/** `own` plus the ranges of `others` (records, journals) that it does not already cover. */
export function withPrevious(own: Ownership, ...others: (Ownership | undefined)[]): Ownership {
  const prev: OwnedRange[] = [...(own.previous ?? [])];
  const key = (r: OwnedRange) => `${r.protocol}|${r.prefs.join('-')}|${[...r.tables].sort((a, b) => a - b).join(',')}`;
  const seen = new Set([key(own), ...prev.map(key)]);
  for (const o of others) {
    if (!o) continue;
    for (const r of ranges(o)) {
      const k = key(r);
      if (seen.has(k)) continue;
      seen.add(k);
      prev.push({ protocol: r.protocol, prefs: r.prefs, tables: r.tables });
    }
  }
  const copyTables = [...new Set([...(own.copyTables ?? []), ...others.flatMap((o) => o?.copyTables ?? [])])];
  return { ...own, ...(copyTables.length ? { copyTables } : {}), ...(prev.length ? { previous: prev } : {}) };
}

/** The ownership to record after a successful apply: only what this config owns (the old ranges are empty now). */
export function withoutPrevious(own: Ownership): Ownership {
  const { previous: _p, ...rest } = own;
  return rest;
}

/**
 * Current rules multihome owns: its protocol tag AND its priority range (now or
 * earlier), so a rule that merely shares the tag is never touched.
 */
export const ownedRules = (s: State, o: Ownership): RuleState[] =>
  s.rules.filter((r) => ranges(o).some((g) => r.protocol === g.protocol && inRange(r.pref, g.prefs)));

/** Tables multihome owns, per tag: the providers' (now and earlier) and any its own rules look up. */
function ownedTablesByProtocol(s: State, o: Ownership): Map<number, Set<number>> {
  const out = new Map<number, Set<number>>();
  const add = (protocol: number, t: number) => {
    if (!out.has(protocol)) out.set(protocol, new Set());
    out.get(protocol)!.add(t);
  };
  for (const g of ranges(o)) for (const t of g.tables) add(g.protocol, t);
  for (const r of ownedRules(s, o)) if (r.action === 'lookup' && r.table !== undefined && !MAIN_TABLES.has(r.table)) add(r.protocol, r.table);
  return out;
}

/** Current routes multihome owns: its protocol tag AND one of its tables of that tag. */
export function ownedRoutes(s: State, o: Ownership): RouteState[] {
  const tables = ownedTablesByProtocol(s, o);
  return s.routes.filter((r) => tables.get(r.protocol)?.has(r.table) === true);
}

// ---- records from the state dir: only what multihome could own is taken from them

const reservedProtocols = new Set(Object.values(RT_PROTOCOLS));
/** An rtnetlink protocol other software does not use (the config refuses those too). */
const tag = z
  .number()
  .int()
  .min(1)
  .max(255)
  .refine((p) => !reservedProtocols.has(p), { error: 'a protocol other software uses' });
const table = z
  .number()
  .int()
  .min(1)
  .max(0xffffffff)
  .refine((t) => !Object.hasOwn(RESERVED_TABLES, t), { error: "one of the kernel's own tables" });
const prefs = z
  .tuple([
    z.number().int().min(1).max(MAX_RULE_PRIORITY),
    z
      .number()
      .int()
      .min(1)
      .max(MAIN_RULE_PRIORITY - 1),
  ])
  .refine(([a, b]) => b >= a, { error: 'a range that ends before it starts' });

const OwnedRangeSchema = z.strictObject({ protocol: tag, prefs, tables: z.array(table).max(10_000) });
export const OwnershipSchema = z.strictObject({
  protocol: tag,
  prefs,
  tables: z.array(table).max(10_000),
  copyTables: z.array(table).max(10_000).optional(),
  copyProtocol: tag.optional(),
  previous: z.array(OwnedRangeSchema).max(100).optional(),
});

// What the ip text and ip JSON importers share. The text parsers build the
// object `ip -json` would have printed for a line, and both hand it to
// from-ip-json.ts, so a text dump and a JSON dump normalise identically.
// `prepare*` fills the gaps of from-ip-json.ts for pasted dumps: names from
// iproute2's default files (tos "CS1", suppress_ifgroup "default", ipproto
// "ospf") and custom table names from rt_tables.
import type { Family } from '../../net/ip.js';
import { DumpError, routeFromJson, ruleFromJson } from '../from-ip-json.js';
import { TABLE_IDS, type RouteState, type RuleState } from '../types.js';
import { dsfield, familyOfAddress, protocolNumber } from './common.js';

export type J = Record<string, unknown>;

/** Table names → ids, as /etc/iproute2/rt_tables maps them. */
export type TableNames = Record<string, number>;

/** Thrown by prepare*; the caller adds the place. */
export class FieldError extends Error {}

/** The words of one `ip` text line, read left to right; `at` is the one being read. */
export class Words {
  at = 0;
  constructor(readonly list: string[]) {}

  /** The word after keyword `w` (its value); reading goes on after it. */
  value(w: string): string {
    const v = this.list[++this.at];
    if (v === undefined) throw new FieldError(`"${w}" without a value`);
    return v;
  }
}

function tableValue(v: unknown, names: TableNames | undefined): unknown {
  if (typeof v !== 'string' || Object.hasOwn(TABLE_IDS, v) || /^\d+$/.test(v)) return v;
  if (names && Object.hasOwn(names, v)) return names[v];
  throw new FieldError(`unknown table name "${v}": give /etc/iproute2/rt_tables too, or dump with ip -N`);
}

function tosValue(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const n = dsfield(v);
  if (n === null) throw new FieldError(`unknown tos/dsfield "${v}"`);
  return n;
}

/** A rule object as `ip -j rule show` prints it → the same with names resolved. */
function prepareRuleJson(o: J, names?: TableNames): J {
  const r: J = { ...o };
  if (r.tos !== undefined) r.tos = tosValue(r.tos);
  if (r.dsfield !== undefined) r.dsfield = tosValue(r.dsfield);
  if (r.table !== undefined) r.table = tableValue(r.table, names);
  if (typeof r.ipproto === 'string') {
    const n = protocolNumber(r.ipproto);
    if (n === null) throw new FieldError(`unknown ipproto "${r.ipproto}"`);
    r.ipproto = n;
  }
  if (r.suppress_ifgroup === 'default') r.suppress_ifgroup = 0;
  if ('l3mdev' in r) throw new FieldError('l3mdev rules (lookup [l3mdev-table]) are not supported');
  return r;
}

/** A route object as `ip -j route show` prints it → the same with names and hidden defaults resolved. */
function prepareRouteJson(o: J, names?: TableNames): J {
  const r: J = { ...o };
  if (r.tos !== undefined) r.tos = tosValue(r.tos);
  if (r.table !== undefined) r.table = tableValue(r.table, names);
  // Without -d, ip hides the protocol when it is "boot" (what `ip route add` sets).
  if (r.protocol === undefined) r.protocol = 'boot';
  if (r.from !== undefined) throw new FieldError('source-specific routes ("from PREFIX") are not supported');
  if (r.encap !== undefined) throw new FieldError('routes with encap are not supported');
  return r;
}

const addressFamily = (v: unknown): Family | null => (typeof v === 'string' && v !== 'all' && v !== 'default' ? familyOfAddress(v.split('/')[0]!) : null);

/** The family a rule object shows by its addresses; null when it has none. */
const ruleObjectFamily = (o: J): Family | null => addressFamily(o.src) ?? addressFamily(o.dst);

/** The family a route object shows: its addresses, or `pref`, which only IPv6 routes print. */
export function routeObjectFamily(o: J): Family | null {
  const via = o.via as J | undefined;
  const nhs = Array.isArray(o.nexthops) ? (o.nexthops as J[]) : [];
  for (const v of [o.dst, o.gateway, via?.host, o.prefsrc, ...nhs.map((n) => n.gateway ?? (n.via as J | undefined)?.host)]) {
    const f = addressFamily(v);
    if (f) return f;
  }
  return o.pref !== undefined ? 6 : null;
}

const isTable = (o: J, name: string, id: number) => o.table === name || o.table === String(id) || o.table === id;
const isDefaultRule = (o: J, pref: number, name: string, id: number) =>
  Number(o.priority ?? 0) === pref &&
  isTable(o, name, id) &&
  o.src === 'all' &&
  o.dst === undefined &&
  o.fwmark === undefined &&
  o.iif === undefined &&
  o.oif === undefined;

/**
 * Families for a run of rule objects in dump order. One `ip rule show` is
 * one family, printed by ascending pref; a drop in pref starts the next dump
 * (`ip rule; ip -6 rule` pasted together). A rule with addresses has their
 * family; a dump's other rules take the family most of its addresses have.
 * A dump without any: IPv4 if it has IPv4's own `32767: lookup default`; IPv6
 * if it follows an IPv4 dump; else `hint` (a file name's "-6"); else IPv6 if
 * it is a whole dump (`0: lookup local` … `32766: lookup main`) without the
 * IPv4-only 32767 rule; else IPv4.
 */
export function ruleFamilies(objs: J[], fixed: Family | undefined, hint?: Family): Family[] {
  if (fixed) return objs.map(() => fixed);
  const out: Family[] = [];
  let start = 0;
  let prev: Family | null = null;
  const prio = (o: J) => Number(o.priority ?? 0);
  for (let i = 1; i <= objs.length; i++) {
    if (i < objs.length && prio(objs[i]!) >= prio(objs[i - 1]!)) continue;
    const section = objs.slice(start, i);
    const seen = section.map(ruleObjectFamily);
    const known = seen.filter((f): f is Family => f !== null);
    let fam: Family;
    if (known.length) fam = known.filter((f) => f === 4).length >= known.filter((f) => f === 6).length ? 4 : 6;
    else if (section.some((o) => isDefaultRule(o, 32767, 'default', 253))) fam = 4;
    else if (prev === 4) fam = 6;
    else if (hint) fam = hint;
    else if (section.some((o) => isDefaultRule(o, 0, 'local', 255)) && section.some((o) => isDefaultRule(o, 32766, 'main', 254))) fam = 6;
    else fam = 4;
    seen.forEach((f) => out.push(f ?? fam));
    prev = fam;
    start = i;
  }
  return out;
}

/** ruleFromJson/routeFromJson with their DumpError (and ours) turned into a message. */
export function toRule(o: J, family: Family, names?: TableNames): RuleState {
  return wrap(() => ruleFromJson(prepareRuleJson(o, names), family));
}

export function toRoute(o: J, family: Family, table: number | undefined, names?: TableNames): RouteState {
  return wrap(() => routeFromJson(prepareRouteJson(o, names), family, table));
}

function wrap<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof DumpError || e instanceof FieldError) throw new FieldError(e.message);
    throw e;
  }
}

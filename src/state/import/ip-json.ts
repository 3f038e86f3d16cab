// `ip -json` output (-j, with or without -d, -N, -p) of rule show, route show,
// addr show and link show → rules, routes, links, through from-ip-json.ts.
// Several outputs may be pasted one after another, and one array may mix
// families: an element's family comes from its addresses; rules without any
// take that of their dump (see ruleFamilies).
import type { Family } from '../../net/ip.js';
import { DumpError, linkFromJson } from '../from-ip-json.js';
import type { LinkState, RouteState, RuleState } from '../types.js';
import { ImportError, lineOf, sourceOf } from './errors.js';
import { FieldError, routeObjectFamily, ruleFamilies, toRoute, toRule, type J } from './ip-common.js';
import type { IpRouteTextOptions } from './ip-route-text.js';
import { JsonScanError, scanJson, type JsonItem } from './json-stream.js';

export interface IpJsonResult {
  rules: RuleState[];
  routes: RouteState[];
  links: LinkState[];
}

export type IpJsonKind = 'rule' | 'route' | 'link';

/** What one element of an `ip -j` array is. */
export function ipJsonKind(o: unknown): IpJsonKind | null {
  if (!o || typeof o !== 'object' || Array.isArray(o)) return null;
  const j = o as J;
  if ('priority' in j && ('src' in j || 'table' in j || 'action' in j || 'goto' in j || 'nop' in j)) return 'rule';
  if (typeof j.dst === 'string') return 'route';
  if (typeof j.ifname === 'string' && 'ifindex' in j) return 'link';
  return null;
}

/** `ip -j addr show` and `ip -j link show` of the same links: one entry per link, addresses from whichever has them. */
export function mergeLinks(list: LinkState[]): LinkState[] {
  const byName = new Map<string, LinkState>();
  for (const l of list) {
    const had = byName.get(l.name);
    if (!had) byName.set(l.name, { ...l, addresses: [...l.addresses] });
    else {
      for (const a of l.addresses) {
        if (!had.addresses.some((b) => b.family === a.family && b.address === a.address && b.prefixlen === a.prefixlen)) had.addresses.push(a);
      }
      if (had.group === undefined && l.group !== undefined) had.group = l.group;
    }
  }
  return [...byName.values()].sort((a, b) => a.index - b.index || a.name.localeCompare(b.name));
}

export function parseIpJson(text: string, opts: IpRouteTextOptions = {}): IpJsonResult {
  const src = sourceOf(opts);
  let items: JsonItem[];
  try {
    items = scanJson(text);
  } catch (e) {
    if (e instanceof JsonScanError) throw new ImportError(src, lineOf(opts, e.index), text.split(/\r?\n/)[e.index] ?? '', e.message);
    throw e;
  }
  const fail = (it: JsonItem, reason: string) => new ImportError(src, lineOf(opts, it.index), it.text, reason);
  const out: IpJsonResult = { rules: [], routes: [], links: [] };
  const ruleItems: JsonItem[] = [];
  for (const it of items) {
    const kind = ipJsonKind(it.value);
    if (!kind) throw fail(it, 'not an `ip -json` rule, route, address or link object');
    try {
      if (kind === 'rule') ruleItems.push(it);
      else if (kind === 'route') {
        const o = it.value as J;
        // a cached clone (`ip route show cache`) is not configuration
        if (Array.isArray(o.flags) && o.flags.includes('cache')) continue;
        const fam: Family = routeObjectFamily(o) ?? opts.family ?? opts.familyHint ?? 4;
        out.routes.push(toRoute(o, fam, opts.table, opts.tableNames));
      } else out.links.push(linkFromJson(it.value as J));
    } catch (e) {
      if (e instanceof FieldError || e instanceof DumpError) throw fail(it, e.message);
      throw e;
    }
  }
  // rule families per pasted array (one array = one `ip -j rule` run), split further where pref drops
  const groups = new Map<number, JsonItem[]>();
  for (const it of ruleItems) groups.set(it.group, [...(groups.get(it.group) ?? []), it]);
  let prevFamily: Family | undefined;
  for (const list of groups.values()) {
    const objs = list.map((it) => it.value as J);
    const fams = ruleFamilies(objs, opts.family, prevFamily === 4 ? 6 : opts.familyHint);
    list.forEach((it, i) => {
      try {
        out.rules.push(toRule(objs[i]!, fams[i]!, opts.tableNames));
      } catch (e) {
        if (e instanceof FieldError) throw fail(it, e.message);
        throw e;
      }
    });
    prevFamily = fams[fams.length - 1];
  }
  out.links = mergeLinks(out.links);
  return out;
}

// `nft -j list ruleset` (or `list table …`) → Program. Chains are named
// "family/table/chain" ("inet/multihome/prerouting"); base chains keep their
// hook, type, priority, policy and the families they see (ip → [4], ip6 →
// [6], inet → [4, 6]). Named sets and maps are resolved into the rules that
// use them. Tables of the arp, bridge and netdev families are kept as chains
// without a hook, their rules marked unsupported.
import type { Family } from '../../net/ip.js';
import { PRIORITY, type Chain, type Hook, type NftSet, type Program } from '../program.js';
import { ImportError, lineOf, sourceOf, type Place } from './errors.js';
import { JsonScanError, scanJson } from './json-stream.js';
import { nftRule } from './nft-rule.js';
import { kindOf, type SetElements } from './nft-values.js';

type J = Record<string, unknown>;

const HOOKS = new Set<Hook>(['prerouting', 'input', 'forward', 'output', 'postrouting']);
const FAMILIES: Record<string, Family[]> = { ip: [4], ip6: [6], inet: [4, 6] };

/** The `nftables` list of a parsed document, or null when it is not `nft -j` output. */
export function nftItems(doc: unknown): unknown[] | null {
  if (doc && typeof doc === 'object' && !Array.isArray(doc) && Array.isArray((doc as J).nftables)) return (doc as J).nftables as unknown[];
  return null;
}

function priority(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const m = /^([a-z]+)\s*(?:([+-])\s*(\d+))?$/.exec(v.trim());
    if (m && Object.hasOwn(PRIORITY, m[1]!)) return PRIORITY[m[1] as keyof typeof PRIORITY] + (m[2] ? (m[2] === '-' ? -1 : 1) * Number(m[3]) : 0);
    if (/^-?\d+$/.test(v)) return Number(v);
  }
  return undefined;
}

export function parseNftJson(text: string, opts: Place = {}): Program {
  const src = sourceOf(opts);
  let docs;
  try {
    docs = scanJson(text);
  } catch (e) {
    if (e instanceof JsonScanError) throw new ImportError(src, lineOf(opts, e.index), text.split(/\r?\n/)[e.index] ?? '', e.message);
    throw e;
  }
  const chains: Chain[] = [];
  const byName = new Map<string, Chain>();
  const sets = new Map<string, SetElements>(); // per "family/table"
  const dynamic = new Map<string, Set<string>>(); // dynamic sets per "family/table"
  const programSets: NftSet[] = [];
  const items: { it: unknown; index: number }[] = [];
  for (const d of docs) {
    const list = nftItems(d.value);
    if (!list) throw new ImportError(src, lineOf(opts, d.index), d.text, 'not `nft -j list ruleset` output (no "nftables" list)');
    for (const it of list) items.push({ it, index: d.index });
  }
  const tableKey = (o: J) => `${String(o.family)}/${String(o.table)}`;
  const setsOf = (key: string) => {
    let s = sets.get(key);
    if (!s) sets.set(key, (s = new Map<string, unknown[]>()));
    return s;
  };
  const fail = (index: number, o: unknown, reason: string) => new ImportError(src, lineOf(opts, index), JSON.stringify(o), reason);

  // sets, maps and chains first: rules refer to them
  for (const { it, index } of items) {
    const k = kindOf(it);
    const o = (k ? (it as J)[k] : undefined) as J | undefined;
    if (k === 'set' || k === 'map') {
      setsOf(tableKey(o!)).set(String(o!.name), Array.isArray(o!.elem) ? (o!.elem as unknown[]) : []);
      // a set of addresses with a timeout is memory the rules fill (`update @s`), not a fixed list
      const flags = Array.isArray(o!.flags) ? (o!.flags as unknown[]) : [];
      const types = Array.isArray(o!.type) ? (o!.type as unknown[]) : [o!.type];
      if (
        k === 'set' &&
        (flags.includes('timeout') || flags.includes('dynamic')) &&
        types.every((t) => t === types[0]) &&
        (types[0] === 'ipv4_addr' || types[0] === 'ipv6_addr') &&
        types.length <= 2
      ) {
        let d = dynamic.get(tableKey(o!));
        if (!d) dynamic.set(tableKey(o!), (d = new Set()));
        d.add(String(o!.name));
        programSets.push({
          name: `${tableKey(o!)}/${String(o!.name)}`,
          family: types[0] === 'ipv4_addr' ? 4 : 6,
          keys: types.length === 2 ? ['saddr', 'daddr'] : ['saddr'],
          timeout: typeof o!.timeout === 'number' ? o!.timeout * 1000 : 0,
        });
      }
    } else if (k === 'chain') {
      if (typeof o!.name !== 'string' || typeof o!.table !== 'string' || typeof o!.family !== 'string')
        throw fail(index, it, 'a chain without family, table or name');
      const name = `${tableKey(o!)}/${o!.name}`;
      if (byName.has(name)) throw fail(index, it, `chain ${name} appears twice`);
      const chain: Chain = { name, rules: [] };
      const fams = FAMILIES[o!.family];
      if (typeof o!.hook === 'string' && HOOKS.has(o!.hook as Hook) && fams) {
        chain.hook = o!.hook as Hook;
        if (o!.type === 'filter' || o!.type === 'nat' || o!.type === 'route') chain.type = o!.type;
        const p = priority(o!.prio);
        if (p !== undefined) chain.priority = p;
        chain.families = fams;
      }
      if (o!.policy === 'accept' || o!.policy === 'drop') chain.policy = o!.policy;
      delete (chain as Partial<Chain>).rules; // rules last, as compile writes chains
      chain.rules = [];
      byName.set(name, chain);
      chains.push(chain);
    }
  }
  for (const { it, index } of items) {
    if (kindOf(it) !== 'rule') continue;
    const r = (it as J).rule as J;
    const table = tableKey(r);
    const chain = byName.get(`${table}/${String(r.chain)}`);
    if (!chain) throw fail(index, it, `a rule of chain ${table}/${String(r.chain)}, which the dump does not list`);
    if (!Array.isArray(r.expr)) throw fail(index, it, 'a rule without "expr"');
    const rule = nftRule(r.expr, {
      tableFamily: String(r.family),
      chainName: (n) => `${table}/${n}`,
      sets: setsOf(table),
      dynamicSets: dynamic.get(table) ?? new Set(),
    });
    if (!FAMILIES[String(r.family)]) rule.unsupported = [`table family ${String(r.family)} is not modelled`, rule.unsupported].filter(Boolean).join('; ');
    chain.rules.push({
      ...rule,
      ...(typeof r.comment === 'string' ? { comment: r.comment } : {}),
      origin: `${chain.name} handle ${String(r.handle)}`,
    });
  }
  return programSets.length > 0 ? { chains, sets: programSets } : { chains };
}

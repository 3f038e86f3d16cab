// IPv4 before any rule has ever been added or deleted in the namespace
// (net->ipv4.fib_has_custom_rules false, kernel-flags.ts): include/net/ip_fib.h
// fib_lookup does not walk the rules. It looks up table main — which then
// holds table local's routes too, one trie (fib_trie.c; fib_unmerge splits
// them on the first rule change), so the longest prefix of either wins and at
// one prefix table local's routes come first — and then table default. A
// local address is reported from table main (`ip route get` says table 254).
import { tableName } from '../state/format.js';
import type { RuleState } from '../state/types.js';
import type { FibResult } from './fib.js';
import { TableIndex } from './table-index.js';
import { tableLookup, type Flow } from './table-lookup.js';
import type { TraceStep } from './types.js';
import type { World } from './world.js';

const MERGED = new WeakMap<World, TableIndex>();

/** Tables local and main as the one trie they are (made when first needed: it copies main's index). */
function mergedIndex(w: World): TableIndex {
  let idx = MERGED.get(w);
  if (!idx) {
    idx = new TableIndex(4);
    for (const r of w.routes) if (r.family === 4 && (r.table === 255 || r.table === 254)) idx.add(r);
    idx.build();
    MERGED.set(w, idx);
  }
  return idx;
}

const UNKNOWN =
  'no rule has been added or deleted since boot, assumed: a dump cannot show it; if one has, the kernel keeps tables local and main apart and reports a local address from table local';

/** fib_lookup without custom rules: merged main, then default. `w.rules[4]` are the three default rules. */
export function mergedLookup(w: World, fl: Flow, trace: TraceStep[] | null): FibResult {
  const [, main, deflt] = w.rules[4] as [RuleState, RuleState, RuleState];
  const steps: [RuleState, number, TableIndex | null][] = [
    [main, 254, mergedIndex(w)],
    [deflt, 253, w.tables[4].get(253) ?? null],
  ];
  for (const [rule, table, idx] of steps) {
    const out = tableLookup(w, table, fl, idx);
    if (out.kind === 'miss' || out.kind === 'throw') continue;
    if (out.kind === 'error') {
      if (trace) trace.push({ stage: 'rule', text: `no rule has been added or deleted: table ${tableName(table)} has ${out.route.type} ${out.route.dst}` });
      return { ok: false, error: out.error, rule, table, route: out.route };
    }
    if (trace) {
      const merged = out.route.table === 255 ? ` (a route of table local: until a rule is added or deleted, tables local and main are one)` : '';
      trace.push({
        stage: 'rule',
        text: `no rule has been added or deleted: table ${tableName(table)} has ${out.route.dst}${merged}`,
        detail: { pref: rule.pref, table },
      });
      if (merged && w.fibFlags4.customRules === null) trace.push({ stage: 'rule', text: UNKNOWN });
    }
    return { ok: true, hit: { rule, table, route: out.route, type: out.type, hops: out.hops, length: out.length, nexthops: out.nexthops } };
  }
  if (trace) trace.push({ stage: 'rule', text: 'no rule has been added or deleted: no route in tables main (with local) and default' });
  return { ok: false, error: 'ENETUNREACH', rule: null, table: null, route: null };
}

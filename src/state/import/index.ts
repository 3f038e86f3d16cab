// Import what admins paste from a real router into one State. Each file is
// split into dumps (by prompt lines, else one dump), each dump's kind is told
// by its command or its content, and the results are merged: rules, routes,
// links, the packet program, sysctls. Pure: text in, data out.
import type { Chain, Program } from '../program.js';
import { emptyState, type RouteState, type RuleState, type State } from '../types.js';
import { splitDump, type Chunk } from './detect.js';
import { ImportError } from './errors.js';
import type { TableNames } from './ip-common.js';
import { mergeLinks, parseIpJson } from './ip-json.js';
import { parseIpRouteText } from './ip-route-text.js';
import { parseIpRuleText } from './ip-rule-text.js';
import { parseIptablesSave } from './iptables-save.js';
import { parseNftJson } from './nft-json.js';
import { parseRtTables } from './rt-tables.js';
import { parseSysctlText } from './sysctl-text.js';

export { detectKind } from './detect.js';
export { parseIpJson } from './ip-json.js';
export { parseIpRouteText } from './ip-route-text.js';
export { parseIpRuleText } from './ip-rule-text.js';
export { parseIptablesSave } from './iptables-save.js';
export { parseNftJson } from './nft-json.js';
export { parseRtTables } from './rt-tables.js';
export { parseSysctlText } from './sysctl-text.js';

export interface DumpFile {
  name: string;
  text: string;
}

/** push without spreading: a dump may hold a million routes */
function append<T>(to: T[], items: T[]): void {
  for (const x of items) to.push(x);
}

/** Equal entries once. Every rule and route was built by from-ip-json.ts, so equal ones have equal key order. */
function dedupe<T>(list: T[]): T[] {
  const seen = new Set<string>();
  return list.filter((x) => {
    const k = JSON.stringify(x);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** "ip-6-rule.txt", "rules.v6", "ip6.json" say IPv6 (used only where the content does not tell). */
function familyHintOf(name: string): 6 | undefined {
  const base = name.split(/[\\/]/).pop() ?? name;
  return /(^|[^a-z0-9])(ip6|ipv6|inet6|v6|6)([^a-z0-9]|$)/i.test(base) ? 6 : undefined;
}

/**
 * By family, table and destination only, keeping the dump's order among routes to one
 * destination: the kernel's order, which decides between routes of equal score
 * (find_rr_leaf; regression 22). The same rule as readRoutes in kernel/read.ts.
 */
function sortRoutes(list: RouteState[]): RouteState[] {
  const collator = new Intl.Collator();
  return list
    .map((r) => ({ r, k: r.dst }))
    .sort((a, b) => a.r.family - b.r.family || a.r.table - b.r.table || collator.compare(a.k, b.k))
    .map((x) => x.r);
}

/** Rules by family and pref; rules of equal pref keep the order the dump showed (the kernel's order). */
const byPref = (a: RuleState, b: RuleState): number => a.family - b.family || a.pref - b.pref;

export function importDump(files: DumpFile[]): State {
  const chunks: { file: string; chunk: Chunk }[] = files.flatMap((f) => splitDump(f.text, f.name).map((chunk) => ({ file: f.name, chunk })));
  // table names first, wherever they were given
  const tableNames: TableNames = {};
  for (const { file, chunk } of chunks) {
    if (chunk.kind === 'rt-tables') Object.assign(tableNames, parseRtTables(chunk.text, { source: file, firstLine: chunk.firstLine }));
  }
  const state = emptyState();
  const rules: RuleState[] = [];
  const routes: RouteState[] = [];
  const chains = new Map<string, { chain: Chain; from: 'iptables' | 'nft'; file: string; line: number }>();
  let sawProgram = false;

  const addProgram = (p: Program, from: 'iptables' | 'nft', file: string, line: number) => {
    sawProgram = true;
    for (const chain of p.chains) {
      const had = chains.get(chain.name);
      if (!had) {
        chains.set(chain.name, { chain, from, file, line });
        continue;
      }
      // iptables-nft keeps iptables' tables in nftables too, where `nft -j` hides their targets:
      // the iptables-save view of the same chain is the complete one
      if (had.from === 'iptables' && from === 'nft') continue;
      if (had.from === 'nft' && from === 'iptables') {
        chains.set(chain.name, { chain, from, file, line });
        continue;
      }
      throw new ImportError(file, line, chain.name, `chain ${chain.name} is also in ${had.file} (line ${had.line}): import each ruleset once`);
    }
  };

  for (const { file, chunk } of chunks) {
    const place = { source: file, firstLine: chunk.firstLine };
    const hint = familyHintOf(file);
    const ipOpts = {
      ...place,
      tableNames,
      ...(chunk.family ? { family: chunk.family } : hint ? { familyHint: hint } : {}),
      ...(chunk.table !== undefined ? { table: chunk.table } : {}),
    };
    switch (chunk.kind) {
      case 'ip-rule':
        append(rules, parseIpRuleText(chunk.text, ipOpts));
        break;
      case 'ip-route':
        append(routes, parseIpRouteText(chunk.text, ipOpts));
        break;
      case 'ip-json': {
        const r = parseIpJson(chunk.text, ipOpts);
        append(rules, r.rules);
        append(routes, r.routes);
        append(state.links, r.links);
        break;
      }
      case 'iptables-save':
        addProgram(parseIptablesSave(chunk.text, { ...place, ...(chunk.family ? { family: chunk.family } : {}) }), 'iptables', file, chunk.firstLine);
        break;
      case 'nft-json':
        addProgram(parseNftJson(chunk.text, place), 'nft', file, chunk.firstLine);
        break;
      case 'sysctl':
        Object.assign(state.sysctls, parseSysctlText(chunk.text, place));
        break;
      case 'rt-tables':
        break;
    }
  }
  state.rules = dedupe(rules).sort(byPref);
  state.routes = sortRoutes(dedupe(routes));
  state.links = mergeLinks(state.links);
  if (sawProgram) state.program = { chains: [...chains.values()].map((c) => c.chain) };
  return state;
}

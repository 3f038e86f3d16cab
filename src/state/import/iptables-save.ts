// `iptables-save` / `ip6tables-save` output (legacy or nf_tables, with or
// without -c) → Program. Every table is kept: mangle and nat carry what
// routing depends on; filter, raw and security chains are kept too (their
// ACCEPT/DROP are modelled, other targets marked unsupported), so nothing a
// packet meets is silently lost. Chains are named "ip/TABLE/CHAIN" (ip6 for
// ip6tables), as iptables-nft names the same chains in nftables.
import type { Family } from '../../net/ip.js';
import { PRIORITY, type Chain, type Hook, type Program } from '../program.js';
import { linesOf } from './common.js';
import { ImportError, lineOf, sourceOf, type Place } from './errors.js';
import { iptablesRule, RuleSyntaxError } from './iptables-rule.js';
import { shellWords, WordsError } from './shell-words.js';

export interface IptablesOptions extends Place {
  /** 6 for ip6tables-save; otherwise from the header or the addresses, else 4 */
  family?: Family;
}

const HOOKS: Record<string, Hook> = { PREROUTING: 'prerouting', INPUT: 'input', FORWARD: 'forward', OUTPUT: 'output', POSTROUTING: 'postrouting' };
const TABLES = new Set(['raw', 'mangle', 'nat', 'filter', 'security']);

function basePriority(table: string, chain: string): number {
  switch (table) {
    case 'raw':
      return PRIORITY.raw;
    case 'mangle':
      return PRIORITY.mangle;
    case 'nat':
      return chain === 'PREROUTING' || chain === 'OUTPUT' ? PRIORITY.dstnat : PRIORITY.srcnat;
    case 'security':
      return PRIORITY.security;
    default:
      return PRIORITY.filter;
  }
}

/** The family a dump is for: its header, else any IPv6 address in it. */
function iptablesFamily(text: string): Family {
  if (/^#.*\bip6tables(-legacy|-nft)?-save\b/m.test(text)) return 6;
  if (/^#.*\biptables(-legacy|-nft)?-save\b/m.test(text)) return 4;
  if (/\s(-s|-d|--to-source|--to-destination|--src-range|--dst-range)\s+!?\s*\[?[0-9a-f]*:[0-9a-f:]*[:/\]]/im.test(text)) return 6;
  if (/\s-p\s+(ipv6-icmp|icmpv6)\b/.test(text)) return 6;
  return 4;
}

export const looksLikeIptablesSave = (text: string): boolean => /^\*[a-z]+\s*$/m.test(text) && /^(COMMIT|:\S+ \S+ \[\d+:\d+\]|(\[\d+:\d+\] )?-A )/m.test(text);

export function parseIptablesSave(text: string, opts: IptablesOptions = {}): Program {
  const src = sourceOf(opts);
  const family = opts.family ?? iptablesFamily(text);
  const fam = family === 6 ? 'ip6' : 'ip';
  const chains: Chain[] = [];
  let table: string | null = null;
  let byName = new Map<string, Chain>();
  const userChains = new Set<string>();

  for (const line of linesOf(text)) {
    const t = line.text.trim();
    if (t === '' || t.startsWith('#')) continue;
    const fail = (reason: string) => new ImportError(src, lineOf(opts, line.index), line.text, reason);
    if (t.startsWith('*')) {
      if (table) throw fail(`table ${t} starts before table *${table} was committed`);
      table = t.slice(1);
      if (!/^[a-z_]+$/.test(table)) throw fail('not a table name');
      byName = new Map();
      userChains.clear();
      continue;
    }
    if (!table) throw fail('a line outside a table (expected "*mangle", "*nat", …)');
    if (t === 'COMMIT') {
      table = null;
      continue;
    }
    if (t.startsWith(':')) {
      const m = /^:(\S+)\s+(\S+)(?:\s+\[\d+:\d+\])?$/.exec(t);
      if (!m) throw fail('not a chain line (expected ":CHAIN POLICY [packets:bytes]")');
      const [, name, policy] = m as unknown as [string, string, string];
      const base: Omit<Chain, 'name' | 'rules'> = {};
      if (policy !== '-') {
        if (policy !== 'ACCEPT' && policy !== 'DROP') throw fail(`unknown policy "${policy}"`);
        const hook = HOOKS[name];
        if (!hook) throw fail(`a policy on "${name}", which is not a built-in chain`);
        if (TABLES.has(table)) {
          base.hook = hook;
          base.type = table === 'nat' ? 'nat' : table === 'mangle' && hook === 'output' ? 'route' : 'filter';
          base.priority = basePriority(table, name);
          base.families = [family];
        }
        base.policy = policy === 'ACCEPT' ? 'accept' : 'drop';
      } else userChains.add(name);
      const chain: Chain = { name: `${fam}/${table}/${name}`, ...base, rules: [] };
      if (byName.has(name)) throw fail(`chain ${name} is declared twice`);
      byName.set(name, chain);
      chains.push(chain);
      continue;
    }
    const rm = /^(?:\[\d+:\d+\]\s+)?(-A|--append)\s+(\S+)\s*(.*)$/.exec(t);
    if (!rm) throw fail('not an iptables-save line (expected "-A CHAIN …", ":CHAIN …", "*table" or "COMMIT")');
    const chain = byName.get(rm[2]!);
    if (!chain) throw fail(`chain ${rm[2]} is not declared in *${table}`);
    let words: string[];
    try {
      words = shellWords(rm[3]!);
    } catch (e) {
      if (e instanceof WordsError) throw fail(e.message);
      throw e;
    }
    const tableName = table;
    try {
      const rule = iptablesRule(words, { family, userChains, chainName: (n) => `${fam}/${tableName}/${n}` });
      if (!TABLES.has(table)) rule.unsupported = [`table ${table} is not modelled`, rule.unsupported].filter(Boolean).join('; ');
      chain.rules.push({ ...rule, origin: t });
    } catch (e) {
      if (e instanceof RuleSyntaxError) throw fail(e.message);
      throw e;
    }
  }
  // a paste that stops before COMMIT is still read: nothing after it is missing
  return { chains };
}

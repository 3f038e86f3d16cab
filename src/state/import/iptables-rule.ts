// One iptables rule (the words after `-A CHAIN` in iptables-save output) →
// ProgramRule. Matches and targets that routing depends on are modelled
// exactly (xt_MARK, xt_CONNMARK, NAT); anything else keeps the rule with
// `unsupported` saying what was not modelled. The rule's own options are
// read here; match modules' options in iptables-matches.ts, targets in
// iptables-targets.ts, all into a draft (iptables-draft.ts).
import type { Family } from '../../net/ip.js';
import type { ProgramRule } from '../program.js';
import { programPrefix, protocolNumber, readPrefix } from './common.js';
import { handlerOf } from './handlers.js';
import { IptRuleDraft, RuleSyntaxError, type IptRuleContext } from './iptables-draft.js';
import { moduleOption } from './iptables-matches.js';
import { target } from './iptables-targets.js';

export { RuleSyntaxError, type IptRuleContext } from './iptables-draft.js';

/** A handler of one of the rule's own options; `w` is the option as written. */
type OptionHandler = (d: IptRuleDraft, w: string) => void;

function prefixes(v: string, family: Family): string[] {
  return v.split(',').map((a) => {
    const p = readPrefix(a);
    if (!p) throw new RuleSyntaxError(`cannot read address "${a}"`);
    if (p.family !== family) throw new RuleSyntaxError(`an IPv${p.family} address in an IPv${family} rule: "${a}"`);
    return programPrefix(p);
  });
}

const source: OptionHandler = (d, w) => d.set('saddr', d.negatable(prefixes(d.value(w), d.ctx.family)), 'source address');
const destination: OptionHandler = (d, w) => d.set('daddr', d.negatable(prefixes(d.value(w), d.ctx.family)), 'destination address');
const inInterface: OptionHandler = (d, w) => d.set('iif', d.negatable([d.value(w)]), 'input interface');
const outInterface: OptionHandler = (d, w) => d.set('oif', d.negatable([d.value(w)]), 'output interface');

function protocol(d: IptRuleDraft, w: string): void {
  const p = d.value(w).toLowerCase();
  const n = protocolNumber(p);
  d.proto = p === '6' ? 'tcp' : p === '17' ? 'udp' : p;
  if (p === 'all' || n === 0) {
    if (d.neg) d.unsupported.push('! -p all');
  } else if (n === null) d.unsupported.push(`-p ${p}`);
  else d.set('l4proto', d.negatable([n]), 'protocol');
}

const fragment: OptionHandler = (d) => d.unsupported.push(`${d.neg ? '! ' : ''}-f`);

/** `-c PACKETS BYTES` (iptables-save -c): counters, not part of the rule. */
function counters(d: IptRuleDraft, w: string): void {
  d.value(w);
  d.value(w);
}

function matchModule(d: IptRuleDraft, w: string): void {
  d.module = d.value(w);
}

/** `-j NAME`: the target takes every word up to the rule's next own option. */
function jump(d: IptRuleDraft, w: string): void {
  const name = d.value(w);
  const opts: string[] = [];
  for (let next = d.peek(); next !== undefined && !isRuleOption(next); next = d.peek()) opts.push(d.value(w));
  target(d, name, opts);
}

function goto(d: IptRuleDraft, w: string): void {
  const name = d.value(w);
  if (d.ctx.userChains.has(name)) d.actions.push({ kind: 'goto', chain: d.ctx.chainName(name) });
  else d.unsupported.push(`goto to an unknown chain ${name}`);
}

/** The rule's own options, short and long. */
const OPTIONS: Record<string, OptionHandler> = {
  '-s': source,
  '--source': source,
  '-d': destination,
  '--destination': destination,
  '-p': protocol,
  '--protocol': protocol,
  '-i': inInterface,
  '--in-interface': inInterface,
  '-o': outInterface,
  '--out-interface': outInterface,
  '-f': fragment,
  '--fragment': fragment,
  '-c': counters,
  '--set-counters': counters,
  '-m': matchModule,
  '--match': matchModule,
  '-j': jump,
  '--jump': jump,
  '-g': goto,
  '--goto': goto,
};

const isRuleOption = (w: string): boolean => w === '!' || handlerOf(OPTIONS, w) !== undefined;

export function iptablesRule(words: string[], ctx: IptRuleContext): ProgramRule {
  const d = new IptRuleDraft(words, ctx);
  for (; d.at < words.length; d.at++) {
    const w = words[d.at]!;
    if (w === '!') {
      d.neg = true;
      continue;
    }
    const handler = handlerOf(OPTIONS, w);
    if (handler) handler(d, w);
    else if (w.startsWith('--')) moduleOption(d, w);
    else throw new RuleSyntaxError(`unexpected word "${w}"`);
    d.neg = false;
  }
  return d.rule();
}

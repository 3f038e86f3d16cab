// The options of iptables match modules (`-m mark --mark 0x1`, `-p tcp
// --dport 80`) → Match fields, one handler per "module option"; an option
// the program does not model is skipped with its values and named in
// `unsupported`.
import type { Family } from '../../net/ip.js';
import type { AddrType, CtState, Match, PortSpan } from '../program.js';
import { programPrefix, rangeToPrefixes } from './common.js';
import { handlerOf } from './handlers.js';
import { RuleSyntaxError, type IptRuleDraft } from './iptables-draft.js';

const CT_STATES: Record<string, CtState> = { NEW: 'new', ESTABLISHED: 'established', RELATED: 'related', INVALID: 'invalid', UNTRACKED: 'untracked' };
const ADDR_TYPES: Record<string, AddrType> = { LOCAL: 'local', BROADCAST: 'broadcast', MULTICAST: 'multicast', UNICAST: 'unicast' };

/** Options a module takes, by how many values follow each. */
const ARITY: Record<string, number> = {
  '--tcp-flags': 2,
  '--syn': 0,
  '--limit-iface-in': 0,
  '--limit-iface-out': 0,
  '--random': 0,
  '--persistent': 0,
  '--random-fully': 0,
  '--save-mark': 0,
  '--restore-mark': 0,
  '--log-uid': 0,
  '--log-tcp-sequence': 0,
  '--log-tcp-options': 0,
  '--log-ip-options': 0,
  '--notrack': 0,
  '--clamp-mss-to-pmtu': 0,
};

/** Protocols whose match module `-p` loads, each with --sport/--dport. */
const PORT_MODULES = ['tcp', 'udp', 'sctp', 'udplite'];

/** A module option's handler; `mod` is the module it belongs to. */
type OptionHandler = (d: IptRuleDraft, opt: string, mod: string) => void;

function portSpans(v: string): PortSpan[] {
  return v.split(',').map((p) => {
    const m = /^(\d{0,5})(?::(\d{0,5}))?$/.exec(p);
    if (!m || (m[1] === '' && m[2] === undefined)) throw new RuleSyntaxError(`cannot read port "${p}"`);
    const from = m[1] === '' ? 0 : Number(m[1]);
    const to = m[2] === undefined ? from : m[2] === '' ? 65535 : Number(m[2]);
    if (from > 65535 || to > 65535 || to < from) throw new RuleSyntaxError(`cannot read port "${p}"`);
    return { from, to };
  });
}

function addrRange(v: string, family: Family): string[] {
  const [a, b] = v.split('-');
  const list = rangeToPrefixes(a!, b ?? a!);
  if (!list || list[0]!.family !== family) throw new RuleSyntaxError(`cannot read address range "${v}"`);
  return list.map(programPrefix);
}

const portsOf =
  (field: 'sport' | 'dport'): OptionHandler =>
  (d, opt) =>
    d.set(field, d.negatable(portSpans(d.value(opt))), field === 'sport' ? 'source port' : 'destination port');

const rangeOf =
  (field: 'saddr' | 'daddr'): OptionHandler =>
  (d, opt) =>
    d.set(field, d.negatable(addrRange(d.value(opt), d.ctx.family)), field === 'saddr' ? 'source address' : 'destination address');

/** A comma-separated list of names (`--ctstate NEW,ESTABLISHED`); a name the program does not know leaves the option unmodelled. */
const namesOf =
  <T>(names: Record<string, T>, field: 'ctstate' | 'daddrType', what: string): OptionHandler =>
  (d, opt, mod) => {
    const list = d.value(opt).split(',');
    const known = list.map((s) => names[s.toUpperCase()]);
    if (known.some((s) => s === undefined)) d.unsupported.push(`${mod} ${opt} ${list.join(',')}`);
    else d.set(field, d.negatable(known) as NonNullable<Match[typeof field]>, what);
  };

/** By "module option". */
const OPTIONS: Record<string, OptionHandler> = {
  ...Object.fromEntries(
    PORT_MODULES.flatMap((m) => [
      [`${m} --sport`, portsOf('sport')],
      [`${m} --source-port`, portsOf('sport')],
      [`${m} --dport`, portsOf('dport')],
      [`${m} --destination-port`, portsOf('dport')],
    ]),
  ),
  'multiport --sports': portsOf('sport'),
  'multiport --source-ports': portsOf('sport'),
  'multiport --dports': portsOf('dport'),
  'multiport --destination-ports': portsOf('dport'),
  'mark --mark': (d, opt) => d.set('mark', d.masked(d.value(opt)), 'mark'),
  'connmark --mark': (d, opt) => d.set('ctmark', d.masked(d.value(opt)), 'connmark'),
  'conntrack --ctstate': namesOf(CT_STATES, 'ctstate', 'conntrack state'),
  'state --state': namesOf(CT_STATES, 'ctstate', 'conntrack state'),
  'addrtype --dst-type': namesOf(ADDR_TYPES, 'daddrType', 'address type'),
  'comment --comment': (d, opt) => {
    d.comment = d.value(opt);
  },
  'iprange --src-range': rangeOf('saddr'),
  'iprange --dst-range': rangeOf('daddr'),
};

/** An option of the current match module (`--dport 80` after `-m tcp` or `-p tcp`). */
export function moduleOption(d: IptRuleDraft, opt: string): void {
  // `-p tcp` loads the tcp match implicitly: its --sport/--dport may follow any -m
  const protoMod = d.proto !== undefined && PORT_MODULES.includes(d.proto) ? d.proto : undefined;
  const portOpt = /^--(sport|dport|source-port|destination-port)$/.test(opt);
  const mod = portOpt && protoMod && d.module !== 'multiport' ? protoMod : (d.module ?? protoMod);
  const handler = handlerOf(OPTIONS, `${mod ?? ''} ${opt}`);
  if (handler) return handler(d, opt, mod!);
  const vals = skipValues(d, opt);
  d.unsupported.push(`${mod ? `-m ${mod} ` : ''}${d.neg ? '! ' : ''}${[opt, ...vals].join(' ')}`);
}

/** A word that is not the next option (nor its `!`). */
const isValue = (w: string | undefined): boolean => w !== undefined && !w.startsWith('-') && w !== '!';

/** The values of an option the importer does not model. */
function skipValues(d: IptRuleDraft, opt: string): string[] {
  const n = ARITY[opt];
  const vals: string[] = [];
  if (n !== undefined) for (let k = 0; k < n; k++) vals.push(d.value(opt));
  else while (isValue(d.peek())) vals.push(d.value(opt));
  return vals;
}

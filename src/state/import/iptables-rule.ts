// One iptables rule (the words after `-A CHAIN` in iptables-save output) →
// ProgramRule. Matches and targets that routing depends on are modelled
// exactly (xt_MARK, xt_CONNMARK, NAT); anything else keeps the rule with
// `unsupported` saying what was not modelled.
import type { Family } from '../../net/ip.js';
import type { Action, AddrType, CtState, MaskedValue, Match, Negatable, PortSpan, ProgramRule } from '../program.js';
import { programPrefix, protocolNumber, rangeToPrefixes, readPrefix, u32 } from './common.js';

/** A word the rule cannot be read with at all (not merely unmodelled): the line is in error. */
export class RuleSyntaxError extends Error {}

export interface IptRuleContext {
  family: Family;
  /** user chains of this table (a `-j NAME` to one of them is a jump) */
  userChains: Set<string>;
  /** the program's name for a chain of this table */
  chainName: (name: string) => string;
}

const ALL = 0xffffffff;
const TOP = new Set(['-s', '--source', '-d', '--destination', '-p', '--protocol', '-i', '--in-interface', '-o', '--out-interface', '-m', '--match', '-j', '--jump', '-g', '--goto', '-f', '--fragment', '-c', '--set-counters', '!']);

function markSpec(v: string): { value: number; mask: number } {
  const [a, b] = v.split('/');
  const value = u32(a!);
  const mask = b === undefined ? ALL : u32(b);
  if (value === null || mask === null) throw new RuleSyntaxError(`cannot read mark "${v}"`);
  return { value, mask };
}

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

function prefixes(v: string, family: Family): string[] {
  return v.split(',').map((a) => {
    const p = readPrefix(a);
    if (!p) throw new RuleSyntaxError(`cannot read address "${a}"`);
    if (p.family !== family) throw new RuleSyntaxError(`an IPv${p.family} address in an IPv${family} rule: "${a}"`);
    return programPrefix(p);
  });
}

function addrRange(v: string, family: Family): string[] {
  const [a, b] = v.split('-');
  const list = rangeToPrefixes(a!, b ?? a!);
  if (!list || list[0]!.family !== family) throw new RuleSyntaxError(`cannot read address range "${v}"`);
  return list.map(programPrefix);
}

const CT_STATES: Record<string, CtState> = { NEW: 'new', ESTABLISHED: 'established', RELATED: 'related', INVALID: 'invalid', UNTRACKED: 'untracked' };
const ADDR_TYPES: Record<string, AddrType> = { LOCAL: 'local', BROADCAST: 'broadcast', MULTICAST: 'multicast', UNICAST: 'unicast' };

/** Options a module takes, by how many values follow each. */
const ARITY: Record<string, number> = { '--tcp-flags': 2, '--syn': 0, '--limit-iface-in': 0, '--limit-iface-out': 0, '--random': 0, '--persistent': 0, '--random-fully': 0, '--save-mark': 0, '--restore-mark': 0, '--log-uid': 0, '--log-tcp-sequence': 0, '--log-tcp-options': 0, '--log-ip-options': 0, '--notrack': 0, '--clamp-mss-to-pmtu': 0 };

/** xt_NAT's range "A[-B][:P[-Q]]" (IPv6 addresses in brackets) → addresses and ports. */
export function natRange(v: string, family: Family): { first: string; last?: string; ports?: string } {
  let addrs = v;
  let ports: string | undefined;
  if (v.startsWith('[') || family === 4) {
    const m = family === 4 ? /^([^:]*)(?::(.+))?$/.exec(v) : /^\[([^\]]+)\](?:-\[([^\]]+)\])?(?::(.+))?$/.exec(v);
    if (!m) throw new RuleSyntaxError(`cannot read NAT target "${v}"`);
    if (family === 4) {
      addrs = m[1]!;
      ports = m[2];
    } else {
      addrs = m[2] ? `${m[1]}-${m[2]}` : m[1]!;
      ports = m[3];
    }
  }
  const [first, last] = addrs.split('-');
  for (const a of [first, last]) {
    if (a !== undefined && a !== '' && readPrefix(a)?.family !== family) throw new RuleSyntaxError(`cannot read NAT address "${a}"`);
  }
  return { first: first ?? '', ...(last ? { last } : {}), ...(ports ? { ports } : {}) };
}

export function iptablesRule(words: string[], ctx: IptRuleContext): ProgramRule {
  const match: Match = {};
  const actions: Action[] = [];
  const unsupported: string[] = [];
  let comment: string | undefined;
  let module: string | undefined;
  let proto: string | undefined;
  let i = 0;
  let neg = false;

  const value = (w: string): string => {
    const v = words[++i];
    if (v === undefined) throw new RuleSyntaxError(`"${w}" without a value`);
    return v;
  };
  const set = <K extends keyof Match>(key: K, v: NonNullable<Match[K]>, what: string) => {
    if (match[key] !== undefined) unsupported.push(`a second ${what} match`);
    else match[key] = v;
  };
  const negatable = <T>(values: T[]): Negatable<T> => (neg ? { values, not: true } : { values });
  const masked = (v: string): MaskedValue => ({ ...markSpec(v), ...(neg ? { not: true } : {}) });
  /** the values of an option the importer does not model */
  const skipValues = (opt: string): string[] => {
    const n = ARITY[opt];
    const vals: string[] = [];
    if (n !== undefined) for (let k = 0; k < n; k++) vals.push(value(opt));
    else while (words[i + 1] !== undefined && !words[i + 1]!.startsWith('-') && words[i + 1] !== '!') vals.push(words[++i]!);
    return vals;
  };

  function moduleOption(opt: string): void {
    // `-p tcp` loads the tcp match implicitly: its --sport/--dport may follow any -m
    const protoMod = proto === 'tcp' || proto === 'udp' || proto === 'sctp' || proto === 'udplite' ? proto : undefined;
    const portOpt = /^--(sport|dport|source-port|destination-port)$/.test(opt);
    const mod = portOpt && protoMod && module !== 'multiport' ? protoMod : (module ?? protoMod);
    const key = `${mod ?? ''} ${opt}`;
    switch (key) {
      case 'tcp --sport': case 'tcp --source-port': case 'udp --sport': case 'udp --source-port':
      case 'sctp --sport': case 'sctp --source-port': case 'udplite --sport': case 'udplite --source-port':
        return set('sport', negatable(portSpans(value(opt))), 'source port');
      case 'tcp --dport': case 'tcp --destination-port': case 'udp --dport': case 'udp --destination-port':
      case 'sctp --dport': case 'sctp --destination-port': case 'udplite --dport': case 'udplite --destination-port':
        return set('dport', negatable(portSpans(value(opt))), 'destination port');
      case 'multiport --sports': case 'multiport --source-ports':
        return set('sport', negatable(portSpans(value(opt))), 'source port');
      case 'multiport --dports': case 'multiport --destination-ports':
        return set('dport', negatable(portSpans(value(opt))), 'destination port');
      case 'mark --mark':
        return set('mark', masked(value(opt)), 'mark');
      case 'connmark --mark':
        return set('ctmark', masked(value(opt)), 'connmark');
      case 'conntrack --ctstate':
      case 'state --state': {
        const states = value(opt).split(',');
        const known = states.map((s) => CT_STATES[s.toUpperCase()]);
        if (known.some((s) => s === undefined)) {
          unsupported.push(`${mod} ${opt} ${states.join(',')}`);
          return;
        }
        return set('ctstate', negatable(known as CtState[]), 'conntrack state');
      }
      case 'addrtype --dst-type': {
        const types = value(opt).split(',');
        const known = types.map((s) => ADDR_TYPES[s.toUpperCase()]);
        if (known.some((s) => s === undefined)) {
          unsupported.push(`addrtype --dst-type ${types.join(',')}`);
          return;
        }
        return set('daddrType', negatable(known as AddrType[]), 'address type');
      }
      case 'comment --comment':
        comment = value(opt);
        return;
      case 'iprange --src-range':
        return set('saddr', negatable(addrRange(value(opt), ctx.family)), 'source address');
      case 'iprange --dst-range':
        return set('daddr', negatable(addrRange(value(opt), ctx.family)), 'destination address');
      default: {
        const vals = skipValues(opt);
        unsupported.push(`${mod ? `-m ${mod} ` : ''}${neg ? '! ' : ''}${[opt, ...vals].join(' ')}`);
      }
    }
  }

  function target(name: string, opts: string[]): void {
    const opt = (k: string) => {
      const at = opts.indexOf(k);
      return at < 0 ? undefined : opts[at + 1];
    };
    const has = (k: string) => opts.includes(k);
    const num = (k: string, dflt: number): number => {
      const v = opt(k);
      if (v === undefined) return dflt;
      const n = u32(v);
      if (n === null) throw new RuleSyntaxError(`cannot read ${k} "${v}"`);
      return n;
    };
    switch (name) {
      case 'ACCEPT':
        actions.push({ kind: 'accept' });
        return;
      case 'DROP':
        actions.push({ kind: 'drop' });
        return;
      case 'REJECT':
        // the packet goes no further; the ICMP error it answers with does not matter to routing
        actions.push({ kind: 'drop' });
        return;
      case 'RETURN':
        actions.push({ kind: 'return' });
        return;
      case 'LOG': case 'NFLOG': case 'ULOG': case 'TRACE':
        actions.push({ kind: 'noop', what: name });
        return;
      case 'MARK':
      case 'CONNMARK': {
        const kind = name === 'MARK' ? 'mark' : 'ctmark';
        // libxt_MARK/libxt_CONNMARK: the kernel computes (mark & ~mask) ^ value
        const xmark = (v: string | undefined, orMask: boolean) => {
          const { value: val, mask } = markSpec(v!);
          return { kind, and: ~(orMask ? val | mask : mask) >>> 0, xor: val } as Action;
        };
        if (has('--set-xmark')) actions.push(xmark(opt('--set-xmark'), false));
        else if (has('--set-mark')) actions.push(xmark(opt('--set-mark'), true));
        else if (has('--and-mark')) actions.push({ kind, and: markSpec(opt('--and-mark')!).value, xor: 0 } as Action);
        else if (has('--or-mark')) {
          const v = markSpec(opt('--or-mark')!).value;
          actions.push({ kind, and: ~v >>> 0, xor: v } as Action);
        } else if (has('--xor-mark')) actions.push({ kind, and: ALL, xor: markSpec(opt('--xor-mark')!).value } as Action);
        else if (name === 'CONNMARK' && (has('--save-mark') || has('--restore-mark'))) {
          if (has('--left-shift-mark') || has('--right-shift-mark')) unsupported.push('CONNMARK with a shift');
          const both = num('--mask', ALL);
          const a = { nfmask: num('--nfmask', both), ctmask: num('--ctmask', both) };
          actions.push(has('--save-mark') ? { kind: 'save-mark', ...a } : { kind: 'restore-mark', ...a });
        } else throw new RuleSyntaxError(`${name} without an operation`);
        return;
      }
      case 'SNAT':
      case 'DNAT': {
        const key = name === 'SNAT' ? '--to-source' : '--to-destination';
        const spec = opt(key);
        if (spec === undefined) throw new RuleSyntaxError(`${name} without ${key}`);
        if (opts.filter((o) => o === key).length > 1) unsupported.push(`${name} with several ${key}`);
        const r = natRange(spec, ctx.family);
        if (r.first === '') unsupported.push(`${name} to ports only`);
        if (r.last && r.last !== r.first) unsupported.push(`${name} to an address range ${r.first}-${r.last}`);
        const to = r.last && r.last !== r.first ? `${r.first}-${r.last}` : r.first;
        if (name === 'SNAT') actions.push({ kind: 'snat', to });
        else {
          const port = r.ports === undefined ? undefined : /^\d+$/.test(r.ports) ? Number(r.ports) : null;
          if (port === null) unsupported.push(`DNAT to a port range ${r.ports}`);
          actions.push({ kind: 'dnat', to, ...(typeof port === 'number' ? { port } : {}) });
        }
        return;
      }
      case 'MASQUERADE':
        actions.push({ kind: 'masquerade' });
        return;
      default:
        if (ctx.userChains.has(name)) {
          actions.push({ kind: 'jump', chain: ctx.chainName(name) });
          return;
        }
        unsupported.push(`target ${[name, ...opts].join(' ')}`);
    }
  }

  for (; i < words.length; i++) {
    const w = words[i]!;
    if (w === '!') {
      neg = true;
      continue;
    }
    switch (w) {
      case '-s': case '--source':
        set('saddr', negatable(prefixes(value(w), ctx.family)), 'source address');
        break;
      case '-d': case '--destination':
        set('daddr', negatable(prefixes(value(w), ctx.family)), 'destination address');
        break;
      case '-p': case '--protocol': {
        const p = value(w).toLowerCase();
        const n = protocolNumber(p);
        proto = p === '6' ? 'tcp' : p === '17' ? 'udp' : p;
        if (p === 'all' || n === 0) {
          if (neg) unsupported.push('! -p all');
        } else if (n === null) unsupported.push(`-p ${p}`);
        else set('l4proto', negatable([n]), 'protocol');
        break;
      }
      case '-i': case '--in-interface':
        set('iif', negatable([value(w)]), 'input interface');
        break;
      case '-o': case '--out-interface':
        set('oif', negatable([value(w)]), 'output interface');
        break;
      case '-f': case '--fragment':
        unsupported.push(`${neg ? '! ' : ''}-f`);
        break;
      case '-c': case '--set-counters':
        value(w);
        value(w);
        break;
      case '-m': case '--match':
        module = value(w);
        break;
      case '-j': case '--jump': {
        const name = value(w);
        const opts: string[] = [];
        while (words[i + 1] !== undefined && !TOP.has(words[i + 1]!)) opts.push(words[++i]!);
        target(name, opts);
        break;
      }
      case '-g': case '--goto': {
        const name = value(w);
        if (ctx.userChains.has(name)) actions.push({ kind: 'goto', chain: ctx.chainName(name) });
        else unsupported.push(`goto to an unknown chain ${name}`);
        break;
      }
      default:
        if (!w.startsWith('--')) throw new RuleSyntaxError(`unexpected word "${w}"`);
        moduleOption(w);
    }
    neg = false;
  }
  return {
    match,
    actions,
    ...(comment !== undefined ? { comment } : {}),
    ...(unsupported.length ? { unsupported: unsupported.join('; ') } : {}),
  };
}

// One rule of `nft -j list ruleset` (its `expr` list) → ProgramRule. Matches
// become Match fields, statements become Actions; what the program cannot
// hold is named in `unsupported` and the rest is still kept.
import type { Family } from '../../net/ip.js';
import { JHASH_SEED } from '../../net/jhash.js';
import { formatPrefix, parsePrefix } from '../../net/ip.js';
import type { Action, AddrKey, AddrType, CtState, Match, Negatable, PortSpan, ProgramRule } from '../program.js';
import { addresses, describe, kindOf, linear, members, ports, protocols, strings, u, Unsupported, unwrapElem, type SetElements } from './nft-values.js';

type J = Record<string, unknown>;

export interface NftRuleContext {
  /** the table's family: ip, ip6, inet, arp, bridge, netdev */
  tableFamily: string;
  /** the program's name for a chain (or set) of this table */
  chainName: (name: string) => string;
  /** named sets and maps of this table */
  sets: SetElements;
  /** the table's dynamic sets (with timeouts): their contents change with traffic, so a match is a lookup, not a list */
  dynamicSets?: Set<string>;
}

const ALL = 0xffffffff;
const CT_STATES = new Set<CtState>(['new', 'established', 'related', 'invalid', 'untracked']);
const ADDR_TYPES = new Set<AddrType>(['local', 'broadcast', 'multicast', 'unicast']);
const PORT_PROTOCOLS: Record<string, number> = { tcp: 6, udp: 17, sctp: 132, udplite: 136, dccp: 33 };
const NOOPS = new Set(['counter', 'log', 'comment']);

/** A prefix as the program writes it (canonical), or null. */
const readPrefixText = (t: string): string | null => {
  const r = parsePrefix(t);
  return r.ok ? formatPrefix(r.prefix) : null;
};

export function nftRule(expr: unknown[], ctx: NftRuleContext): ProgramRule {
  const match: Match = {};
  const actions: Action[] = [];
  const unsupported: string[] = [];
  let changed = false; // a statement before this point may have changed the packet

  const setFamily = (f: Family) => {
    if (ctx.tableFamily !== 'inet' && ctx.tableFamily !== 'bridge' && ctx.tableFamily !== 'netdev') return; // the table's own
    if (match.family !== undefined && match.family !== f) throw new Unsupported('matches on both IPv4 and IPv6');
    match.family = f;
  };
  const put = <K extends keyof Match>(key: K, v: NonNullable<Match[K]>) => {
    if (match[key] !== undefined) throw new Unsupported(`a second match on ${key}`);
    match[key] = v;
  };
  const impliedProtocol = (n: number) => {
    const p = match.l4proto;
    if (!p || (!p.not && p.values.includes(n)) || (p.not && !p.values.includes(n))) match.l4proto = { values: [n] };
    else throw new Unsupported('conflicting protocol matches');
  };

  /** `ip saddr` or `ip saddr . ip daddr` (payloads of one family): the keys, with the family set. */
  function addrKeys(e: unknown): AddrKey[] {
    const parts = kindOf(e) === 'concat' ? ((e as J).concat as unknown[]) : [e];
    const keys: AddrKey[] = [];
    for (const x of parts) {
      const pl = kindOf(x) === 'payload' ? ((x as J).payload as J) : undefined;
      if (!pl || (pl.protocol !== 'ip' && pl.protocol !== 'ip6') || (pl.field !== 'saddr' && pl.field !== 'daddr')) throw new Unsupported(`addresses ${describe(e)}`);
      setFamily(pl.protocol === 'ip' ? 4 : 6);
      keys.push(pl.field);
    }
    return keys;
  }

  function onMatch(m: J): void {
    const op = typeof m.op === 'string' ? m.op : '==';
    if (typeof m.right === 'string' && m.right.startsWith('@') && ctx.dynamicSets?.has(m.right.slice(1))) {
      if (op !== '==') throw new Unsupported(`a dynamic set match with ${op}`);
      put('inSet', { keys: addrKeys(m.left), set: ctx.chainName(m.right.slice(1)) });
      return;
    }
    const not = op === '!=';
    if (!['==', '!=', 'in', '<', '<=', '>', '>='].includes(op)) throw new Unsupported(`match operator ${op}`);
    const cmp = op === '<' || op === '<=' || op === '>' || op === '>=';
    const neg = <T>(values: T[]): Negatable<T> => (not ? { values, not: true } : { values });
    const left = m.left;
    const k = kindOf(left);
    const body = (k ? (left as J)[k] : undefined) as J | unknown[] | undefined;
    const noCmp = (what: string) => {
      if (cmp) throw new Unsupported(`${what} ${op}`);
    };

    if (k === 'payload') {
      const { protocol: proto, field } = body as J;
      if ((proto === 'ip' || proto === 'ip6') && (field === 'saddr' || field === 'daddr')) {
        noCmp(`${proto} ${field}`);
        const f: Family = proto === 'ip' ? 4 : 6;
        setFamily(f);
        put(field, neg(addresses(m.right, f, ctx.sets)));
        return;
      }
      if ((proto === 'ip' && field === 'protocol') || (proto === 'ip6' && field === 'nexthdr')) {
        noCmp(`${proto} ${field}`);
        setFamily(proto === 'ip' ? 4 : 6);
        put('l4proto', neg(protocols(m.right, ctx.sets)));
        return;
      }
      if ((field === 'sport' || field === 'dport') && (proto === 'th' || Object.hasOwn(PORT_PROTOCOLS, proto as string))) {
        const spans: PortSpan[] = ports(op, m.right, ctx.sets);
        if (proto !== 'th') impliedProtocol(PORT_PROTOCOLS[proto as string]!);
        put(field, neg(spans));
        return;
      }
      throw new Unsupported(`match on ${String(proto ?? 'raw payload')} ${String(field ?? '')}`.trim());
    }
    if (k === 'meta') {
      const key = (body as J).key;
      noCmp(`meta ${String(key)}`);
      switch (key) {
        case 'mark': {
          const [v] = members(m.right, ctx.sets);
          if (typeof v !== 'number' || members(m.right, ctx.sets).length !== 1) throw new Unsupported(`meta mark ${describe(m.right)}`);
          put('mark', { value: u(v), mask: ALL, ...(not ? { not: true } : {}) });
          return;
        }
        case 'iifname':
        case 'iif':
          put('iif', neg(strings(m.right, ctx.sets, key)));
          return;
        case 'oifname':
        case 'oif':
          put('oif', neg(strings(m.right, ctx.sets, key)));
          return;
        case 'l4proto':
          put('l4proto', neg(protocols(m.right, ctx.sets)));
          return;
        case 'nfproto':
        case 'protocol': {
          const v = strings(m.right, ctx.sets, `meta ${key}`);
          const fam = (s: string): Family => {
            if (s === 'ipv4' || s === 'ip') return 4;
            if (s === 'ipv6' || s === 'ip6') return 6;
            throw new Unsupported(`meta ${key} ${s}`);
          };
          const fams = [...new Set(v.map(fam))];
          if (fams.length !== 1) throw new Unsupported(`meta ${key} ${v.join(',')}`);
          const f = fams[0]!;
          const chosen: Family = not ? (f === 4 ? 6 : 4) : f;
          if (ctx.tableFamily === 'inet' || ctx.tableFamily === 'bridge' || ctx.tableFamily === 'netdev') setFamily(chosen);
          else if ((ctx.tableFamily === 'ip' ? 4 : 6) !== chosen) throw new Unsupported(`meta ${key} that never matches in a ${ctx.tableFamily} table`);
          return;
        }
        default:
          throw new Unsupported(`match on meta ${String(key)}`);
      }
    }
    if (k === 'ct') {
      const key = (body as J).key;
      noCmp(`ct ${String(key)}`);
      if (key === 'state') {
        const states = strings(m.right, ctx.sets, 'ct state');
        if (!states.every((s) => CT_STATES.has(s as CtState))) throw new Unsupported(`ct state ${states.join(',')}`);
        put('ctstate', neg(states as CtState[]));
        return;
      }
      if (key === 'mark') {
        const list = members(m.right, ctx.sets);
        if (list.length !== 1 || typeof list[0] !== 'number') throw new Unsupported(`ct mark ${describe(m.right)}`);
        put('ctmark', { value: u(list[0]), mask: ALL, ...(not ? { not: true } : {}) });
        return;
      }
      throw new Unsupported(`match on ct ${String(key)}`);
    }
    if (k === '&' && Array.isArray(body) && body.length === 2 && typeof body[1] === 'number') {
      const inner = kindOf(body[0]);
      const key = inner ? ((body[0] as J)[inner] as J).key : undefined;
      const list = members(m.right, ctx.sets);
      if (!cmp && key === 'mark' && (inner === 'meta' || inner === 'ct') && list.length === 1 && typeof list[0] === 'number') {
        put(inner === 'meta' ? 'mark' : 'ctmark', { value: u(list[0]), mask: u(body[1]), ...(not ? { not: true } : {}) });
        return;
      }
      throw new Unsupported(`match ${describe(left)} ${op} ${describe(m.right)}`);
    }
    if (k === 'fib') {
      const f = body as J;
      const flags = Array.isArray(f.flags) ? f.flags : [];
      if (f.result === 'type' && flags.length === 1 && flags[0] === 'daddr' && !cmp) {
        const types = strings(m.right, ctx.sets, 'fib daddr type');
        if (!types.every((t) => ADDR_TYPES.has(t as AddrType))) throw new Unsupported(`fib daddr type ${types.join(',')}`);
        put('daddrType', neg(types as AddrType[]));
        return;
      }
      throw new Unsupported(`fib ${flags.join(' . ')} ${String(f.result)}`);
    }
    throw new Unsupported(`match on ${describe(left)}`);
  }

  function onMangle(s: J): void {
    const key = s.key;
    const k = kindOf(key);
    const target = k ? ((key as J)[k] as J).key : undefined;
    const l = linear(s.value);
    if (target !== 'mark' || (k !== 'meta' && k !== 'ct')) throw new Unsupported(`set ${describe(key)}`);
    if (!l) throw new Unsupported(`${k} mark set ${describe(s.value)}`);
    if (k === 'meta') {
      if (l.ctmark === 0) actions.push({ kind: 'mark', and: l.mark, xor: l.c });
      else {
        actions.push({ kind: 'restore-mark', nfmask: u(~l.mark), ctmask: l.ctmark });
        if (l.c) actions.push({ kind: 'mark', and: ALL, xor: l.c });
      }
    } else if (l.mark === 0) actions.push({ kind: 'ctmark', and: l.ctmark, xor: l.c });
    else {
      actions.push({ kind: 'save-mark', nfmask: l.mark, ctmask: u(~l.ctmark) });
      if (l.c) actions.push({ kind: 'ctmark', and: ALL, xor: l.c });
    }
  }

  /**
   * `numgen random mod W vmap { 0-2 : jump a, 3 : jump b }` and `jhash ip saddr mod W … vmap`:
   * balancing by weight, each chain's weight the width of its range.
   */
  function onBalance(v: J, k: 'numgen' | 'jhash'): void {
    const gen = (v.key as J)[k] as J;
    if (k === 'numgen' && gen.mode !== 'random') throw new Unsupported(`numgen ${String(gen.mode)}`);
    let by: 'random' | 'source' | 'source-destination' = 'random';
    if (k === 'jhash') {
      // `ip saddr` implies the family (nft drops a `meta nfproto` written before it)
      const keys = addrKeys(gen.expr);
      if (keys.join() === 'saddr') by = 'source';
      else if (keys.join() === 'saddr,daddr') by = 'source-destination';
      else throw new Unsupported(`jhash of ${describe(gen.expr)}`);
    }
    const mod = Number(gen.mod);
    const entries: { weight: number; chain: string; from: number }[] = [];
    for (const pair of members(v.data, ctx.sets)) {
      const [ek, verdict] = Array.isArray(pair) ? (pair as unknown[]) : [undefined, undefined];
      const vk = kindOf(verdict);
      const range = typeof ek === 'number' ? [ek, ek] : (ek as J | undefined)?.range;
      if (!Array.isArray(range) || (vk !== 'jump' && vk !== 'goto')) throw new Unsupported(`${k} vmap entry ${describe(ek)}`);
      const [from, to] = range as number[];
      entries.push({ weight: to! - from! + 1, chain: ctx.chainName(String(((verdict as J)[vk] as J).target)), from: from! });
    }
    entries.sort((a, b) => a.from - b.from);
    if (entries.reduce((n, e) => n + e.weight, 0) !== mod) throw new Unsupported(`${k} mod ${mod} with ranges that do not cover it`);
    if (k === 'jhash' && Number(gen.seed ?? 0) === JHASH_SEED) {
      // multihome's own seed: the simulator can hash exactly, so keep each bucket's chain
      const map: string[] = entries.flatMap((e) => Array.from({ length: e.weight }, () => e.chain));
      const order = [...new Set(map)].map((chain) => ({ chain, weight: map.filter((c) => c === chain).length }));
      actions.push({ kind: 'balance', by, entries: order, map });
      return;
    }
    if (by === 'source-destination') throw new Unsupported('jhash of source and destination with a foreign seed');
    actions.push({ kind: 'balance', by, entries: entries.map(({ weight, chain }) => ({ weight, chain })) });
  }

  function onVmap(v: J): void {
    const bk = kindOf(v.key);
    if (bk === 'numgen' || bk === 'jhash') return onBalance(v, bk);
    let key: 'ctmark' | 'mark' | 'iif' | 'oif';
    let mask: number | undefined;
    let k = kindOf(v.key);
    let inner = v.key as J;
    if (k === '&' && Array.isArray(inner['&']) && (inner['&'] as unknown[]).length === 2 && typeof (inner['&'] as unknown[])[1] === 'number') {
      mask = u((inner['&'] as number[])[1]!);
      inner = (inner['&'] as unknown[])[0] as J;
      k = kindOf(inner);
    }
    const field = k ? (inner[k] as J).key : undefined;
    if (k === 'ct' && field === 'mark') key = 'ctmark';
    else if (k === 'meta' && field === 'mark') key = 'mark';
    else if (k === 'meta' && mask === undefined && (field === 'iifname' || field === 'iif')) key = 'iif';
    else if (k === 'meta' && mask === undefined && (field === 'oifname' || field === 'oif')) key = 'oif';
    else throw new Unsupported(`vmap on ${describe(v.key)}`);
    const entries: Extract<Action, { kind: 'vmap' }>['entries'] = [];
    const skipped: string[] = [];
    for (const pair of members(v.data, ctx.sets)) {
      const [ek, verdict] = Array.isArray(pair) ? (pair as unknown[]) : [undefined, undefined];
      const vk = kindOf(verdict);
      const entryKey = unwrapElem(ek);
      const okKey = key === 'iif' || key === 'oif' ? typeof entryKey === 'string' : typeof entryKey === 'number';
      if (!okKey || (vk !== 'jump' && vk !== 'goto')) {
        skipped.push(`${describe(ek)} : ${describe(verdict)}`);
        continue;
      }
      const chain = ((verdict as J)[vk] as J).target;
      entries.push({ key: entryKey as string | number, verdict: vk, chain: ctx.chainName(String(chain)) });
    }
    actions.push({ kind: 'vmap', key, ...(mask !== undefined ? { mask } : {}), entries });
    if (skipped.length) unsupported.push(`vmap entries ${skipped.join(', ')}`);
  }

  function onNat(kind: 'snat' | 'dnat', s: J | null): void {
    const body = s ?? {};
    if (body.family === 'ip') setFamily(4);
    if (body.family === 'ip6') setFamily(6);
    const addr = body.addr;
    let to: string;
    const pre = kindOf(addr) === 'prefix' ? ((addr as J).prefix as J) : undefined;
    if (pre && (body.type_flags === 'prefix' || (Array.isArray(body.type_flags) && body.type_flags.includes('prefix')))) {
      // `snat ip6 prefix to P` (NPTv6): host bits kept
      const p = readPrefixText(`${String(pre.addr)}/${String(pre.len)}`);
      if (!p) throw new Unsupported(`${kind} prefix ${describe(addr)}`);
      actions.push({ kind: 'prefix-nat', dir: kind, to: p });
      return;
    }
    if (typeof addr === 'string') to = addr;
    else if (kindOf(addr) === 'range') {
      const [a, b] = (addr as J).range as unknown[];
      to = `${String(a)}-${String(b)}`;
      unsupported.push(`${kind} to an address range ${to}`);
    } else throw new Unsupported(`${kind} to ${describe(addr)}`);
    if (kind === 'snat') actions.push({ kind, to });
    else {
      const p = body.port;
      if (p !== undefined && typeof p !== 'number') unsupported.push(`dnat to ports ${describe(p)}`);
      actions.push({ kind, to, ...(typeof p === 'number' ? { port: p } : {}) });
    }
  }

  for (const stmt of expr) {
    const k = kindOf(stmt);
    const body = k ? (stmt as J)[k] : undefined;
    try {
      switch (k) {
        case 'match':
          if (changed) throw new Unsupported('a match after a statement that changes the packet');
          onMatch(body as J);
          break;
        case 'accept':
        case 'drop':
        case 'return':
          actions.push({ kind: k });
          break;
        case 'reject':
          // the packet goes no further; the error it answers with does not matter to routing
          actions.push({ kind: 'drop' });
          break;
        case 'jump':
        case 'goto':
          actions.push({ kind: k, chain: ctx.chainName(String((body as J).target)) });
          break;
        case 'mangle':
          onMangle(body as J);
          changed = true;
          break;
        case 'vmap':
          onVmap(body as J);
          break;
        case 'snat':
        case 'dnat':
          onNat(k, body as J | null);
          changed = true;
          break;
        case 'masquerade':
          actions.push({ kind: 'masquerade' });
          changed = true;
          break;
        case 'set': {
          // `update @s { ip saddr }` / `add @s { … }`: sticky memory
          const b = body as J;
          if ((b.op !== 'update' && b.op !== 'add') || typeof b.set !== 'string' || !b.set.startsWith('@')) throw new Unsupported(`set statement ${describe(b)}`);
          const elem = kindOf(b.elem) === 'elem' ? ((b.elem as J).elem as J).val : b.elem;
          actions.push({ kind: 'remember', set: ctx.chainName(b.set.slice(1)), keys: addrKeys(elem) });
          break;
        }
        case 'xt': {
          const x = body as J;
          throw new Unsupported(`iptables-nft ${String(x.type)} ${String(x.name)} (nft -j does not show its options: import iptables-save for this table)`);
        }
        default:
          if (k && NOOPS.has(k)) actions.push({ kind: 'noop', what: k });
          else throw new Unsupported(`statement ${k ?? describe(stmt)}`);
      }
    } catch (e) {
      if (!(e instanceof Unsupported)) throw e;
      unsupported.push(e.message);
      if (k !== 'match') changed = true; // an unknown statement may have changed anything
    }
  }
  return { match, actions, ...(unsupported.length ? { unsupported: unsupported.join('; ') } : {}) };
}

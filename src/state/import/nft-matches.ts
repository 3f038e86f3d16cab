// nft `match` statements → Match fields: one handler per kind of left-hand
// side (payload, meta, ct, a masked mark, fib), and per key within meta.
import { scalarText } from '../../util/json.js';
import type { Family } from '../../net/ip.js';
import type { AddrType, CtState, MaskedValue, Negatable, PortSpan } from '../program.js';
import { handlerOf } from './handlers.js';
import { ALL, multiFamily, type J, type NftRuleDraft } from './nft-draft.js';
import { addresses, describe, kindOf, members, ports, protocols, strings, u, Unsupported } from './nft-values.js';

const OPERATORS = ['==', '!=', 'in', '<', '<=', '>', '>='];
const CT_STATES = new Set<CtState>(['new', 'established', 'related', 'invalid', 'untracked']);
const ADDR_TYPES = new Set<AddrType>(['local', 'broadcast', 'multicast', 'unicast']);
const PORT_PROTOCOLS: Record<string, number> = { tcp: 6, udp: 17, sctp: 132, udplite: 136, dccp: 33 };

/** One match as its handler reads it. */
interface MatchExpr {
  left: unknown;
  right: unknown;
  op: string;
  /** `!=` */
  not: boolean;
  /** `<`, `<=`, `>`, `>=` */
  cmp: boolean;
}

/** A handler for one kind of left-hand side; `body` is what that kind holds (`{"meta": body}`). */
type MatchHandler = (d: NftRuleDraft, x: MatchExpr, body: unknown) => void;

const neg = <T>(x: MatchExpr, values: T[]): Negatable<T> => (x.not ? { values, not: true } : { values });
const masked = (x: MatchExpr, value: number, mask: number): MaskedValue => ({ value: u(value), mask, ...(x.not ? { not: true } : {}) });

/** Only ports compare with `<` and the like. */
function noCmp(x: MatchExpr, what: string): void {
  if (x.cmp) throw new Unsupported(`${what} ${x.op}`);
}

/** The single number a right-hand side stands for, or null. */
function single(d: NftRuleDraft, right: unknown): number | null {
  const list = members(right, d.ctx.sets);
  return list.length === 1 && typeof list[0] === 'number' ? list[0] : null;
}

/** A `match` statement (`{"left": …, "op": …, "right": …}`). */
export function onMatch(d: NftRuleDraft, m: J): void {
  const op = typeof m.op === 'string' ? m.op : '==';
  if (typeof m.right === 'string' && m.right.startsWith('@') && d.ctx.dynamicSets?.has(m.right.slice(1))) {
    if (op !== '==') throw new Unsupported(`a dynamic set match with ${op}`);
    d.put('inSet', { keys: d.addrKeys(m.left), set: d.ctx.chainName(m.right.slice(1)) });
    return;
  }
  if (!OPERATORS.includes(op)) throw new Unsupported(`match operator ${op}`);
  const x: MatchExpr = { left: m.left, right: m.right, op, not: op === '!=', cmp: op === '<' || op === '<=' || op === '>' || op === '>=' };
  const k = kindOf(m.left);
  const handler = handlerOf(MATCHES, k);
  if (!handler) throw new Unsupported(`match on ${describe(m.left)}`);
  handler(d, x, (m.left as J)[k!]);
}

function onPayload(d: NftRuleDraft, x: MatchExpr, body: unknown): void {
  const { protocol: proto, field } = body as J;
  if ((proto === 'ip' || proto === 'ip6') && (field === 'saddr' || field === 'daddr')) {
    noCmp(x, `${proto} ${field}`);
    const f: Family = proto === 'ip' ? 4 : 6;
    d.setFamily(f);
    d.put(field, neg(x, addresses(x.right, f, d.ctx.sets)));
    return;
  }
  if ((proto === 'ip' && field === 'protocol') || (proto === 'ip6' && field === 'nexthdr')) {
    noCmp(x, `${proto} ${field}`);
    d.setFamily(proto === 'ip' ? 4 : 6);
    d.put('l4proto', neg(x, protocols(x.right, d.ctx.sets)));
    return;
  }
  if ((field === 'sport' || field === 'dport') && (proto === 'th' || Object.hasOwn(PORT_PROTOCOLS, proto as string))) {
    const spans: PortSpan[] = ports(x.op, x.right, d.ctx.sets);
    if (proto !== 'th') d.impliedProtocol(PORT_PROTOCOLS[proto as string]!);
    d.put(field, neg(x, spans));
    return;
  }
  throw new Unsupported(`match on ${scalarText(proto ?? 'raw payload')} ${scalarText(field ?? '')}`.trim());
}

/** `meta iifname "eth0"`, `meta oif { "a", "b" }`: names, whichever key (the program holds names). */
function onInterface(field: 'iif' | 'oif') {
  return (d: NftRuleDraft, x: MatchExpr, key: string): void => d.put(field, neg(x, strings(x.right, d.ctx.sets, key)));
}

/** `meta KEY`, by key. */
const META: Record<string, (d: NftRuleDraft, x: MatchExpr, key: string) => void> = {
  mark: (d, x) => {
    const v = single(d, x.right);
    if (v === null) throw new Unsupported(`meta mark ${describe(x.right)}`);
    d.put('mark', masked(x, v, ALL));
  },
  iifname: onInterface('iif'),
  iif: onInterface('iif'),
  oifname: onInterface('oif'),
  oif: onInterface('oif'),
  l4proto: (d, x) => d.put('l4proto', neg(x, protocols(x.right, d.ctx.sets))),
  nfproto: onMetaFamily,
  protocol: onMetaFamily,
};

function onMeta(d: NftRuleDraft, x: MatchExpr, body: unknown): void {
  const key = (body as J).key;
  noCmp(x, `meta ${String(key)}`);
  const handler = handlerOf(META, key);
  if (!handler) throw new Unsupported(`match on meta ${String(key)}`);
  handler(d, x, key as string);
}

/** `meta nfproto ipv4`, `meta protocol ip6`: the rule's family. */
function onMetaFamily(d: NftRuleDraft, x: MatchExpr, key: string): void {
  const v = strings(x.right, d.ctx.sets, `meta ${key}`);
  const fam = (s: string): Family => {
    if (s === 'ipv4' || s === 'ip') return 4;
    if (s === 'ipv6' || s === 'ip6') return 6;
    throw new Unsupported(`meta ${key} ${s}`);
  };
  const fams = [...new Set(v.map(fam))];
  if (fams.length !== 1) throw new Unsupported(`meta ${key} ${v.join(',')}`);
  const f = fams[0]!;
  const chosen: Family = x.not ? (f === 4 ? 6 : 4) : f;
  const { tableFamily } = d.ctx;
  if (multiFamily(tableFamily)) d.setFamily(chosen);
  else if ((tableFamily === 'ip' ? 4 : 6) !== chosen) throw new Unsupported(`meta ${key} that never matches in a ${tableFamily} table`);
}

function onCt(d: NftRuleDraft, x: MatchExpr, body: unknown): void {
  const key = (body as J).key;
  noCmp(x, `ct ${String(key)}`);
  if (key === 'state') {
    const states = strings(x.right, d.ctx.sets, 'ct state');
    if (!states.every((s) => CT_STATES.has(s as CtState))) throw new Unsupported(`ct state ${states.join(',')}`);
    d.put('ctstate', neg(x, states as CtState[]));
    return;
  }
  if (key === 'mark') {
    const v = single(d, x.right);
    if (v === null) throw new Unsupported(`ct mark ${describe(x.right)}`);
    d.put('ctmark', masked(x, v, ALL));
    return;
  }
  throw new Unsupported(`match on ct ${String(key)}`);
}

/** `meta mark & 0xff00 == 0x100`, `ct mark & M != V`. */
function onMasked(d: NftRuleDraft, x: MatchExpr, body: unknown): void {
  if (!Array.isArray(body) || body.length !== 2 || typeof body[1] !== 'number') throw new Unsupported(`match on ${describe(x.left)}`);
  const [expr, mask] = body as [unknown, number];
  const inner = kindOf(expr);
  const key = inner ? ((expr as J)[inner] as J).key : undefined;
  const v = single(d, x.right);
  if (x.cmp || key !== 'mark' || (inner !== 'meta' && inner !== 'ct') || v === null)
    throw new Unsupported(`match ${describe(x.left)} ${x.op} ${describe(x.right)}`);
  d.put(inner === 'meta' ? 'mark' : 'ctmark', masked(x, v, u(mask)));
}

/** `fib daddr type local` and the like: the one fib match the program holds. */
function onFib(d: NftRuleDraft, x: MatchExpr, body: unknown): void {
  const f = body as J;
  const flags = Array.isArray(f.flags) ? f.flags : [];
  if (f.result === 'type' && flags.length === 1 && flags[0] === 'daddr' && !x.cmp) {
    const types = strings(x.right, d.ctx.sets, 'fib daddr type');
    if (!types.every((t) => ADDR_TYPES.has(t as AddrType))) throw new Unsupported(`fib daddr type ${types.join(',')}`);
    d.put('daddrType', neg(x, types as AddrType[]));
    return;
  }
  throw new Unsupported(`fib ${flags.join(' . ')} ${String(f.result)}`);
}

/** By the kind of the left-hand side. */
const MATCHES: Record<string, MatchHandler> = {
  payload: onPayload,
  meta: onMeta,
  ct: onCt,
  '&': onMasked,
  fib: onFib,
};

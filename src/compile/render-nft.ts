// A packet program (multihome's own) written as nftables text. Pure. The
// golden tests pin the exact text; the lab tests prove nft accepts it.
import { InternalError } from '../errors/index.js';
import { formatPortRange, PORT_PROTOCOLS, PROTOCOLS } from '../net/ports.js';
import type { Action, AddrKey, Chain, Match, Negatable, NftSet, PortSpan, Program, ProgramRule } from '../state/program.js';

import { JHASH_SEED as SEED } from '../net/jhash.js';

/** A fixed seed, so a source keeps its uplink across reloads of the table. */
const JHASH_SEED = `0x${SEED.toString(16)}`;

const hex8 = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
const PROTO_NAMES = new Map(
  Object.entries(PROTOCOLS)
    .filter(([n]) => n !== 'ipv6-icmp')
    .map(([n, v]) => [v, n]),
);
const protoName = (n: number): string => PROTO_NAMES.get(n) ?? String(n);

/** `{ a, b }` for several items, `a` for one: an anonymous set is one lookup however long. */
const setOf = (items: string[]): string => (items.length === 1 ? items[0]! : `{ ${items.join(', ')} }`);
const neg = (n: Negatable<unknown>): string => (n.not ? '!= ' : '');
const quoted = (s: string) => `"${s}"`;
const ports = (n: Negatable<PortSpan>) => `${neg(n)}${setOf(n.values.map(formatPortRange))}`;
const nfproto = (f: 4 | 6) => (f === 4 ? 'ipv4' : 'ipv6');

/** `impliesFamily`: the action names the family itself (`snat ip to …`), so no `meta nfproto`. */
function renderMatch(m: Match, impliesFamily = false): string {
  const parts: string[] = [];
  if (m.iif) parts.push(`iifname ${neg(m.iif)}${setOf(m.iif.values.map(quoted))}`);
  if (m.oif) parts.push(`oifname ${neg(m.oif)}${setOf(m.oif.values.map(quoted))}`);
  const ipw = m.family === 6 ? 'ip6' : 'ip';
  if (m.saddr) parts.push(`${ipw} saddr ${neg(m.saddr)}${setOf(m.saddr.values)}`);
  if (m.daddr) parts.push(`${ipw} daddr ${neg(m.daddr)}${setOf(m.daddr.values)}`);
  if (m.family && !m.saddr && !m.daddr && !impliesFamily) parts.push(`meta nfproto ${nfproto(m.family)}`);
  const protos = m.l4proto?.values.map(protoName);
  const hasPorts = Boolean(m.sport || m.dport);
  if (m.l4proto && !m.l4proto.not && protos!.length === 1 && PORT_PROTOCOLS.has(protos![0]!) && hasPorts) {
    // `tcp dport …` implies the protocol: the shortest form nft accepts
    if (m.sport) parts.push(`${protos![0]} sport ${ports(m.sport)}`);
    if (m.dport) parts.push(`${protos![0]} dport ${ports(m.dport)}`);
  } else {
    if (m.l4proto) parts.push(`meta l4proto ${neg(m.l4proto)}${setOf(protos!)}`);
    if (m.sport) parts.push(`th sport ${ports(m.sport)}`);
    if (m.dport) parts.push(`th dport ${ports(m.dport)}`);
  }
  if (m.mark) parts.push(`meta mark & ${hex8(m.mark.mask)} ${m.mark.not ? '!=' : '=='} ${hex8(m.mark.value)}`);
  if (m.ctmark) parts.push(`ct mark & ${hex8(m.ctmark.mask)} ${m.ctmark.not ? '!=' : '=='} ${hex8(m.ctmark.value)}`);
  if (m.ctstate) parts.push(`ct state ${neg(m.ctstate)}${setOf(m.ctstate.values)}`);
  if (m.daddrType) parts.push(`fib daddr type ${neg(m.daddrType)}${setOf(m.daddrType.values)}`);
  if (m.inSet) parts.push(`${addrKeys(m.inSet.keys, m)} @${m.inSet.set}`);
  return parts.join(' ');
}

/** `ip saddr` / `ip6 saddr . ip6 daddr`: the family comes from the match. */
function addrKeys(keys: AddrKey[], m: Match): string {
  if (!m.family) throw new InternalError('addresses of a set or hash need a family');
  const ipw = m.family === 6 ? 'ip6' : 'ip';
  return keys.map((k) => `${ipw} ${k}`).join(' . ');
}

/** `0-3 : jump a, 4 : jump b`: consecutive buckets of one chain as a range. */
function bucketRanges(map: string[]): string {
  const out: string[] = [];
  for (let i = 0; i < map.length;) {
    let j = i;
    while (j + 1 < map.length && map[j + 1] === map[i]) j++;
    out.push(`${i === j ? i : `${i}-${j}`} : jump ${map[i]}`);
    i = j + 1;
  }
  return out.join(', ');
}

/** `x & and | xor` where the set bits lie inside the cleared ones (a masked set), else `& and ^ xor`. */
const bitwise = (field: string, a: { and: number; xor: number }) =>
  `${field} set ${field} & ${hex8(a.and)} ${(a.and & a.xor) === 0 ? '|' : '^'} ${hex8(a.xor)}`;

function renderAction(a: Action, m: Match): string {
  switch (a.kind) {
    case 'accept':
    case 'drop':
    case 'return':
      return a.kind;
    case 'jump':
    case 'goto':
      return `${a.kind} ${a.chain}`;
    case 'mark':
      return bitwise('meta mark', a);
    case 'ctmark':
      return bitwise('ct mark', a);
    case 'vmap': {
      const key = a.key === 'ctmark' ? 'ct mark' : a.key === 'mark' ? 'meta mark' : `${a.key}name`;
      const k = (v: string | number) => (typeof v === 'number' ? hex8(v) : quoted(v));
      const entries = a.entries.map((e) => `${k(e.key)} : ${e.verdict} ${e.chain}`).join(', ');
      return `${key}${a.mask !== undefined ? ` & ${hex8(a.mask)}` : ''} vmap { ${entries} }`;
    }
    case 'remember':
      return `update @${a.set} { ${addrKeys(a.keys, m)} }`;
    case 'balance': {
      if (a.map) {
        const keys: AddrKey[] = a.by === 'source-destination' ? ['saddr', 'daddr'] : ['saddr'];
        const key = a.by === 'random' ? `numgen random mod ${a.map.length}` : `jhash ${addrKeys(keys, m)} mod ${a.map.length} seed ${JHASH_SEED}`;
        return `${key} vmap { ${bucketRanges(a.map)} }`;
      }
      // `numgen random mod W` / `jhash … mod W` gives 0 … W-1; each chain gets a range as wide as its weight.
      let at = 0;
      const total = a.entries.reduce((n, e) => n + e.weight, 0);
      const entries = a.entries.map((e) => {
        const from = at;
        at += e.weight;
        return `${from === at - 1 ? from : `${from}-${at - 1}`} : jump ${e.chain}`;
      });
      const key = a.by === 'random' ? `numgen random mod ${total}` : `jhash ${m.family === 6 ? 'ip6' : 'ip'} saddr mod ${total} seed ${JHASH_SEED}`;
      return `${key} vmap { ${entries.join(', ')} }`;
    }
    case 'snat':
      if (m.family === 6) return `snat ip6 to [${a.to}]`;
      if (m.family === 4) return `snat ip to ${a.to}`;
      throw new InternalError('snat needs a family');
    case 'masquerade':
      return 'masquerade';
    case 'prefix-nat':
      return `${a.dir} ip6 prefix to ${a.to}`;
    case 'noop':
      // the one no-op multihome writes: a counter, for `multihome status`
      if (a.what === 'counter') return 'counter';
      throw new InternalError(`multihome does not write a ${a.what} statement`);
    case 'restore-mark':
    case 'save-mark':
    case 'dnat':
      throw new InternalError(`multihome does not write ${a.kind} rules`);
  }
}

function renderRule(r: ProgramRule): string {
  const words = [
    renderMatch(
      r.match,
      r.actions.some((a) => a.kind === 'snat' || a.kind === 'prefix-nat'),
    ),
    ...r.actions.map((a) => renderAction(a, r.match)),
  ].filter((w) => w !== '');
  return words.join(' ') + (r.comment ? ` comment ${quoted(r.comment)}` : '');
}

function renderChain(c: Chain): string[] {
  const L = [`\tchain ${c.name} {`];
  if (c.hook) L.push(`\t\ttype ${c.type ?? 'filter'} hook ${c.hook} priority ${priorityName(c)}; policy ${c.policy ?? 'accept'};`);
  for (const r of c.rules) L.push(`\t\t${renderRule(r)}`);
  L.push('\t}');
  return L;
}

function priorityName(c: Chain): string {
  const names: Record<number, string> = { [-150]: 'mangle', [-100]: 'dstnat', 0: 'filter', 100: 'srcnat' };
  return names[c.priority ?? 0] ?? String(c.priority);
}

/** A timeout as nft writes it: whole seconds as `600s`, else milliseconds. */
const nftTime = (ms: number): string => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

function renderSet(s: NftSet): string[] {
  const type = s.keys.map(() => (s.family === 6 ? 'ipv6_addr' : 'ipv4_addr')).join(' . ');
  return [`\tset ${s.name} {`, `\t\ttype ${type}`, '\t\tflags dynamic,timeout', `\t\ttimeout ${nftTime(s.timeout)}`, '\t}'];
}

/** The sets and chains, blank-line separated, tab-indented as `nft list` prints them. */
export function renderChains(p: Program): string {
  return [...(p.sets ?? []).map(renderSet), ...p.chains.map(renderChain)].map((l) => l.join('\n')).join('\n\n');
}

// The statements of an nft rule, by kind: matches (nft-matches.ts), verdicts,
// mark arithmetic, verdict maps (nft-vmap.ts), NAT, sticky-set updates.
import { formatPrefix, parsePrefix } from '../../net/ip.js';
import { ALL, type J, type NftRuleDraft } from './nft-draft.js';
import { onMatch } from './nft-matches.js';
import { describe, kindOf, linear, u, Unsupported } from './nft-values.js';
import { onVmap } from './nft-vmap.js';

/** `body` is what the statement holds (`{"mangle": body}`); `kind` its key. */
export type StatementHandler = (d: NftRuleDraft, body: unknown, kind: string) => void;

/** A prefix as the program writes it (canonical), or null. */
const readPrefixText = (t: string): string | null => {
  const r = parsePrefix(t);
  return r.ok ? formatPrefix(r.prefix) : null;
};

/** `meta mark set …`, `ct mark set …`: (x & and) ^ xor, or restore-mark / save-mark when it copies one into the other. */
function onMangle(d: NftRuleDraft, s: J): void {
  const key = s.key;
  const k = kindOf(key);
  const target = k ? ((key as J)[k] as J).key : undefined;
  const l = linear(s.value);
  if (target !== 'mark' || (k !== 'meta' && k !== 'ct')) throw new Unsupported(`set ${describe(key)}`);
  if (!l) throw new Unsupported(`${k} mark set ${describe(s.value)}`);
  const { actions } = d;
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

function onNat(d: NftRuleDraft, kind: 'snat' | 'dnat', s: J | null): void {
  const body = s ?? {};
  if (body.family === 'ip') d.setFamily(4);
  if (body.family === 'ip6') d.setFamily(6);
  const addr = body.addr;
  let to: string;
  const pre = kindOf(addr) === 'prefix' ? ((addr as J).prefix as J) : undefined;
  if (pre && (body.type_flags === 'prefix' || (Array.isArray(body.type_flags) && body.type_flags.includes('prefix')))) {
    // `snat ip6 prefix to P` (NPTv6): host bits kept
    const p = readPrefixText(`${String(pre.addr)}/${String(pre.len)}`);
    if (!p) throw new Unsupported(`${kind} prefix ${describe(addr)}`);
    d.actions.push({ kind: 'prefix-nat', dir: kind, to: p });
    return;
  }
  if (typeof addr === 'string') to = addr;
  else if (kindOf(addr) === 'range') {
    const [a, b] = (addr as J).range as unknown[];
    to = `${String(a)}-${String(b)}`;
    d.unsupported.push(`${kind} to an address range ${to}`);
  } else throw new Unsupported(`${kind} to ${describe(addr)}`);
  if (kind === 'snat') d.actions.push({ kind, to });
  else {
    const p = body.port;
    if (p !== undefined && typeof p !== 'number') d.unsupported.push(`dnat to ports ${describe(p)}`);
    d.actions.push({ kind, to, ...(typeof p === 'number' ? { port: p } : {}) });
  }
}

/** `update @s { ip saddr }` / `add @s { … }`: sticky memory. */
function onSetUpdate(d: NftRuleDraft, b: J): void {
  if ((b.op !== 'update' && b.op !== 'add') || typeof b.set !== 'string' || !b.set.startsWith('@')) throw new Unsupported(`set statement ${describe(b)}`);
  const elem = kindOf(b.elem) === 'elem' ? ((b.elem as J).elem as J).val : b.elem;
  d.actions.push({ kind: 'remember', set: d.ctx.chainName(b.set.slice(1)), keys: d.addrKeys(elem) });
}

const jumpTo =
  (verdict: 'jump' | 'goto'): StatementHandler =>
  (d, body) =>
    d.actions.push({ kind: verdict, chain: d.ctx.chainName(String((body as J).target)) });
const noop: StatementHandler = (d, _body, kind) => d.actions.push({ kind: 'noop', what: kind });

/** Statements that change the packet: no match may follow them. */
const changing =
  (handler: StatementHandler): StatementHandler =>
  (d, body, kind) => {
    handler(d, body, kind);
    d.changed = true;
  };

export const STATEMENTS: Record<string, StatementHandler> = {
  match: (d, body) => {
    if (d.changed) throw new Unsupported('a match after a statement that changes the packet');
    onMatch(d, body as J);
  },
  accept: (d) => d.actions.push({ kind: 'accept' }),
  drop: (d) => d.actions.push({ kind: 'drop' }),
  return: (d) => d.actions.push({ kind: 'return' }),
  // the packet goes no further; the error it answers with does not matter to routing
  reject: (d) => d.actions.push({ kind: 'drop' }),
  jump: jumpTo('jump'),
  goto: jumpTo('goto'),
  mangle: changing((d, body) => onMangle(d, body as J)),
  vmap: (d, body) => onVmap(d, body as J),
  snat: changing((d, body) => onNat(d, 'snat', body as J | null)),
  dnat: changing((d, body) => onNat(d, 'dnat', body as J | null)),
  masquerade: changing((d) => d.actions.push({ kind: 'masquerade' })),
  set: (d, body) => onSetUpdate(d, body as J),
  xt: (_d, body) => {
    const x = body as J;
    throw new Unsupported(`iptables-nft ${String(x.type)} ${String(x.name)} (nft -j does not show its options: import iptables-save for this table)`);
  },
  counter: noop,
  log: noop,
  comment: noop,
};

// iptables targets (`-j NAME OPTIONS…`) → Actions, one handler per target;
// a `-j` to a user chain is a jump, and any other target is named in
// `unsupported`.
import type { Family } from '../../net/ip.js';
import type { Action } from '../program.js';
import { readPrefix, u32 } from './common.js';
import { handlerOf } from './handlers.js';
import { ALL, markSpec, RuleSyntaxError, type IptRuleDraft } from './iptables-draft.js';

/** The options after `-j NAME`. */
class TargetOptions {
  constructor(readonly words: string[]) {}

  has(k: string): boolean {
    return this.words.includes(k);
  }

  /** The word after option k. */
  get(k: string): string | undefined {
    const at = this.words.indexOf(k);
    return at < 0 ? undefined : this.words[at + 1];
  }

  /** Option k's u32 value, or dflt without it. */
  num(k: string, dflt: number): number {
    const v = this.get(k);
    if (v === undefined) return dflt;
    const n = u32(v);
    if (n === null) throw new RuleSyntaxError(`cannot read ${k} "${v}"`);
    return n;
  }
}

type TargetHandler = (d: IptRuleDraft, opts: TargetOptions, name: string) => void;

/** xt_NAT's range "A[-B][:P[-Q]]" (IPv6 addresses in brackets) → addresses and ports. */
function natRange(v: string, family: Family): { first: string; last?: string; ports?: string } {
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

/** MARK and CONNMARK: mark arithmetic, or (CONNMARK) copying between the packet's mark and the connection's. */
function onMark(d: IptRuleDraft, opts: TargetOptions, name: string): void {
  const kind = name === 'MARK' ? 'mark' : 'ctmark';
  const arith = (and: number, xor: number): Action => ({ kind, and, xor });
  // libxt_MARK/libxt_CONNMARK: the kernel computes (mark & ~mask) ^ value
  const xmark = (v: string | undefined, orMask: boolean) => {
    const { value: val, mask } = markSpec(v!);
    return arith(~(orMask ? val | mask : mask) >>> 0, val);
  };
  const { actions } = d;
  if (opts.has('--set-xmark')) actions.push(xmark(opts.get('--set-xmark'), false));
  else if (opts.has('--set-mark')) actions.push(xmark(opts.get('--set-mark'), true));
  else if (opts.has('--and-mark')) actions.push(arith(markSpec(opts.get('--and-mark')!).value, 0));
  else if (opts.has('--or-mark')) {
    const v = markSpec(opts.get('--or-mark')!).value;
    actions.push(arith(~v >>> 0, v));
  } else if (opts.has('--xor-mark')) actions.push(arith(ALL, markSpec(opts.get('--xor-mark')!).value));
  else if (name === 'CONNMARK' && (opts.has('--save-mark') || opts.has('--restore-mark'))) {
    if (opts.has('--left-shift-mark') || opts.has('--right-shift-mark')) d.unsupported.push('CONNMARK with a shift');
    const both = opts.num('--mask', ALL);
    const a = { nfmask: opts.num('--nfmask', both), ctmask: opts.num('--ctmask', both) };
    actions.push(opts.has('--save-mark') ? { kind: 'save-mark', ...a } : { kind: 'restore-mark', ...a });
  } else throw new RuleSyntaxError(`${name} without an operation`);
}

function onNat(d: IptRuleDraft, opts: TargetOptions, name: string): void {
  const key = name === 'SNAT' ? '--to-source' : '--to-destination';
  const spec = opts.get(key);
  if (spec === undefined) throw new RuleSyntaxError(`${name} without ${key}`);
  if (opts.words.filter((o) => o === key).length > 1) d.unsupported.push(`${name} with several ${key}`);
  const r = natRange(spec, d.ctx.family);
  if (r.first === '') d.unsupported.push(`${name} to ports only`);
  if (r.last && r.last !== r.first) d.unsupported.push(`${name} to an address range ${r.first}-${r.last}`);
  const to = r.last && r.last !== r.first ? `${r.first}-${r.last}` : r.first;
  if (name === 'SNAT') d.actions.push({ kind: 'snat', to });
  else {
    const port = r.ports === undefined ? undefined : /^\d+$/.test(r.ports) ? Number(r.ports) : null;
    if (port === null) d.unsupported.push(`DNAT to a port range ${r.ports}`);
    d.actions.push({ kind: 'dnat', to, ...(typeof port === 'number' ? { port } : {}) });
  }
}

const noop: TargetHandler = (d, _opts, name) => d.actions.push({ kind: 'noop', what: name });

const TARGETS: Record<string, TargetHandler> = {
  ACCEPT: (d) => d.actions.push({ kind: 'accept' }),
  DROP: (d) => d.actions.push({ kind: 'drop' }),
  // the packet goes no further; the ICMP error it answers with does not matter to routing
  REJECT: (d) => d.actions.push({ kind: 'drop' }),
  RETURN: (d) => d.actions.push({ kind: 'return' }),
  LOG: noop,
  NFLOG: noop,
  ULOG: noop,
  TRACE: noop,
  MARK: onMark,
  CONNMARK: onMark,
  SNAT: onNat,
  DNAT: onNat,
  MASQUERADE: (d) => d.actions.push({ kind: 'masquerade' }),
};

/** `-j NAME` with the words after it. */
export function target(d: IptRuleDraft, name: string, opts: string[]): void {
  const handler = handlerOf(TARGETS, name);
  if (handler) handler(d, new TargetOptions(opts), name);
  else if (d.ctx.userChains.has(name)) d.actions.push({ kind: 'jump', chain: d.ctx.chainName(name) });
  else d.unsupported.push(`target ${[name, ...opts].join(' ')}`);
}

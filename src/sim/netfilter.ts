// Netfilter's part in a routing decision: the base chains of one hook run in
// priority order over the packet program (src/state/program.ts), setting the
// mark and the connection mark, and choosing NAT. Reference §3 (netfilter
// order, CONNMARK arithmetic). Pure.
import { formatAddress, parseAddress, parsePrefix, prefixContains, withPrefix, type Address, type Family } from '../net/ip.js';
import { JHASH_SEED, jhashBucket } from '../net/jhash.js';
import type { Action, AddrType, Chain, CtState, Hook, Match, Negatable, Program, ProgramRule } from '../state/program.js';
import type { TraceStep } from './types.js';

export interface NfPacket {
  family: Family;
  src: Address;
  dst: Address;
  proto: number;
  sport: number;
  dport: number;
  iif?: string;
  oif?: string;
  mark: number;
  ctmark: number;
  ctstate: CtState;
}

export interface NatChoice {
  kind: 'snat' | 'masquerade' | 'dnat';
  to?: string;
  port?: number;
  /** the rule that chose it */
  by: string;
}

export interface NfResult {
  verdict: 'accept' | 'drop';
  mark: number;
  ctmark: number;
  nat: NatChoice | null;
  /** the rule (policy) whose chain set the mark last */
  markedBy: string | null;
  /** the destination after DNAT */
  dst: Address;
}

export interface NfOptions {
  /** only chains of these types run (e.g. nat only for a new connection) */
  types: ('filter' | 'nat' | 'route')[];
  /** what the destination is to this host (`fib daddr type`) */
  addrType: (a: Address) => AddrType;
  trace: TraceStep[] | null;
}

const MAX_DEPTH = 64;
/** Rules one hook may evaluate for one packet before the simulator gives up (a looping program). */
const MAX_RULES_PER_HOOK = 100_000;
const prefixCache = new Map<string, ReturnType<typeof parsePrefix>>();
const cachedPrefix = (t: string) => {
  let p = prefixCache.get(t);
  if (!p) prefixCache.set(t, (p = parsePrefix(t)));
  return p;
};

const neg = <T>(n: Negatable<T> | undefined, test: (v: T) => boolean): boolean => {
  if (!n) return true;
  const hit = n.values.some(test);
  return n.not ? !hit : hit;
};

/** iptables "eth+" and nft "eth*" are prefix wildcards. */
const ifMatch = (pattern: string, dev: string | undefined): boolean => {
  if (dev === undefined) return false;
  if (pattern.endsWith('+') || pattern.endsWith('*')) return dev.startsWith(pattern.slice(0, -1));
  return pattern === dev;
};

const addrIn = (a: Address) => (text: string) => {
  const p = cachedPrefix(text);
  return p.ok && prefixContains(p.prefix, a);
};

const PORTED = new Set([6, 17, 33, 132, 136]);

function matches(m: Match, p: NfPacket, addrType: (a: Address) => AddrType): boolean {
  if (m.family !== undefined && m.family !== p.family) return false;
  if (m.saddr && !neg(m.saddr, addrIn(p.src))) return false;
  if (m.daddr && !neg(m.daddr, addrIn(p.dst))) return false;
  if (m.l4proto && !neg(m.l4proto, (v) => v === p.proto)) return false;
  if (m.sport && !(PORTED.has(p.proto) && neg(m.sport, (r) => p.sport >= r.from && p.sport <= r.to))) return false;
  if (m.dport && !(PORTED.has(p.proto) && neg(m.dport, (r) => p.dport >= r.from && p.dport <= r.to))) return false;
  if (m.iif && !neg(m.iif, (pat) => ifMatch(pat, p.iif))) return false;
  if (m.oif && !neg(m.oif, (pat) => ifMatch(pat, p.oif))) return false;
  if (m.mark && ((p.mark & m.mark.mask) >>> 0 === m.mark.value >>> 0) === Boolean(m.mark.not)) return false;
  if (m.ctmark && ((p.ctmark & m.ctmark.mask) >>> 0 === m.ctmark.value >>> 0) === Boolean(m.ctmark.not)) return false;
  if (m.ctstate && !neg(m.ctstate, (s) => s === p.ctstate)) return false;
  if (m.daddrType && !neg(m.daddrType, (t) => t === addrType(p.dst))) return false;
  // a dynamic set (sticky memory) fills with traffic: nothing in a dump says what it holds now
  if (m.inSet) return false;
  return true;
}

type Flow = 'continue' | 'accept' | 'drop' | 'return';

/** Chains by name and base chains per hook in priority order, built once per program. */
const indexes = new WeakMap<Program, { byName: Map<string, Chain>; hooks: Map<Hook, Chain[]> }>();
function indexOf(program: Program) {
  let ix = indexes.get(program);
  if (!ix) {
    const hooks = new Map<Hook, Chain[]>();
    for (const c of program.chains) if (c.hook) hooks.set(c.hook, [...(hooks.get(c.hook) ?? []), c]);
    for (const list of hooks.values()) list.sort((a, b) => (a.priority ?? 0) - (b.priority ?? 0));
    indexes.set(program, (ix = { byName: new Map(program.chains.map((c) => [c.name, c])), hooks }));
  }
  return ix;
}

/** Run every base chain of `hook` (for the packet's family) in priority order. */
export function runHook(program: Program | undefined, hook: Hook, pkt: NfPacket, opts: NfOptions): NfResult {
  const res: NfResult = { verdict: 'accept', mark: pkt.mark >>> 0, ctmark: pkt.ctmark >>> 0, nat: null, markedBy: null, dst: pkt.dst };
  if (!program) return res;
  const { byName, hooks } = indexOf(program);
  const base = (hooks.get(hook) ?? []).filter((c) => (!c.families || c.families.includes(pkt.family)) && opts.types.includes(c.type ?? 'filter'));
  const walk = new HookWalk(byName, pkt, opts, res);
  for (const c of base) {
    const f = walk.runRules(c, 0);
    if (f === 'drop' || (f !== 'accept' && c.policy === 'drop')) {
      opts.trace?.push({ stage: 'netfilter', text: `${c.name}: dropped` });
      res.verdict = 'drop';
      break;
    }
  }
  res.mark = walk.cur.mark;
  res.ctmark = walk.cur.ctmark;
  res.dst = walk.cur.dst;
  return res;
}

const label = (r: ProgramRule) => r.comment ?? r.origin ?? 'a rule';

/** One packet's walk through the chains of one hook: the packet as the rules change it, and what they decided. */
class HookWalk {
  readonly cur: NfPacket;
  /** the base chain's rule the walk is under (a mark set in a jumped-to chain is credited to it) */
  private topRule: ProgramRule | null = null;
  // The kernel refuses loops when a ruleset is loaded; an imported or edited one may still have
  // them, and jumps fanning out at every level would take forever: stop after this many rules.
  private budget = MAX_RULES_PER_HOOK;
  private readonly t: NfOptions['trace'];

  constructor(
    private readonly byName: Map<string, Chain>,
    pkt: NfPacket,
    private readonly opts: NfOptions,
    private readonly res: NfResult,
  ) {
    this.cur = { ...pkt };
    this.t = opts.trace;
  }

  runRules(c: Chain, depth: number): Flow {
    for (const r of c.rules) {
      if (--this.budget < 0) {
        if (this.budget === -1) this.t?.push({ stage: 'netfilter', text: `${c.name}: stopped after ${MAX_RULES_PER_HOOK} rules (the program loops)` });
        return 'continue';
      }
      if (!this.applies(c, r)) continue;
      if (depth === 0) this.topRule = r;
      for (const a of r.actions) {
        const f = this.act(a, r, c.name, depth);
        if (f !== 'continue') return f;
      }
    }
    return 'continue';
  }

  /** Whether the rule's actions run for this packet (an unsupported rule never does; the trace says so). */
  private applies(c: Chain, r: ProgramRule): boolean {
    const { cur, opts } = this;
    if (r.unsupported) {
      if (matches(r.match, cur, opts.addrType)) this.t?.push({ stage: 'netfilter', text: `${c.name}: not evaluated (${r.unsupported}): ${label(r)}` });
      return false;
    }
    if (matches(r.match, cur, opts.addrType)) return true;
    if (r.match.inSet && matches({ ...r.match, inSet: undefined }, cur, opts.addrType)) {
      this.t?.push({
        stage: 'netfilter',
        text: `${c.name}: sticky memory @${r.match.inSet.set} is not known here; assuming this ${r.match.inSet.keys.length === 2 ? 'source and destination are' : 'source is'} not remembered (${label(r)})`,
      });
    }
    return false;
  }

  private run(name: string, depth: number): Flow {
    const c = this.byName.get(name);
    if (!c || depth > MAX_DEPTH) return 'continue';
    return this.runRules(c, depth);
  }

  private act(a: Action, r: ProgramRule, chainName: string, depth: number): Flow {
    const cur = this.cur;
    switch (a.kind) {
      case 'accept':
      case 'drop':
      case 'return':
        return a.kind;
      case 'noop':
        return 'continue';
      case 'jump':
      case 'goto': {
        const f = this.run(a.chain, depth + 1);
        if (f === 'accept' || f === 'drop') return f;
        return a.kind === 'goto' ? 'return' : 'continue';
      }
      case 'vmap': {
        const key =
          a.key === 'ctmark'
            ? (cur.ctmark & (a.mask ?? 0xffffffff)) >>> 0
            : a.key === 'mark'
              ? (cur.mark & (a.mask ?? 0xffffffff)) >>> 0
              : a.key === 'iif'
                ? cur.iif
                : cur.oif;
        const e = a.entries.find((x) => x.key === key || (typeof x.key === 'string' && typeof key === 'string' && ifMatch(x.key, key)));
        return e ? this.act({ kind: e.verdict, chain: e.chain }, r, chainName, depth) : 'continue';
      }
      case 'mark':
        this.setMark(((cur.mark & a.and) ^ a.xor) >>> 0, r, chainName, '');
        return 'continue';
      case 'ctmark':
        cur.ctmark = ((cur.ctmark & a.and) ^ a.xor) >>> 0;
        return 'continue';
      case 'restore-mark':
        this.setMark(((cur.mark & ~a.nfmask) ^ (cur.ctmark & a.ctmask)) >>> 0, r, chainName, ' (restored from the connection)');
        return 'continue';
      case 'save-mark':
        cur.ctmark = ((cur.ctmark & ~a.ctmask) ^ (cur.mark & a.nfmask)) >>> 0;
        return 'continue';
      case 'remember':
        this.t?.push({
          stage: 'netfilter',
          text: `${chainName}: remembered in @${a.set} (the next connections of ${a.keys.length === 2 ? 'this source and destination' : 'this source'} take the same member until the timeout)`,
        });
        return 'continue';
      case 'balance':
        return this.balance(a, r, chainName, depth);
      case 'prefix-nat':
        return this.prefixNat(a, r, chainName);
      case 'snat':
      case 'masquerade':
      case 'dnat':
        return this.nat(a, r, chainName);
    }
  }

  /** A new packet mark, credited to the base chain's rule that led here. */
  private setMark(mark: number, r: ProgramRule, chainName: string, how: string): void {
    const before = this.cur.mark;
    this.cur.mark = mark;
    if (mark === before) return;
    this.res.markedBy = `${this.topRule ? label(this.topRule) : label(r)}${how}`;
    this.t?.push({ stage: 'netfilter', text: `${chainName}: mark ${hx(before)} → ${hx(mark)}${how ? ' restored from ctmark' : ` (${this.res.markedBy})`}` });
  }

  private balance(a: Extract<Action, { kind: 'balance' }>, r: ProgramRule, chainName: string, depth: number): Flow {
    const cur = this.cur;
    if (a.map && a.by !== 'random') {
      // jhash of the addresses picks the bucket, exactly as the kernel does (net/jhash.ts)
      const addrs = a.by === 'source-destination' ? [cur.src, cur.dst] : [cur.src];
      const b = jhashBucket(addrs, a.map.length, JHASH_SEED);
      const chain = a.map[b]!;
      this.t?.push({
        stage: 'netfilter',
        text: `${chainName}: ${a.by === 'source' ? 'source' : 'source and destination'} hash to bucket ${b} of ${a.map.length}: ${chain}`,
      });
      return this.act({ kind: 'jump', chain }, r, chainName, depth);
    }
    // The kernel picks per connection (numgen) or per source (jhash); the simulator follows the
    // first member and says which others the connection could take, with their shares.
    const total = a.entries.reduce((n, e) => n + e.weight, 0);
    this.t?.push({
      stage: 'netfilter',
      text: `${chainName}: balanced ${a.by === 'random' ? 'per connection' : 'per source address'} over ${a.entries.map((e) => `${e.chain} ${e.weight}/${total}`).join(', ')}; following ${a.entries[0]!.chain}`,
    });
    return this.act({ kind: 'jump', chain: a.entries[0]!.chain }, r, chainName, depth);
  }

  private prefixNat(a: Extract<Action, { kind: 'prefix-nat' }>, r: ProgramRule, chainName: string): Flow {
    const cur = this.cur;
    const p = cachedPrefix(a.to);
    if (!p.ok || p.prefix.family !== cur.family) return 'continue';
    const before = a.dir === 'snat' ? cur.src : cur.dst;
    const after = withPrefix(before, p.prefix);
    this.res.nat = { kind: a.dir, to: formatAddress(after), by: label(r) };
    if (a.dir === 'dnat') cur.dst = after;
    this.t?.push({
      stage: 'netfilter',
      text: `${chainName}: NPTv6 ${a.dir === 'snat' ? 'source' : 'destination'} ${formatAddress(before)} → ${formatAddress(after)} (prefix ${a.to}, ${label(r)})`,
    });
    return 'accept';
  }

  private nat(a: Extract<Action, { kind: 'snat' | 'masquerade' | 'dnat' }>, r: ProgramRule, chainName: string): Flow {
    this.res.nat = { kind: a.kind, ...(a.kind !== 'masquerade' ? { to: a.to } : {}), ...(a.kind === 'dnat' && a.port ? { port: a.port } : {}), by: label(r) };
    if (a.kind === 'dnat' && a.to) {
      const d = parseAddress(a.to);
      if (d) this.cur.dst = d;
    }
    this.t?.push({ stage: 'netfilter', text: `${chainName}: ${a.kind}${a.kind !== 'masquerade' ? ` to ${a.to}` : ''} (${label(r)})` });
    return 'accept';
  }
}

const hx = (n: number) => `0x${(n >>> 0).toString(16)}`;

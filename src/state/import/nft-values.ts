// Reading nftables JSON expressions: the right-hand sides of matches (single
// values, prefixes, ranges, anonymous and named sets) and mark arithmetic as
// a bitwise-linear form, so every `meta mark set …` / `ct mark set …` shape
// maps onto the program's (x & and) ^ xor, restore-mark and save-mark.
import type { Family } from '../../net/ip.js';
import type { PortSpan } from '../program.js';
import { programPrefix, protocolNumber, rangeToPrefixes, readPrefix } from './common.js';

type J = Record<string, unknown>;

/** A form the importer does not model; the rule is kept with this as its `unsupported`. */
export class Unsupported extends Error {}

/** Named sets and maps of a table, by name: their elements (maps: [key, value] pairs). */
export type SetElements = Map<string, unknown[]>;

const ALL = 0xffffffff;
export const u = (n: number): number => n >>> 0;

/** The one key of a JSON expression object (`{"meta": {…}}` → "meta"). */
export function kindOf(e: unknown): string | null {
  if (!e || typeof e !== 'object' || Array.isArray(e)) return null;
  const keys = Object.keys(e);
  return keys.length === 1 ? keys[0]! : null;
}

export const describe = (e: unknown): string => {
  const s = JSON.stringify(e);
  return s.length > 120 ? `${s.slice(0, 120)}…` : s;
};

/** The members a right-hand side stands for: a set's elements, a named set's, or itself. */
export function members(right: unknown, sets: SetElements): unknown[] {
  if (typeof right === 'string' && right.startsWith('@')) {
    const list = sets.get(right.slice(1));
    if (!list) throw new Unsupported(`set ${right} is not in the dump`);
    return list.map(unwrapElem);
  }
  if (Array.isArray(right)) return right.map(unwrapElem); // flags lists: ["established", "related"]
  if (kindOf(right) === 'set') {
    const s = (right as J).set;
    return (Array.isArray(s) ? s : [s]).map(unwrapElem);
  }
  return [unwrapElem(right)];
}

/** `{"elem": {"val": X, "timeout": …}}` → X */
export function unwrapElem(e: unknown): unknown {
  return kindOf(e) === 'elem' ? ((e as J).elem as J).val : e;
}

export function addresses(right: unknown, family: Family, sets: SetElements): string[] {
  const out: string[] = [];
  for (const m of members(right, sets)) {
    if (typeof m === 'string') {
      const p = readPrefix(m);
      if (!p || p.family !== family) throw new Unsupported(`address ${m}`);
      out.push(programPrefix(p));
    } else if (kindOf(m) === 'prefix') {
      const p = (m as J).prefix as J;
      const r = readPrefix(`${String(p.addr)}/${String(p.len)}`);
      if (!r || r.family !== family) throw new Unsupported(`prefix ${describe(m)}`);
      out.push(programPrefix(r));
    } else if (kindOf(m) === 'range') {
      const [a, b] = (m as J).range as unknown[];
      const list = rangeToPrefixes(String(a), String(b));
      if (!list || list[0]!.family !== family) throw new Unsupported(`address range ${describe(m)}`);
      out.push(...list.map(programPrefix));
    } else throw new Unsupported(`address ${describe(m)}`);
  }
  return out;
}

function port(v: unknown): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535) return v;
  if (typeof v === 'string' && /^\d{1,5}$/.test(v) && Number(v) <= 65535) return Number(v);
  throw new Unsupported(`port ${describe(v)}`);
}

/** Ports of a match; `op` may be a comparison (`tcp dport < 1024`). */
export function ports(op: string, right: unknown, sets: SetElements): PortSpan[] {
  switch (op) {
    case '<':
      return [{ from: 0, to: port(right) - 1 }];
    case '<=':
      return [{ from: 0, to: port(right) }];
    case '>':
      return [{ from: port(right) + 1, to: 65535 }];
    case '>=':
      return [{ from: port(right), to: 65535 }];
  }
  return members(right, sets).map((m) => {
    if (kindOf(m) === 'range') {
      const [a, b] = (m as J).range as unknown[];
      return { from: port(a), to: port(b) };
    }
    const p = port(m);
    return { from: p, to: p };
  });
}

export function strings(right: unknown, sets: SetElements, what: string): string[] {
  return members(right, sets).map((m) => {
    if (typeof m !== 'string') throw new Unsupported(`${what} ${describe(m)}`);
    return m;
  });
}

export function protocols(right: unknown, sets: SetElements): number[] {
  return members(right, sets).map((m) => {
    const n = typeof m === 'number' ? m : typeof m === 'string' ? protocolNumber(m) : null;
    if (n === null) throw new Unsupported(`protocol ${describe(m)}`);
    return n;
  });
}

/** value = (mark & mark_) ^ (ctmark & ctmark_) ^ c, all u32 */
export interface Linear {
  mark: number;
  ctmark: number;
  c: number;
}

const constant = (l: Linear): boolean => l.mark === 0 && l.ctmark === 0;
const support = (l: Linear): number => u(l.mark | l.ctmark | l.c);
const andConst = (l: Linear, k: number): Linear => ({ mark: u(l.mark & k), ctmark: u(l.ctmark & k), c: u(l.c & k) });
const xor = (a: Linear, b: Linear): Linear => ({ mark: u(a.mark ^ b.mark), ctmark: u(a.ctmark ^ b.ctmark), c: u(a.c ^ b.c) });

/** A mark expression as a Linear, or null when it is not one (numgen, jhash, maps, shifts). */
export function linear(e: unknown): Linear | null {
  if (typeof e === 'number') return { mark: 0, ctmark: 0, c: u(e) };
  if (typeof e === 'string' && /^(0x[0-9a-f]+|\d+)$/i.test(e)) return { mark: 0, ctmark: 0, c: u(Number(e)) };
  const k = kindOf(e);
  const body = k ? (e as J)[k] : undefined;
  if (k === 'meta' && (body as J).key === 'mark') return { mark: ALL, ctmark: 0, c: 0 };
  if (k === 'ct' && (body as J).key === 'mark') return { mark: 0, ctmark: ALL, c: 0 };
  if ((k === '&' || k === '|' || k === '^') && Array.isArray(body) && body.length >= 2) {
    const parts = body.map(linear);
    if (parts.some((p) => p === null)) return null;
    let acc = parts[0]!;
    for (const p of parts.slice(1) as Linear[]) {
      if (k === '^') acc = xor(acc, p);
      else if (k === '&') {
        if (constant(p)) acc = andConst(acc, p.c);
        else if (constant(acc)) acc = andConst(p, acc.c);
        else return null;
      } else {
        // x | k = (x & ~k) ^ k; two fields or-ed are linear only when their bits do not overlap
        if (constant(p)) acc = xor(andConst(acc, u(~p.c)), p);
        else if (constant(acc)) acc = xor(andConst(p, u(~acc.c)), acc);
        else if ((support(acc) & support(p)) === 0) acc = xor(acc, p);
        else return null;
      }
    }
    return acc;
  }
  return null;
}

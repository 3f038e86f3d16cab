// The nft rule being imported: what its statements have made of it so far
// (match, actions, what was not modelled) and the rules every match and
// statement handler keeps to — one address family per rule, one match per
// field, a port match implying its protocol.
import type { Family } from '../../net/ip.js';
import type { Action, AddrKey, Match, ProgramRule } from '../program.js';
import { describe, kindOf, Unsupported, type SetElements } from './nft-values.js';

/** A JSON object of `nft -j` output. */
export type J = Record<string, unknown>;

export const ALL = 0xffffffff;

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

/** Tables whose rules see both families: a family match narrows them. */
export const multiFamily = (tableFamily: string): boolean => tableFamily === 'inet' || tableFamily === 'bridge' || tableFamily === 'netdev';

export class NftRuleDraft {
  readonly match: Match = {};
  readonly actions: Action[] = [];
  readonly unsupported: string[] = [];
  /** a statement before this point may have changed the packet */
  changed = false;

  constructor(readonly ctx: NftRuleContext) {}

  setFamily(f: Family): void {
    if (!multiFamily(this.ctx.tableFamily)) return; // the table's own
    if (this.match.family !== undefined && this.match.family !== f) throw new Unsupported('matches on both IPv4 and IPv6');
    this.match.family = f;
  }

  put<K extends keyof Match>(key: K, v: NonNullable<Match[K]>): void {
    if (this.match[key] !== undefined) throw new Unsupported(`a second match on ${key}`);
    this.match[key] = v;
  }

  impliedProtocol(n: number): void {
    const p = this.match.l4proto;
    if (!p || (!p.not && p.values.includes(n)) || (p.not && !p.values.includes(n))) this.match.l4proto = { values: [n] };
    else throw new Unsupported('conflicting protocol matches');
  }

  /** `ip saddr` or `ip saddr . ip daddr` (payloads of one family): the keys, with the family set. */
  addrKeys(e: unknown): AddrKey[] {
    const parts = kindOf(e) === 'concat' ? ((e as J).concat as unknown[]) : [e];
    const keys: AddrKey[] = [];
    for (const x of parts) {
      const pl = kindOf(x) === 'payload' ? ((x as J).payload as J) : undefined;
      if (!pl || (pl.protocol !== 'ip' && pl.protocol !== 'ip6') || (pl.field !== 'saddr' && pl.field !== 'daddr'))
        throw new Unsupported(`addresses ${describe(e)}`);
      this.setFamily(pl.protocol === 'ip' ? 4 : 6);
      keys.push(pl.field);
    }
    return keys;
  }

  rule(): ProgramRule {
    return { match: this.match, actions: this.actions, ...(this.unsupported.length ? { unsupported: this.unsupported.join('; ') } : {}) };
  }
}

// The iptables rule being imported: the words being read (and where), what
// they have made of the rule so far, and the readers every option and target
// handler shares (a value, a mark, a negation, one match per field).
import type { Family } from '../../net/ip.js';
import type { Action, MaskedValue, Match, Negatable, ProgramRule } from '../program.js';
import { u32 } from './common.js';

/** A word the rule cannot be read with at all (not merely unmodelled): the line is in error. */
export class RuleSyntaxError extends Error {}

export interface IptRuleContext {
  family: Family;
  /** user chains of this table (a `-j NAME` to one of them is a jump) */
  userChains: Set<string>;
  /** the program's name for a chain of this table */
  chainName: (name: string) => string;
}

export const ALL = 0xffffffff;

/** "0x100" or "0x100/0xff00" (as xt_mark prints it): value and mask, the mask all ones when absent. */
export function markSpec(v: string): { value: number; mask: number } {
  const [a, b] = v.split('/');
  const value = u32(a!);
  const mask = b === undefined ? ALL : u32(b);
  if (value === null || mask === null) throw new RuleSyntaxError(`cannot read mark "${v}"`);
  return { value, mask };
}

export class IptRuleDraft {
  readonly match: Match = {};
  readonly actions: Action[] = [];
  readonly unsupported: string[] = [];
  comment: string | undefined;
  /** the last `-m` module: the options after it are its own */
  module: string | undefined;
  /** the `-p` protocol as written (6 and 17 read as tcp and udp) */
  proto: string | undefined;
  /** index of the word being read */
  at = 0;
  /** a `!` came just before this option */
  neg = false;

  constructor(
    readonly words: string[],
    readonly ctx: IptRuleContext,
  ) {}

  /** The word after option `w`, which it needs. */
  value(w: string): string {
    const v = this.words[++this.at];
    if (v === undefined) throw new RuleSyntaxError(`"${w}" without a value`);
    return v;
  }

  /** The word after the one being read, if any. */
  peek(): string | undefined {
    return this.words[this.at + 1];
  }

  set<K extends keyof Match>(key: K, v: NonNullable<Match[K]>, what: string): void {
    if (this.match[key] !== undefined) this.unsupported.push(`a second ${what} match`);
    else this.match[key] = v;
  }

  negatable<T>(values: T[]): Negatable<T> {
    return this.neg ? { values, not: true } : { values };
  }

  masked(v: string): MaskedValue {
    return { ...markSpec(v), ...(this.neg ? { not: true } : {}) };
  }

  rule(): ProgramRule {
    return {
      match: this.match,
      actions: this.actions,
      ...(this.comment !== undefined ? { comment: this.comment } : {}),
      ...(this.unsupported.length ? { unsupported: this.unsupported.join('; ') } : {}),
    };
  }
}

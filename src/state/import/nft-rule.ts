// One rule of `nft -j list ruleset` (its `expr` list) → ProgramRule. Matches
// become Match fields, statements become Actions; what the program cannot
// hold is named in `unsupported` and the rest is still kept. Each statement
// kind has its handler (nft-statements.ts); they build the rule in a draft
// (nft-draft.ts).
import type { ProgramRule } from '../program.js';
import { handlerOf } from './handlers.js';
import { NftRuleDraft, type J, type NftRuleContext } from './nft-draft.js';
import { STATEMENTS } from './nft-statements.js';
import { describe, kindOf, Unsupported } from './nft-values.js';

export type { NftRuleContext } from './nft-draft.js';

export function nftRule(expr: unknown[], ctx: NftRuleContext): ProgramRule {
  const d = new NftRuleDraft(ctx);
  for (const stmt of expr) {
    const k = kindOf(stmt);
    try {
      const handler = handlerOf(STATEMENTS, k);
      if (k === null || !handler) throw new Unsupported(`statement ${k ?? describe(stmt)}`);
      handler(d, (stmt as J)[k], k);
    } catch (e) {
      if (!(e instanceof Unsupported)) throw e;
      d.unsupported.push(e.message);
      if (k !== 'match') d.changed = true; // an unknown statement may have changed anything
    }
  }
  return d.rule();
}

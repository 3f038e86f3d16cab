// A plan as an ordered list of kernel steps. Order never blackholes traffic:
// tables are filled before the rules that send traffic to them, new objects
// come before old ones are removed, and on teardown marking stops first.
import type { Family } from '../net/ip.js';
import { routeArgs, ruleArgs } from '../state/format.js';
import type { Plan } from './plan.js';

export type Step =
  | { kind: 'sysctl'; key: string; value: string }
  | { kind: 'ip'; family: Family; lines: string[][] }
  | { kind: 'nft-load'; script: string }
  | { kind: 'nft-restore'; json: string }
  | { kind: 'nft-delete' };

export interface StepOptions {
  /** teardown (down, or a revert to "nothing"): stop marking first, restore sysctls last */
  teardown?: boolean;
  /** the previous table as `nft -j` printed it, used when the plan re-creates a table that has no script */
  nftRestoreJson?: string | null;
}

const FAMILIES: Family[] = [4, 6];

function ipAdds(p: Plan): Step[] {
  return FAMILIES.flatMap((f): Step[] => {
    const lines = [
      ...p.routes.add.filter((r) => r.family === f).map((r) => ['route', 'add', ...routeArgs(r)]),
      ...p.routes.replace.filter((c) => c.to.family === f).map((c) => ['route', 'replace', ...routeArgs(c.to)]),
      ...p.rules.add.filter((r) => r.family === f).map((r) => ['rule', 'add', ...ruleArgs(r)]),
    ];
    return lines.length ? [{ kind: 'ip', family: f, lines }] : [];
  });
}

function ipDels(p: Plan): Step[] {
  return FAMILIES.flatMap((f): Step[] => {
    const lines = [
      ...p.rules.del.filter((r) => r.family === f).map((r) => ['rule', 'del', ...ruleArgs(r)]),
      ...p.routes.del.filter((r) => r.family === f).map((r) => ['route', 'del', ...routeArgs(r, true)]),
    ];
    return lines.length ? [{ kind: 'ip', family: f, lines }] : [];
  });
}

function nftSteps(p: Plan, opts: StepOptions): Step[] {
  switch (p.nft.action) {
    case 'none':
      return [];
    case 'delete':
      return [{ kind: 'nft-delete' }];
    case 'create':
    case 'replace': {
      if (p.nft.to.script) return [{ kind: 'nft-load', script: p.nft.to.script }];
      if (opts.nftRestoreJson) return [{ kind: 'nft-restore', json: opts.nftRestoreJson }];
      throw new Error('an nftables table to load has neither a script nor a saved copy');
    }
  }
}

export function stepsOf(p: Plan, opts: StepOptions = {}): Step[] {
  const sysctls: Step[] = p.sysctls.map((s) => ({ kind: 'sysctl', key: s.key, value: s.to }));
  if (opts.teardown) return [...nftSteps(p, opts), ...ipAdds(p), ...ipDels(p), ...sysctls];
  return [...sysctls, ...ipAdds(p), ...nftSteps(p, opts), ...ipDels(p)];
}

// A plan as an ordered list of kernel steps. Order never blackholes traffic:
// tables are filled before the rules that send traffic to them, new objects
// come before old ones are removed, and on teardown marking stops first.
import type { Family } from '../net/ip.js';
import type { IpOp, Step } from '../state/steps.js';
import type { Plan } from './plan.js';

export type { Step } from '../state/steps.js';

export interface StepOptions {
  /** teardown (down, or a revert to "nothing"): stop marking first, restore sysctls last */
  teardown?: boolean;
  /** the previous table as `nft -j` printed it, used when the plan re-creates a table that has no script */
  nftRestoreJson?: string | null;
}

const FAMILIES: Family[] = [4, 6];

function ipAdds(p: Plan): Step[] {
  return FAMILIES.flatMap((f): Step[] => {
    const ops: IpOp[] = [
      ...p.routes.add.filter((r) => r.family === f).map((route): IpOp => ({ op: 'add', route })),
      ...p.routes.replace.filter((c) => c.to.family === f).map((c): IpOp => ({ op: 'replace', route: c.to })),
      ...p.rules.add.filter((r) => r.family === f).map((rule): IpOp => ({ op: 'add', rule })),
    ];
    return ops.length ? [{ kind: 'ip', family: f, ops }] : [];
  });
}

function ipDels(p: Plan): Step[] {
  return FAMILIES.flatMap((f): Step[] => {
    const ops: IpOp[] = [
      ...p.rules.del.filter((r) => r.family === f).map((rule): IpOp => ({ op: 'del', rule })),
      ...p.routes.del.filter((r) => r.family === f).map((route): IpOp => ({ op: 'del', route })),
    ];
    return ops.length ? [{ kind: 'ip', family: f, ops }] : [];
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
  const sysctls: Step[] = p.sysctls.length ? [{ kind: 'sysctl', settings: p.sysctls.map((s) => ({ key: s.key, value: s.to })) }] : [];
  if (opts.teardown) return [...nftSteps(p, opts), ...ipAdds(p), ...ipDels(p), ...sysctls];
  return [...sysctls, ...ipAdds(p), ...nftSteps(p, opts), ...ipDels(p)];
}

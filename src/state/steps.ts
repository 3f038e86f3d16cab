// Changes to kernel state as data: what apply/steps.ts plans and a KernelPort
// (src/kernel/port.ts) carries out, on the real kernel or on a fake one.
import type { Family } from '../net/ip.js';
import type { RouteState, RuleState } from './types.js';

/** One line of an `ip -batch`: a route or a rule added, replaced or deleted. */
export type IpOp = { op: 'add' | 'replace' | 'del'; route: RouteState } | { op: 'add' | 'del'; rule: RuleState };

export type Step =
  /** sysctls written in order by one `sysctl -w` (one process for 250 uplinks' keys, not 250) */
  | { kind: 'sysctl'; settings: { key: string; value: string }[] }
  /** one `ip -batch` per family: runs in order, stops at the first failing op */
  | { kind: 'ip'; family: Family; ops: IpOp[] }
  /** create or replace multihome's nft table from its script, in one transaction */
  | { kind: 'nft-load'; script: string }
  /** put back a table saved as `nft -j` printed it, in one transaction */
  | { kind: 'nft-restore'; json: string }
  | { kind: 'nft-delete' };

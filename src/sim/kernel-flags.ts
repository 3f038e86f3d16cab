// Kernel state that a dump of rules and routes does not show, but the IPv4
// lookup depends on. Each flag is set once and never cleared:
// - net->ipv4.fib_has_custom_rules (fib4_rule_configure, fib4_rule_delete):
//   a rule has been added or deleted. Until then include/net/ip_fib.h
//   fib_lookup skips the rules and looks up table main, into which table
//   local is merged (one trie, fib_trie.c; fib_unmerge splits them), then
//   table default — and `ip route get` reports a local address from table main;
// - net->ipv4.fib_has_custom_local_routes (inet_rtm_newroute): a route of type
//   local has been added by hand.
// Both send fib_validate_source to its full check. Neither is visible once
// the custom rules or routes are gone again: State.hidden carries them when
// known (a probe, or whoever built the namespace); otherwise they are unknown.
import type { RouteState, RuleState, State } from '../state/types.js';

export interface FibFlags4 {
  /** true, false, or null: unknown (the rules are the defaults, which they also are after an add and a delete) */
  customRules: boolean | null;
  customLocalRoutes: boolean | null;
}

/** The kernel's own IPv4 rules, in their order: 0 local, 32766 main, 32767 default. */
const DEFAULTS: [number, number][] = [
  [0, 255],
  [32766, 254],
  [32767, 253],
];

/** The rules are exactly the kernel's defaults (an empty list is not: a dump without rules says nothing). */
function defaultRules4(rules4: RuleState[]): boolean {
  return (
    rules4.length === DEFAULTS.length &&
    rules4.every(
      (r, i) =>
        r.pref === DEFAULTS[i]![0] &&
        r.action === 'lookup' &&
        r.table === DEFAULTS[i]![1] &&
        Object.keys(r).every((k) => ['family', 'pref', 'action', 'table', 'protocol'].includes(k)),
    )
  );
}

/** A route of type local that the kernel did not add for an address (iproute2 adds with proto boot). */
const handMadeLocal = (r: RouteState) => r.family === 4 && r.type === 'local' && r.protocol !== 2;

export function fibFlags4(state: State, rules4: RuleState[]): FibFlags4 {
  return {
    customRules: defaultRules4(rules4) ? (state.hidden?.customRules4 ?? null) : true,
    customLocalRoutes: state.routes.some(handMadeLocal) ? true : (state.hidden?.customLocalRoutes4 ?? null),
  };
}

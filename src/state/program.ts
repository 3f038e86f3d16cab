// The packet program: what netfilter does to a packet that matters for routing
// (marks, connection marks, NAT), as plain data. multihome's compile produces
// it (and renders it to nft), importers read it from iptables-save / nft -j,
// and the simulator interprets it. Only what routing depends on is modelled;
// a rule the importer cannot represent is kept with `unsupported` so the
// simulator can say that it did not evaluate it.
import type { Family } from '../net/ip.js';

/** Where in the packet path a base chain runs. */
export type Hook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';

/** A set of values with an optional negation: `ip saddr != { … }`. */
export interface Negatable<T> {
  values: T[];
  not?: boolean;
}

export interface PortSpan {
  from: number;
  to: number;
}

/** A bitwise test `(field & mask) == value` (or !=). */
export interface MaskedValue {
  value: number;
  mask: number;
  not?: boolean;
}

export type CtState = 'new' | 'established' | 'related' | 'invalid' | 'untracked';
/** `fib daddr type`: what the destination is to this host. */
export type AddrType = 'local' | 'broadcast' | 'multicast' | 'unicast';

/** Every field present must match (AND); an absent field matches anything. */
export interface Match {
  /** nfproto: the rule only applies to this family */
  family?: Family;
  /** canonical prefixes ("10.0.0.0/8", "2001:db8::/32"); the family comes from the address */
  saddr?: Negatable<string>;
  daddr?: Negatable<string>;
  /** IP protocol numbers (tcp 6, udp 17, …) */
  l4proto?: Negatable<number>;
  sport?: Negatable<PortSpan>;
  dport?: Negatable<PortSpan>;
  /** interface names; a trailing "+" (iptables) or "*" (nft) is a prefix wildcard */
  iif?: Negatable<string>;
  oif?: Negatable<string>;
  mark?: MaskedValue;
  ctmark?: MaskedValue;
  ctstate?: Negatable<CtState>;
  daddrType?: Negatable<AddrType>;
  /** the packet's address (or addresses, concatenated) is in a named set: `ip saddr @s`, `ip saddr . ip daddr @s` */
  inSet?: { keys: AddrKey[]; set: string };
}

/** Which addresses a set holds or a hash takes, in order. */
export type AddrKey = 'saddr' | 'daddr';

/** A named dynamic set (multihome's sticky memory), filled by `remember`; entries expire after `timeout` ms (0: none by default). */
export interface NftSet {
  name: string;
  family: Family;
  keys: AddrKey[];
  timeout: number;
}

export type Action =
  | { kind: 'accept' }
  | { kind: 'drop' }
  | { kind: 'return' }
  | { kind: 'jump'; chain: string }
  | { kind: 'goto'; chain: string }
  /** mark = (mark & and) ^ xor — iptables MARK --set-xmark and nft `meta mark set meta mark & A | B` both fit */
  | { kind: 'mark'; and: number; xor: number }
  | { kind: 'ctmark'; and: number; xor: number }
  /** CONNMARK --restore-mark: mark = (mark & ~nfmask) ^ (ctmark & ctmask) */
  | { kind: 'restore-mark'; nfmask: number; ctmask: number }
  /** CONNMARK --save-mark: ctmark = (ctmark & ~ctmask) ^ (mark & nfmask) */
  | { kind: 'save-mark'; nfmask: number; ctmask: number }
  /** a verdict map: look `key` up, jump/goto the chain it names; no entry → next rule */
  | { kind: 'vmap'; key: 'ctmark' | 'mark' | 'iif' | 'oif'; mask?: number; entries: { key: string | number; verdict: 'jump' | 'goto'; chain: string }[] }
  /**
   * Balance new connections over chains by weight: at random (each connection then keeps its
   * choice through the connection mark), or by a hash of the source address (or source and
   * destination: each keeps one). A hash picks one of `map.length` buckets and `map` names each
   * bucket's chain (multihome's minimal-move bucket maps); without `map`, each entry takes a
   * range of the hash as wide as its weight.
   */
  | { kind: 'balance'; by: 'random' | 'source' | 'source-destination'; entries: { weight: number; chain: string }[]; map?: string[] }
  /** `update @set { ip saddr }`: add the packet's addresses to a dynamic set, or restart their timeout */
  | { kind: 'remember'; set: string; keys: AddrKey[] }
  | { kind: 'snat'; to: string }
  /** NPTv6 (RFC 6296 as nft does it): the source (snat) or destination (dnat) gets prefix `to`, keeping its host bits */
  | { kind: 'prefix-nat'; dir: 'snat' | 'dnat'; to: string }
  | { kind: 'masquerade' }
  | { kind: 'dnat'; to: string; port?: number }
  /** counters, logs, comments: no effect on routing */
  | { kind: 'noop'; what: string };

export interface ProgramRule {
  match: Match;
  actions: Action[];
  comment?: string;
  /** where it came from: an iptables-save line, an nft handle, a policy name */
  origin?: string;
  /** set when the importer met a match or action it cannot model; the simulator reports it */
  unsupported?: string;
}

export interface Chain {
  /** unique in the program: "table/chain" for imports, the chain name for multihome's own */
  name: string;
  /** base chains only */
  hook?: Hook;
  /** filter / nat / route (nft types; iptables: mangle → route in OUTPUT, filter elsewhere) */
  type?: 'filter' | 'nat' | 'route';
  /** netfilter priority; lower runs first (mangle -150, dstnat -100, srcnat 100) */
  priority?: number;
  /** which families the base chain sees (an inet table: both) */
  families?: Family[];
  policy?: 'accept' | 'drop';
  rules: ProgramRule[];
}

export interface Program {
  chains: Chain[];
  /** named sets (multihome's sticky memory); absent: none */
  sets?: NftSet[];
}

/** nft/iptables priorities by name. */
export const PRIORITY = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 } as const;

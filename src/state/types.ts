// One State type for kernel routing state in every role: desired (compiled),
// current (read from the kernel), imported (from a dump) and simulated. Plain
// data, JSON-serialisable, normalised so that equal kernel state is equal data:
// numeric tables/protocols, canonical prefixes, explicit defaults.
import type { Family } from '../net/ip.js';
import type { Program } from './program.js';

export { TABLE_IDS } from '../ids.js';

type RuleAction = 'lookup' | 'goto' | 'nop' | 'unreachable' | 'prohibit' | 'blackhole';

export interface RuleState {
  family: Family;
  pref: number;
  action: RuleAction;
  /** lookup target (numeric: main = 254, local = 255, default = 253) */
  table?: number;
  /** goto target pref */
  goto?: number;
  not?: boolean;
  /** canonical, as ip prints it: "10.0.0.0/8", a host as "10.0.0.1"; absent = all */
  from?: string;
  to?: string;
  fwmark?: number;
  /** present whenever fwmark is; 0xffffffff by default as the kernel does */
  fwmask?: number;
  iif?: string;
  oif?: string;
  tos?: number;
  ipproto?: number;
  sport?: { from: number; to: number };
  dport?: { from: number; to: number };
  uidrange?: { from: number; to: number };
  suppressPrefixlength?: number;
  suppressIfgroup?: number;
  /** rtnetlink protocol tag; 0 (unspec) when the adder gave none */
  protocol: number;
}

export type RouteType = 'unicast' | 'local' | 'broadcast' | 'anycast' | 'multicast' | 'blackhole' | 'unreachable' | 'prohibit' | 'throw' | 'nat';

export interface Nexthop {
  gateway?: string;
  dev?: string;
  weight: number;
  /** kernel flags such as "dead", "linkdown", "onlink" */
  flags: string[];
}

export interface RouteState {
  family: Family;
  table: number;
  /** "default", "10.0.0.0/8", "10.0.0.1" (host routes without length), as ip -json prints */
  dst: string;
  /**
   * IPv6 source-specific route (`ip -6 route add DST from PREFIX`): only packets
   * from this prefix use it, written as dst is; absent = from any source
   */
  from?: string;
  type: RouteType;
  /** IPv4 TOS / IPv6 none; 0 when unset */
  tos: number;
  /** 0 for IPv4 when unset; IPv6 defaults to 1024 */
  metric: number;
  /** rtnetlink protocol number */
  protocol: number;
  /** scope number: 0 global, 253 link, 254 host */
  scope: number;
  prefsrc?: string;
  /** single nexthop routes keep gateway/dev here; multipath uses `nexthops` */
  gateway?: string;
  dev?: string;
  flags: string[];
  nexthops?: Nexthop[];
}

/** multihome's own nftables table. */
export interface NftState {
  /** "inet multihome" */
  family: 'inet';
  name: string;
  /** fingerprint of the script that made it, kept in the table's comment */
  fingerprint: string;
  /** desired: the full script; current: absent (the kernel's JSON is kept in `json`) */
  script?: string;
  /** digest of the live table's structure (chains, rules without handles); current only */
  digest?: string;
  chains?: number;
  rules?: number;
}

export interface AddressState {
  family: Family;
  address: string;
  prefixlen: number;
  scope: string;
  peer?: string;
  /** what source selection reads: "secondary" (IPv4), "deprecated", "tentative", "optimistic", "temporary", "dadfailed" (IPv6); absent when none */
  flags?: string[];
}

export interface LinkState {
  name: string;
  index: number;
  up: boolean;
  carrier: boolean;
  group?: number;
  addresses: AddressState[];
}

/**
 * Kernel state that no dump shows: known only to whoever probed for it (an
 * `ip route get` can reveal it) or built the namespace; absent = unknown, and
 * the simulator then says in its trace where it could change the answer.
 */
interface HiddenState {
  /** net->ipv4.fib_has_custom_rules: an IPv4 rule has been added or deleted since the namespace began (it never clears) */
  customRules4?: boolean;
  /** net->ipv4.fib_has_custom_local_routes: a route of type local has been added by hand (it never clears) */
  customLocalRoutes4?: boolean;
}

export interface State {
  rules: RuleState[];
  routes: RouteState[];
  /** null: the table does not exist */
  nft: NftState | null;
  /** keys in slash form ("net/ipv4/conf/eth4/src_valid_mark") → value */
  sysctls: Record<string, string>;
  links: LinkState[];
  /** netfilter's part in routing: marks, connection marks, NAT (desired: multihome's own; read/imported: everything) */
  program?: Program;
  hidden?: HiddenState;
}

export const emptyState = (): State => ({ rules: [], routes: [], nft: null, sysctls: {}, links: [] });

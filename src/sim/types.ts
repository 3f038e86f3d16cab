// The simulator's input (a packet) and output (a decision with its trace).
import type { Family } from '../net/ip.js';

export interface Packet {
  family: Family;
  src: string;
  dst: string;
  /** IP protocol number; IPv4 default 17 (udp) as `ip route get` assumes, IPv6 default 0 */
  proto?: number;
  sport?: number;
  dport?: number;
  /** IPv4 TOS byte / IPv6 traffic class */
  tos?: number;
  /** input interface of a forwarded/received packet; absent = locally generated */
  iif?: string;
  /** socket mark (local) or the mark before PREROUTING (forwarded) */
  mark?: number;
  /** local origin only */
  uid?: number;
  /** local origin only: SO_BINDTODEVICE */
  oif?: string;
  /** the connection's mark when the packet belongs to a known connection (default: a new connection, ctmark 0) */
  ctmark?: number;
  ctstate?: 'new' | 'established' | 'related';
}

export type Outcome = 'forward' | 'local' | 'drop' | 'output';
export type Errno = 'ENETUNREACH' | 'EHOSTUNREACH' | 'EACCES' | 'EINVAL' | null;

export interface TraceStep {
  /** netfilter, rule, table, route, rp_filter, input, snat, … */
  stage: string;
  /** one line a network engineer reads at a glance */
  text: string;
  /** structured detail (rule pref, table id, route, mark before/after …) */
  detail?: Record<string, unknown>;
}

export interface NexthopChoice {
  gateway: string | null;
  dev: string | null;
  weight: number;
}

export interface Decision {
  /** forward (routed out), local (delivered to this host), output (locally generated, sent), drop */
  outcome: Outcome;
  error: Errno;
  /** the mark the routing decision used */
  mark: number;
  rule: { pref: number; text: string } | null;
  table: 'main' | 'local' | 'default' | number | null;
  route: string | null;
  dev: string | null;
  gateway: string | null;
  /** every nexthop the kernel may choose (multipath: the whole set) */
  nexthops: NexthopChoice[];
  /** the source address the packet leaves with after NAT (null: unchanged / not applicable) */
  snat: string | null;
  /** the source address of a locally generated packet before NAT */
  src: string | null;
  /** the multihome policy or imported rule that set the mark */
  policy: string | null;
  trace: TraceStep[];
}

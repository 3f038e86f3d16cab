// The kernel's own selftests (tools/testing/selftests/net/fib_rule_tests.sh and
// fib_tests.sh) as data: each script function becomes a scenario — setup
// commands, then phases of more setup and the `ip route get` checks the
// script makes, with what the script expects where it says. The runner
// (run.ts) installs a scenario in throw-away namespaces, asks the kernel and
// the simulator, and compares. Commands are argv (split on spaces here, never
// given to a shell); `PEER` stands for the peer namespace.
import { PROTOCOLS } from '../../src/net/ports.js';
import type { Family } from '../../src/net/ip.js';
import type { Packet } from '../../src/sim/types.js';

/**
 * One setup command: `ip -n NS …`, `ip -n PEER …`, sysctls written in NS, or a
 * wait until a device's carrier change has been processed (the script sleeps 1 s).
 */
export type Step = { ip: string[] } | { peer: string[] } | { sysctl: [string, string][] } | { carrier: [string, boolean] };

/** What the script checks on the output of one `ip route get` (or on all of a check's answers). */
export interface Expect {
  /** exit status 0 (an answer) or not (an error) */
  ok?: boolean;
  /** `grep -q "table N"` succeeds */
  table?: number;
  /** `grep -q "table N"` fails (an error counts as failing) */
  notTable?: number;
  /** every answer leaves by this device */
  dev?: string;
  /** across the check's answers, each of these devices is seen */
  devsSeen?: string[];
  /** across the check's answers, each of these tables is seen (an outcome that depends on the multipath hash) */
  tablesSeen?: number[];
  /** every answer gives this source (`prefsrc`) */
  prefsrc?: string;
  /** fibmatch: `grep -q linkdown` succeeds (true) or fails (false) */
  linkdown?: boolean;
  /** fibmatch: the nexthop on `dev` has (or, with `not`, lacks) all of `flags` */
  nexthopFlags?: { dev: string; flags: string[]; not?: boolean };
  /** fibmatch: the route the output shows (`grep -q "172.16.102.0/24 tos 0x10 via …"`) */
  route?: { dst: string; tos?: number; gateway?: string };
}

export interface Query {
  packet: Packet;
  /** `ip route get fibmatch`: the kernel answers with the FIB entry itself */
  fibmatch: boolean;
  /** the words after `ip route get`, as the report prints them */
  text: string;
}

export interface Check {
  /** the script's log_test message (made unique within the scenario) */
  name: string;
  /** one query, or the same query for many destinations (the mpath tests loop over 100) */
  queries: Query[];
  /** what the script expects; absent where it states nothing (the kernel and the simulator are still compared) */
  expect?: Expect;
  /** why the kernel this suite runs on may answer otherwise than the script expects (a fix it predates) */
  newerKernel?: string;
}

export interface Phase {
  setup: Step[];
  checks: Check[];
}

export interface Scenario {
  /** the selftest script transcribed, or `gaps`: the cases of issue 13's simulator gaps, in the same form */
  script: 'fib_rule_tests' | 'fib_tests' | 'gaps';
  /** the script's function */
  section: string;
  phases: Phase[];
}

const words = (s: string) => s.trim().split(/\s+/);

export const ip = (cmd: string): Step => ({ ip: words(cmd) });
export const peer = (cmd: string): Step => ({ peer: words(cmd) });
export const sysctl = (...kv: string[]): Step => ({ sysctl: kv.map((x) => x.split('=') as [string, string]) });

/**
 * A `dummy` device of the script: this machine has no dummy module, so a veth
 * whose peer (`p-NAME`) lives in the peer namespace, up, so the device has
 * carrier as a dummy does — and, as a dummy is, ready before the next command
 * (linkwatch has seen the carrier: else an IPv6 gateway on it may not be
 * reachable yet). Its MAC is fixed (the IPv6 link-local address derives from
 * it), so every run sees the same addresses.
 */
export function dummy(name: string, n: number): Step[] {
  const mac = `02:00:00:00:00:${n.toString(16).padStart(2, '0')}`;
  return [
    ip(`link add name ${name} address ${mac} type veth peer name p-${name} netns PEER`),
    ip(`link set dev ${name} up`),
    peer(`link set dev p-${name} up`),
    { carrier: [name, true] },
  ];
}

/** A veth NAME to PEER_NAME in the peer namespace, both up, ready (as dummy()). */
export const veth = (name: string, peerName: string): Step[] => [
  ip(`link add name ${name} type veth peer name ${peerName} netns PEER`),
  ip(`link set dev ${name} up`),
  peer(`link set dev ${peerName} up`),
  { carrier: [name, true] },
];

/** `ip address add CIDR dev DEV` for each address (IPv4 or IPv6, as the address says). */
export const addresses = (dev: string, ...cidrs: string[]): Step[] => cidrs.map((c) => ip(`address add ${c} dev ${dev}`));

/** dummy0 … dummy{n-1}, as the scripts number them. */
export const dummies = (n: number): Step[] => Array.from({ length: n }, (_, i) => dummy(`dummy${i}`, 0x10 + i)).flat();

/** `ip link set dev NAME up` of a dummy device: a dummy is ready at once, a veth once linkwatch has seen its carrier. */
export const up = (name: string): Step[] => [ip(`link set dev ${name} up`), { carrier: [name, true] }];

/**
 * `carrier on|off` of a dummy device: the veth peer up or down, then a wait
 * until the kernel has processed the change (linkwatch marks the routes
 * `linkdown` a moment later; the script sleeps a second).
 */
export const carrier = (name: string, on: boolean): Step[] => [peer(`link set dev p-${name} ${on ? 'up' : 'down'}`), { carrier: [name, on] }];

const num = (v: string) => Number(v);

/**
 * An `ip [-6] route get …` line of the script as a query: the same words the
 * kernel is asked (test/differential/oracle.ts routeGetWords) and the packet
 * the simulator is given. No `from` means a source-less lookup of this host.
 */
export function get(family: Family, text: string): Query {
  const w = words(text);
  const fibmatch = w[0] === 'fibmatch';
  if (fibmatch) w.shift();
  const p: Packet = { family, dst: w.shift()!, src: family === 4 ? '0.0.0.0' : '::' };
  for (let i = 0; i < w.length; i += 2) {
    const [k, v] = [w[i]!, w[i + 1]!];
    switch (k) {
      case 'from':
        p.src = v;
        break;
      case 'iif':
        p.iif = v;
        break;
      case 'oif':
        p.oif = v;
        break;
      case 'tos':
      case 'dsfield':
        p.tos = num(v);
        break;
      case 'mark':
        p.mark = num(v);
        break;
      case 'uid':
        p.uid = num(v);
        break;
      case 'ipproto':
        p.proto = PROTOCOLS[v] ?? num(v);
        break;
      case 'sport':
        p.sport = num(v);
        break;
      case 'dport':
        p.dport = num(v);
        break;
      default:
        throw new Error(`route get word ${k} is not transcribed`);
    }
  }
  return { packet: p, fibmatch, text };
}

export const get4 = (text: string) => get(4, text);
export const get6 = (text: string) => get(6, text);

/** A check of one query. */
export const check = (name: string, q: Query, expect?: Expect): Check => ({ name, queries: [q], ...(expect ? { expect } : {}) });

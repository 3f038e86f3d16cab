// Compare the kernel's `ip route get` answer with the simulator's Decision:
// the error, or the kind of result (unicast / local / broadcast), the table,
// and the device and gateway, which for multipath must be one of the
// simulator's nexthops (the kernel picks one by hash; the simulator gives the
// set). `ip route get` runs no netfilter, so the simulator gets a State
// without `program` and the packet's mark as it would be after PREROUTING.
// Not compared: the source address of the host's own packets (`prefsrc`);
// the simulator takes it from nexthop #0 of a multipath route where the
// kernel uses the chosen nexthop's, and gives none on the oif on-link fallback.
import { explain } from '../../src/sim/explain.js';
import type { Decision, Packet } from '../../src/sim/types.js';
import type { State } from '../../src/state/types.js';
import type { KernelAnswer } from './oracle.js';

/** rtm_type numbers as `ip -N` prints them. */
const RTN: Record<string, number> = { unicast: 1, local: 2, broadcast: 3, anycast: 4, multicast: 5, blackhole: 6, unreachable: 7, prohibit: 8, throw: 9 };
const TABLE_IDS: Record<string, number> = { main: 254, local: 255, default: 253 };

export interface SimAnswer {
  outcome: Decision['outcome'];
  error: string | null;
  table: number | null;
  type: number | null;
  dev: string | null;
  gateway: string | null;
  nexthops: { dev: string | null; gateway: string | null }[];
  /** multipath nexthops with which the packet fails instead (the outcome depends on the hash) */
  refused: { dev: string | null; gateway: string | null; error: string }[];
  route: string | null;
  rule: string | null;
  /** the answers when the hash picks another nexthop (Decision.alternatives) */
  alternatives: SimAnswer[];
}

/** The route type from the Decision's route text ("table local: broadcast 10.0.0.255 dev v0 …"). */
function routeType(route: string | null): number | null {
  if (!route) return null;
  const word = route.replace(/^table [^:]+: /, '').split(' ')[0]!;
  return RTN[word] ?? RTN.unicast!;
}

export function simAnswer(d: Decision): SimAnswer {
  return {
    outcome: d.outcome,
    error: d.error,
    table: d.table === null ? null : typeof d.table === 'number' ? d.table : TABLE_IDS[d.table]!,
    type: routeType(d.route),
    dev: d.dev,
    gateway: d.gateway,
    nexthops: d.nexthops.map((n) => ({ dev: n.dev, gateway: n.gateway })),
    refused: (d.refused ?? []).map((n) => ({ dev: n.dev, gateway: n.gateway, error: n.error })),
    route: d.route,
    rule: d.rule?.text ?? null,
    alternatives: (d.alternatives ?? []).map((a) => simAnswer(a.decision)),
  };
}

/** null when kernel and simulator agree (on the answer or, by the hash, one of its alternatives); otherwise what differs. */
export function disagreement(k: KernelAnswer, s: SimAnswer): string | null {
  const diff = directDisagreement(k, s);
  return diff !== null && s.alternatives.some((a) => directDisagreement(k, a) === null) ? null : diff;
}

function directDisagreement(k: KernelAnswer, s: SimAnswer): string | null {
  if (!k.ok) {
    if (s.error === k.error) return null;
    // The hash may have picked a nexthop with which the packet fails (Decision.refused).
    if (!s.error && s.refused.some((n) => n.error === k.error)) return null;
    return s.error ? `error: kernel ${k.error}, simulator ${s.error}` : `kernel ${k.error}, simulator ${s.outcome}`;
  }
  if (s.error) return `kernel answers (type ${k.type}), simulator ${s.error}`;
  if (s.outcome === 'drop') return `kernel answers (type ${k.type}), simulator drops without an error`;
  const diffs: string[] = [];
  if (s.outcome === 'local') {
    // Local delivery: route type local or broadcast; the kernel reports dev lo for input
    // (and for local output to a local address), the route's device for output broadcasts.
    if (k.type !== 2 && k.type !== 3) return `kernel type ${k.type}, simulator delivers locally`;
    if (s.type !== null && s.type !== k.type) diffs.push(`type: kernel ${k.type}, simulator ${s.type}`);
  } else {
    if (k.type !== 1) return `kernel type ${k.type}, simulator forwards`;
    const inSet = s.nexthops.some((n) => n.dev === k.dev && (n.gateway ?? null) === k.gateway);
    if (!inSet)
      diffs.push(
        `nexthop: kernel ${k.gateway ? `via ${k.gateway} ` : ''}dev ${k.dev}, simulator ${s.nexthops.map((n) => `${n.gateway ? `via ${n.gateway} ` : ''}dev ${n.dev}`).join(' | ') || 'none'}`,
      );
  }
  if (k.table !== s.table) diffs.push(`table: kernel ${k.table ?? 'none'}, simulator ${s.table ?? 'none'}`);
  return diffs.length > 0 ? diffs.join('; ') : null;
}

export interface CaseResult {
  packet: Packet;
  kernel: KernelAnswer;
  sim: SimAnswer;
  diff: string | null;
  trace: string[];
}

/** Run the simulator on one packet and compare it with the kernel's answer. */
export function compareCase(state: State, packet: Packet, kernel: KernelAnswer): CaseResult {
  let d: Decision;
  try {
    d = explain(state, packet);
  } catch (e) {
    const sim: SimAnswer = {
      outcome: 'drop',
      error: `simulator threw: ${(e as Error).message}`,
      table: null,
      type: null,
      dev: null,
      gateway: null,
      nexthops: [],
      refused: [],
      route: null,
      rule: null,
      alternatives: [],
    };
    return { packet, kernel, sim, diff: sim.error, trace: [] };
  }
  const sim = simAnswer(d);
  const diff = disagreement(kernel, sim);
  return { packet, kernel, sim, diff, trace: diff ? d.trace.map((t) => `${t.stage}: ${t.text}`) : [] };
}

// Does the simulator give the kernel's answer, and does the kernel give what
// the selftest script expects? The first reuses the differential test's
// comparison (test/differential/compare.ts: error, kind, table, nexthop in
// the simulator's set) and adds what these checks read besides: the source
// address the kernel picks for the host's own packet (`prefsrc`), and for
// `route get fibmatch` the FIB entry itself (prefix, table, nexthops).
import { canonicalAddress } from '../../src/net/ip.js';
import type { Decision } from '../../src/sim/types.js';
import { disagreement, simAnswer, type SimAnswer } from '../differential/compare.js';
import { answerOf, type J, type RawAnswer } from '../differential/oracle.js';
import type { Expect, Query } from './scenario.js';

type Hop = { dev: string | null; gateway: string | null; flags: string[] };

/** The nexthops of a kernel answer (a multipath fibmatch lists them under `nexthops`). */
function kernelHops(j: J): Hop[] {
  const one = (o: J): Hop => ({
    dev: typeof o.dev === 'string' ? o.dev : null,
    gateway: typeof o.gateway === 'string' ? canonicalAddress(o.gateway) : null,
    flags: Array.isArray(o.flags) ? (o.flags as string[]) : [],
  });
  return Array.isArray(j.nexthops) ? (j.nexthops as J[]).map(one) : [one(j)];
}

/** The destination of the simulator's route ("table main: unreachable 10.0.0.0/8 …" → "10.0.0.0/8"). */
function simRouteDst(route: string | null): string | null {
  if (!route) return null;
  const w = route.replace(/^table [^:]+: /, '').split(' ');
  return /^[0-9a-f.:/]+$|^default$/.test(w[0]!) ? w[0]! : (w[1] ?? null);
}

const hopText = (h: { dev: string | null; gateway: string | null }) => `${h.gateway ? `via ${h.gateway} ` : ''}dev ${h.dev}`;

/** fibmatch: the same FIB entry — prefix, table, kind — and the simulator's nexthops among the entry's. */
function fibmatchDiff(j: J, d: Decision): string | null {
  const sim = simAnswer(d);
  if (sim.error) return `kernel answers (fibmatch), simulator ${sim.error}`;
  const kernel = answerOf(j);
  if (String(j.dst) !== simRouteDst(sim.route)) return `fibmatch prefix: kernel ${String(j.dst)}, simulator ${simRouteDst(sim.route) ?? 'none'}`;
  if (kernel.table !== sim.table) return `table: kernel ${kernel.table}, simulator ${sim.table}`;
  if (sim.type !== null && kernel.type !== sim.type) return `type: kernel ${kernel.type}, simulator ${sim.type}`;
  const hops = kernelHops(j);
  const stray = sim.nexthops.filter((n) => !hops.some((h) => h.dev === n.dev && h.gateway === (n.gateway ?? null)));
  return stray.length > 0 ? `nexthops: kernel ${hops.map(hopText).join(' | ')}, simulator ${stray.map(hopText).join(' | ')}` : null;
}

/**
 * The source the kernel picks for the host's own packet (`prefsrc`) against
 * the simulator's. IPv6 prints the route's own choice (rt6_fill_node:
 * ip6_route_get_saddr) even when the query gives a source, which the packet
 * then keeps: only a source-less IPv6 query is compared.
 */
function sourceDiff(q: Query, j: J, d: Decision): string | null {
  if (q.packet.iif || typeof j.prefsrc !== 'string') return null;
  if (q.packet.family === 6 && q.packet.src !== '::') return null;
  const kernel = canonicalAddress(j.prefsrc);
  // Multipath: the source of the nexthop the kernel's hash picked.
  const hop = kernelHops(j)[0]!;
  const sim = d.sources?.find((s) => s.dev === hop.dev && s.gateway === hop.gateway)?.src ?? d.src;
  return sim === kernel ? null : `source: kernel ${kernel}, simulator ${sim ?? 'none'}`;
}

/**
 * The simulator's answer as `ip route get` gives it. `ip -6 route get … iif`
 * runs the input lookup only: a packet the simulator drops after a successful
 * lookup (IPv6 forwarding off: ip6_forward drops it) is the route the kernel prints.
 */
function asRouteGet(q: Query, d: Decision): SimAnswer {
  const s = simAnswer(d);
  if (q.packet.family === 6 && q.packet.iif && s.outcome === 'drop' && !s.error && s.table !== null) return { ...s, outcome: 'forward' };
  return s;
}

/** null when the simulator gives the kernel's answer to this query. */
export function queryDiff(q: Query, k: RawAnswer, d: Decision | Error): string | null {
  if (d instanceof Error) return `simulator threw: ${d.message}`;
  if (q.fibmatch && k.ok) return fibmatchDiff(k.json, d);
  const base = disagreement(k.ok ? answerOf(k.json) : k, asRouteGet(q, d));
  if (base || !k.ok) return base;
  return sourceDiff(q, k.json, d);
}

/** null when the kernel's answers are what the script expects. */
export function expectDiff(e: Expect, answers: RawAnswer[]): string | null {
  const ok = answers.filter((a): a is Extract<RawAnswer, { ok: true }> => a.ok).map((a) => a.json);
  const fails: string[] = [];
  if (e.ok !== undefined && ok.length !== (e.ok ? answers.length : 0))
    fails.push(e.ok ? 'expected an answer, the kernel gave an error' : 'expected an error, the kernel answered');
  if (e.table !== undefined && !(ok.length === answers.length && ok.every((j) => answerOf(j).table === e.table))) fails.push(`expected table ${e.table}`);
  if (e.notTable !== undefined && ok.some((j) => answerOf(j).table === e.notTable)) fails.push(`expected no table ${e.notTable}`);
  if (e.dev !== undefined && !(ok.length === answers.length && ok.every((j) => kernelHops(j).some((h) => h.dev === e.dev))))
    fails.push(`expected dev ${e.dev} in every answer`);
  if (e.devsSeen && !e.devsSeen.every((dev) => ok.some((j) => j.dev === dev))) fails.push(`expected each of ${e.devsSeen.join(', ')} among the answers`);
  if (e.prefsrc !== undefined && !(ok.length === answers.length && ok.every((j) => j.prefsrc === e.prefsrc)))
    fails.push(`expected source ${e.prefsrc} in every answer`);
  if (e.tablesSeen && !e.tablesSeen.every((t) => ok.some((j) => answerOf(j).table === t)))
    fails.push(`expected each of tables ${e.tablesSeen.join(', ')} among the answers`);
  if (
    e.linkdown !== undefined &&
    ok.some((j) => kernelHops(j).some((h) => h.flags.includes('linkdown')) || (j.flags as string[] | undefined)?.includes('linkdown')) !== e.linkdown
  )
    fails.push(`expected ${e.linkdown ? '' : 'no '}linkdown flag`);
  if (e.nexthopFlags) {
    const { dev, flags, not } = e.nexthopFlags;
    const has = ok.some((j) => kernelHops(j).some((h) => h.dev === dev && flags.every((f) => h.flags.includes(f))));
    if (has === Boolean(not)) fails.push(`expected the nexthop on ${dev} ${not ? 'without' : 'with'} ${flags.join(' ')}`);
  }
  if (e.route) {
    const r = e.route;
    const shows = ok.some(
      (j) =>
        j.dst === r.dst &&
        (r.tos === undefined || Number(j.tos ?? 0) === r.tos) &&
        (r.gateway === undefined || kernelHops(j).some((h) => h.gateway === r.gateway)),
    );
    if (!shows) fails.push(`expected the route ${r.dst}${r.tos ? ` tos ${r.tos}` : ''}${r.gateway ? ` via ${r.gateway}` : ''}`);
  }
  return fails.length > 0 ? fails.join('; ') : null;
}

// A decision as the short story a network engineer reads at a glance.
import type { Decision } from './types.js';

const ERRNO_TEXT: Record<string, string> = {
  ENETUNREACH: 'network unreachable',
  EHOSTUNREACH: 'no route to host',
  EACCES: 'prohibited',
  EINVAL: 'invalid (blackhole, martian or reverse-path check)',
};

function summary(d: Decision): string {
  if (d.outcome === 'local') return `delivered to this host${d.rule ? ` (rule ${d.rule.pref}, table ${d.table})` : ''}`;
  if (d.outcome === 'drop') {
    const why = d.error ? `${d.error}: ${ERRNO_TEXT[d.error] ?? ''}` : 'dropped';
    return `DROPPED — ${why}${d.rule ? `; rule ${d.rule.text}` : ''}${d.route ? `; route ${d.route}` : ''}`;
  }
  const via =
    d.nexthops.length > 1
      ? `one of ${d.nexthops.map((n) => `${n.gateway ?? 'on-link'} dev ${n.dev}`).join(' | ')}`
      : `${d.gateway ? `${d.gateway} ` : ''}dev ${d.dev}`;
  const source = d.snat ?? d.src;
  // Multipath: with some nexthops the packet fails instead (rp_filter judges the one the hash picks).
  const refused = d.refused?.length ? `; if the hash picks ${picks(d.refused)}: ${d.refused[0]!.error}` : '';
  // IPv6 suppress_ifgroup on multipath: with some picks the later rules decide.
  const others = (d.alternatives ?? []).map((a) => `; if the hash picks ${picks(a.picks)} (${a.why}): ${summary(a.decision)}`).join('');
  return `leaves via ${via}${source ? `, source ${source}` : ''} (table ${d.table}${d.policy ? `, ${d.policy}` : ''})${refused}${others}`;
}

const picks = (hops: { gateway: string | null; dev: string | null }[]) => hops.map((n) => `${n.gateway ?? 'on-link'} dev ${n.dev}`).join(' | ');

export function renderDecision(d: Decision): string {
  const width = Math.max(...d.trace.map((t) => t.stage.length), 6);
  const lines = d.trace.map((t) => `${t.stage.padEnd(width)}  ${t.text}`);
  lines.push(`${'result'.padEnd(width)}  ${summary(d)}`);
  return lines.join('\n');
}

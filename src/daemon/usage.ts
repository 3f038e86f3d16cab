// Bytes carried by metered providers, per quota period: the daemon samples the
// providers' nft counters (every packet of their connections, both directions)
// and adds what grew since the last sample. The counters start again from zero
// whenever the nft table is replaced (a failover, a reload), so a counter below
// its last sample counts from zero. The daemon also samples the table an apply
// replaces, from the apply's own read of it just before, so at most the traffic
// of the moment between that read and the replace goes uncounted. Pure: the
// daemon reads the counters and keeps the file.
import type { ResolvedConfig } from '../config/assign.js';
import type { QuotaPeriod } from '../config/schema.js';
import type { UsageRecord } from '../apply/statedir.js';

const pad = (n: number) => String(n).padStart(2, '0');

/** The period a time falls in, in the router's local time: "2026-12", "2026-12-03", "2026-W49" (ISO week). */
export function periodKey(period: QuotaPeriod, at: Date): string {
  const y = at.getFullYear();
  if (period === 'month') return `${y}-${pad(at.getMonth() + 1)}`;
  if (period === 'day') return `${y}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`;
  // ISO 8601 week: the week with the year's first Thursday is week 1
  const d = new Date(Date.UTC(y, at.getMonth(), at.getDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const first = new Date(Date.UTC(d.getUTCFullYear(), 0, 1));
  const week = Math.ceil(((d.getTime() - first.getTime()) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${pad(week)}`;
}

/**
 * What a counter grew by since its last sample: never sampled, nothing (a baseline: a daemon before
 * this one counted up to here); below the last sample, all of it (the table was replaced and counts
 * from zero); absent, nothing.
 */
function counterGrowth(before: number | undefined, now: number | undefined): number {
  if (now === undefined || before === undefined) return 0;
  return now >= before ? now - before : now;
}

type Dir = { packets: number; bytes: number };
/** Every provider's traffic since the daemon started, by direction: never goes backwards (the metrics' `_total`s). */
export interface Totals {
  total: Record<string, { in: Dir; out: Dir }>;
  last: Record<string, { in: Dir; out: Dir }>;
}

export function sampleTotals(t: Totals, counters: Record<string, { in?: Dir; out?: Dir }>): Totals {
  const total: Totals['total'] = {};
  const last: Totals['last'] = {};
  for (const name of new Set([...Object.keys(t.total), ...Object.keys(counters)])) {
    const prev = t.total[name] ?? { in: { packets: 0, bytes: 0 }, out: { packets: 0, bytes: 0 } };
    const before = t.last[name];
    const c = counters[name];
    const add = (d: 'in' | 'out'): Dir => ({
      packets: prev[d].packets + counterGrowth(before?.[d].packets ?? (c ? 0 : undefined), c?.[d]?.packets),
      bytes: prev[d].bytes + counterGrowth(before?.[d].bytes ?? (c ? 0 : undefined), c?.[d]?.bytes),
    });
    total[name] = { in: add('in'), out: add('out') };
    last[name] = { in: c?.in ?? { packets: 0, bytes: 0 }, out: c?.out ?? { packets: 0, bytes: 0 } };
  }
  return { total, last };
}

export interface Meter {
  usage: UsageRecord;
  /** the counter values of the last sample */
  last: Record<string, number>;
}

/** Add what each metered provider's counter grew by since the last sample; a new period starts from zero. */
export function sampleUsage(cfg: ResolvedConfig, m: Meter, counters: Record<string, { bytes: number }>, at: Date): Meter {
  const usage: UsageRecord = {};
  const last: Record<string, number> = {};
  for (const p of Object.values(cfg.providers)) {
    if (!p.metered) continue;
    const period = periodKey(p.quota?.period ?? 'month', at);
    const prev = m.usage[p.name];
    const base = prev && prev.period === period ? prev.bytes : 0;
    const now = counters[p.name]?.bytes;
    const before = m.last[p.name];
    const grew = counterGrowth(before, now);
    last[p.name] = now ?? 0; // no table (yet): the next one counts from zero
    usage[p.name] = { period, bytes: base + grew };
  }
  return { usage, last };
}

/** Metered providers whose quota is used up in the current period. */
export function exhausted(cfg: ResolvedConfig, usage: UsageRecord, at: Date): string[] {
  return Object.values(cfg.providers)
    .filter((p) => p.quota && usage[p.name]?.period === periodKey(p.quota.period, at) && usage[p.name]!.bytes >= p.quota.limit)
    .map((p) => p.name);
}

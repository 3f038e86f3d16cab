// The daemon's Prometheus metrics (prom-client, a registry of its own): what
// the daemon counts as it happens (probe RTTs, transitions, applies, repairs)
// and, at each scrape, gauges set from a snapshot of its state. Byte and packet
// totals come from the daemon's monotonic totals (usage.ts): they never go
// backwards, across failovers (the nft table is replaced) and reloads.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { HealthState } from '../health/machine.js';

export interface MetricsSnapshot {
  providers: {
    name: string;
    state: HealthState;
    latencyMs: number | null;
    loss: number | null;
    jitterMs: number | null;
    connections: number | null;
  }[];
  totals: Record<string, { in: { packets: number; bytes: number }; out: { packets: number; bytes: number } }>;
  groups: { name: string; active: string[]; members: string[] }[];
  copy: { lagMs: number | null; routes: number } | null;
}

const STATES: HealthState[] = ['up', 'degraded', 'down'];

export class Metrics {
  readonly registry = new Registry();
  private readonly up = new Gauge({ name: 'multihome_provider_up', help: 'Whether the provider can carry traffic (1) or is down (0).', labelNames: ['provider'], registers: [this.registry] });
  private readonly state = new Gauge({ name: 'multihome_provider_state', help: 'The provider\'s state: 1 for the state it is in.', labelNames: ['provider', 'state'], registers: [this.registry] });
  private readonly rtt = new Gauge({ name: 'multihome_provider_rtt_seconds', help: 'Mean probe round-trip time over the last 10 s.', labelNames: ['provider'], registers: [this.registry] });
  private readonly rttHist = new Histogram({
    name: 'multihome_provider_probe_rtt_seconds',
    help: 'Round-trip times of the answered probes.',
    labelNames: ['provider'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  private readonly loss = new Gauge({ name: 'multihome_provider_loss_ratio', help: 'Fraction of probes lost over the last 10 s.', labelNames: ['provider'], registers: [this.registry] });
  private readonly jitter = new Gauge({ name: 'multihome_provider_jitter_seconds', help: 'Mean difference of consecutive probe round-trip times over the last 10 s.', labelNames: ['provider'], registers: [this.registry] });
  private readonly transitions = new Counter({ name: 'multihome_provider_transitions_total', help: 'State changes of the provider.', labelNames: ['provider'], registers: [this.registry] });
  private readonly connections = new Gauge({ name: 'multihome_provider_connections', help: 'Connections (conntrack entries) carrying the provider\'s mark.', labelNames: ['provider'], registers: [this.registry] });
  private readonly bytes = new Counter({ name: 'multihome_provider_bytes_total', help: 'Bytes of the provider\'s connections, in (from its uplink) and out.', labelNames: ['provider', 'direction'], registers: [this.registry] });
  private readonly packets = new Counter({ name: 'multihome_provider_packets_total', help: 'Packets of the provider\'s connections, in (from its uplink) and out.', labelNames: ['provider', 'direction'], registers: [this.registry] });
  private readonly active = new Gauge({ name: 'multihome_group_active', help: 'Whether the group sends new connections to the provider now.', labelNames: ['group', 'provider'], registers: [this.registry] });
  private readonly applies = new Counter({ name: 'multihome_apply_total', help: 'Reconciles, by result.', labelNames: ['result'], registers: [this.registry] });
  private readonly repairs = new Counter({ name: 'multihome_drift_repairs_total', help: 'Changes others made to what multihome owns, put back.', registers: [this.registry] });
  private readonly copyLag = new Gauge({ name: 'multihome_route_copy_lag_seconds', help: 'How far the copy tables were behind main at the last change (routes: copy).', registers: [this.registry] });
  private readonly copyRoutes = new Gauge({ name: 'multihome_route_copy_routes', help: 'Routes of main copied into each copy table (routes: copy).', registers: [this.registry] });
  /** what the byte/packet counters were last exported at (prom-client counters only go up by increments) */
  private readonly exported = new Map<string, number>();

  constructor() {
    for (const r of ['ok', 'error']) this.applies.inc({ result: r }, 0);
    this.repairs.inc(0);
  }

  observeRtt(provider: string, ms: number): void {
    this.rttHist.observe({ provider }, ms / 1000);
  }

  /** Every provider's series exist from the start (a counter that appears only at its first increment would hide the first one). */
  providers(names: string[]): void {
    for (const provider of names) this.transitions.inc({ provider }, 0);
  }

  transition(provider: string): void {
    this.transitions.inc({ provider });
  }

  applied(ok: boolean): void {
    this.applies.inc({ result: ok ? 'ok' : 'error' });
  }

  repaired(): void {
    this.repairs.inc();
  }

  /** Raise a counter to an absolute total (never lowers it). */
  private raise(c: Counter, labels: Record<string, string>, total: number): void {
    const key = `${c === this.bytes ? 'b' : 'p'}/${labels.provider}/${labels.direction}`;
    const before = this.exported.get(key) ?? 0;
    if (total > before) {
      c.inc(labels, total - before);
      this.exported.set(key, total);
    } else if (!this.exported.has(key)) {
      c.inc(labels, 0);
      this.exported.set(key, 0);
    }
  }

  /** the providers and groups the gauges hold series for: cleared only when these change (a reload) */
  private shape = '';

  async render(s: MetricsSnapshot): Promise<string> {
    const shape = JSON.stringify([s.providers.map((p) => p.name), s.groups.map((g) => [g.name, g.members])]);
    if (shape !== this.shape) {
      for (const g of [this.up, this.state, this.rtt, this.loss, this.jitter, this.connections, this.active]) g.reset();
      this.shape = shape;
    }
    for (const p of s.providers) {
      const provider = p.name;
      this.up.set({ provider }, p.state === 'down' ? 0 : 1);
      for (const st of STATES) this.state.set({ provider, state: st }, p.state === st ? 1 : 0);
      // a value that is unknown now (no answers in the window) is no series, not a stale one
      const put = (g: Gauge, v: number | null) => (v === null ? g.remove({ provider }) : g.set({ provider }, v));
      put(this.rtt, p.latencyMs === null ? null : p.latencyMs / 1000);
      put(this.loss, p.loss);
      put(this.jitter, p.jitterMs === null ? null : p.jitterMs / 1000);
      put(this.connections, p.connections);
      const t = s.totals[provider] ?? { in: { packets: 0, bytes: 0 }, out: { packets: 0, bytes: 0 } };
      for (const direction of ['in', 'out'] as const) {
        this.raise(this.bytes, { provider, direction }, t[direction].bytes);
        this.raise(this.packets, { provider, direction }, t[direction].packets);
      }
    }
    for (const g of s.groups) for (const m of g.members) this.active.set({ group: g.name, provider: m }, g.active.includes(m) ? 1 : 0);
    if (s.copy) {
      if (s.copy.lagMs !== null) this.copyLag.set(s.copy.lagMs / 1000);
      this.copyRoutes.set(s.copy.routes);
    }
    return this.registry.metrics();
  }
}

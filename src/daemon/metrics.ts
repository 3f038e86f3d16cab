// The daemon's Prometheus metrics (prom-client, a registry of its own): what
// the daemon counts as it happens (probe RTTs, transitions, applies, repairs)
// and, at each scrape, gauges set from a snapshot of its state. Byte and packet
// totals come from the daemon's monotonic totals (usage.ts): they never go
// backwards, across failovers (the nft table is replaced) and reloads.
// A scrape renders again only the families whose values changed since the last
// one (a family's text is cached until one of its series is set to a new value):
// most of them (states, transitions, groups, totals between samples) do not
// change from one scrape to the next, and the rendering is most of a scrape's CPU.
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

const gauge = (registry: Registry, name: string, help: string, labelNames: string[]) => new Gauge({ name, help, labelNames, registers: [registry] });
const counter = (registry: Registry, name: string, help: string, labelNames: string[]) => new Counter({ name, help, labelNames, registers: [registry] });

export class Metrics {
  readonly registry = new Registry();
  private readonly up = gauge(this.registry, 'multihome_provider_up', 'Whether the provider can carry traffic (1) or is down (0).', ['provider']);
  private readonly state = gauge(this.registry, 'multihome_provider_state', "The provider's state: 1 for the state it is in.", ['provider', 'state']);
  private readonly rtt = gauge(this.registry, 'multihome_provider_rtt_seconds', 'Mean probe round-trip time over the last 10 s.', ['provider']);
  private readonly rttHist = new Histogram({
    name: 'multihome_provider_probe_rtt_seconds',
    help: 'Round-trip times of the answered probes.',
    labelNames: ['provider'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  private readonly loss = gauge(this.registry, 'multihome_provider_loss_ratio', 'Fraction of probes lost over the last 10 s.', ['provider']);
  private readonly jitter = gauge(
    this.registry,
    'multihome_provider_jitter_seconds',
    'Mean difference of consecutive probe round-trip times over the last 10 s.',
    ['provider'],
  );
  private readonly transitions = counter(this.registry, 'multihome_provider_transitions_total', 'State changes of the provider.', ['provider']);
  private readonly connections = gauge(this.registry, 'multihome_provider_connections', "Connections (conntrack entries) carrying the provider's mark.", [
    'provider',
  ]);
  private readonly bytes = counter(this.registry, 'multihome_provider_bytes_total', "Bytes of the provider's connections, in (from its uplink) and out.", [
    'provider',
    'direction',
  ]);
  private readonly packets = counter(
    this.registry,
    'multihome_provider_packets_total',
    "Packets of the provider's connections, in (from its uplink) and out.",
    ['provider', 'direction'],
  );
  private readonly active = gauge(this.registry, 'multihome_group_active', 'Whether the group sends new connections to the provider now.', [
    'group',
    'provider',
  ]);
  private readonly applies = counter(this.registry, 'multihome_apply_total', 'Reconciles, by result.', ['result']);
  private readonly repairs = counter(this.registry, 'multihome_drift_repairs_total', 'Changes others made to what multihome owns, put back.', []);
  private readonly copyLag = gauge(
    this.registry,
    'multihome_route_copy_lag_seconds',
    'How far the copy tables were behind main at the last change (routes: copy).',
    [],
  );
  private readonly copyRoutes = gauge(this.registry, 'multihome_route_copy_routes', 'Routes of main copied into each copy table (routes: copy).', []);
  /** what the byte/packet counters were last exported at (prom-client counters only go up by increments) */
  private readonly exported = new Map<string, number>();
  /** each family's text as last rendered, dropped when one of its values changes */
  private readonly text = new Map<object, string>();
  /** the value each gauge series was last set to, by gauge and labels */
  private readonly gaugeValues = new Map<Gauge, Map<string, number>>();

  constructor() {
    for (const r of ['ok', 'error']) this.applies.inc({ result: r }, 0);
    this.repairs.inc(0);
  }

  observeRtt(provider: string, ms: number): void {
    this.rttHist.observe({ provider }, ms / 1000);
    this.text.delete(this.rttHist);
  }

  /** Every provider's series exist from the start (a counter that appears only at its first increment would hide the first one). */
  providers(names: string[]): void {
    for (const provider of names) this.transitions.inc({ provider }, 0);
    this.text.delete(this.transitions);
  }

  transition(provider: string): void {
    this.transitions.inc({ provider });
    this.text.delete(this.transitions);
  }

  applied(ok: boolean): void {
    this.applies.inc({ result: ok ? 'ok' : 'error' });
    this.text.delete(this.applies);
  }

  repaired(): void {
    this.repairs.inc();
    this.text.delete(this.repairs);
  }

  /** Set a gauge series (null: remove it); its family renders again only if this changed it. */
  private put(g: Gauge, labels: Record<string, string>, v: number | null): void {
    let values = this.gaugeValues.get(g);
    if (!values) this.gaugeValues.set(g, (values = new Map<string, number>()));
    const key = JSON.stringify(labels);
    const before = values.get(key);
    if (v === null) {
      if (before === undefined) return;
      g.remove(labels);
      values.delete(key);
    } else {
      if (before === v) return;
      g.set(labels, v);
      values.set(key, v);
    }
    this.text.delete(g);
  }

  /** Raise a counter to an absolute total (never lowers it). */
  private raise(c: Counter, labels: Record<string, string>, total: number): void {
    const key = `${c === this.bytes ? 'b' : 'p'}/${labels.provider}/${labels.direction}`;
    const before = this.exported.get(key) ?? 0;
    if (total > before) {
      c.inc(labels, total - before);
      this.exported.set(key, total);
      this.text.delete(c);
    } else if (!this.exported.has(key)) {
      c.inc(labels, 0);
      this.exported.set(key, 0);
      this.text.delete(c);
    }
  }

  /** the providers and groups the gauges hold series for: cleared only when these change (a reload) */
  private shape = '';

  async render(s: MetricsSnapshot): Promise<string> {
    const shape = JSON.stringify([s.providers.map((p) => p.name), s.groups.map((g) => [g.name, g.members])]);
    if (shape !== this.shape) {
      for (const g of [this.up, this.state, this.rtt, this.loss, this.jitter, this.connections, this.active]) {
        g.reset();
        this.text.delete(g);
      }
      this.gaugeValues.clear();
      this.shape = shape;
    }
    for (const p of s.providers) {
      const provider = p.name;
      this.put(this.up, { provider }, p.state === 'down' ? 0 : 1);
      for (const state of STATES) this.put(this.state, { provider, state }, p.state === state ? 1 : 0);
      // a value that is unknown now (no answers in the window) is no series, not a stale one
      this.put(this.rtt, { provider }, p.latencyMs === null ? null : p.latencyMs / 1000);
      this.put(this.loss, { provider }, p.loss);
      this.put(this.jitter, { provider }, p.jitterMs === null ? null : p.jitterMs / 1000);
      this.put(this.connections, { provider }, p.connections);
      const t = s.totals[provider] ?? { in: { packets: 0, bytes: 0 }, out: { packets: 0, bytes: 0 } };
      for (const direction of ['in', 'out'] as const) {
        this.raise(this.bytes, { provider, direction }, t[direction].bytes);
        this.raise(this.packets, { provider, direction }, t[direction].packets);
      }
    }
    for (const g of s.groups) for (const m of g.members) this.put(this.active, { group: g.name, provider: m }, g.active.includes(m) ? 1 : 0);
    if (s.copy) {
      if (s.copy.lagMs !== null) this.put(this.copyLag, {}, s.copy.lagMs / 1000);
      this.put(this.copyRoutes, {}, s.copy.routes);
    }
    // the text format of Registry.metrics(): families in registration order, a blank line between them
    const families: string[] = [];
    for (const m of this.registry.getMetricsAsArray()) {
      let t = this.text.get(m);
      if (t === undefined) {
        t = await this.registry.getSingleMetricAsString(m.name);
        this.text.set(m, t);
      }
      families.push(t);
    }
    return `${families.join('\n\n')}\n`;
  }
}

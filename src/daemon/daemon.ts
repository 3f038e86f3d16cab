// `multihome run`: a reconciler. It holds one desired State — the config, each
// provider's health (probes) and the live facts (links, addresses) — and
// converges the kernel to it whenever any input changes:
//
//   probe results ─▶ health machines ─┐
//   link/address events ─▶ facts ─────┼─▶ compile ─▶ applyState ─▶ read back ─▶ status
//   rule/route/nft events (drift) ────┤      (one reconcile at a time, bursts coalesced)
//   reload, a periodic check ─────────┘
//
// A link that goes down makes its provider down at once (no waiting for the
// probes); its routes are left out while it is down and put back when it
// returns. Someone else's change to what multihome owns (a flushed table,
// deleted rules, `nft flush ruleset`) is just another difference to converge,
// logged as a repair. One provider's trouble never blocks the others: a route
// the kernel refuses (or a foreign route where it must go) takes that provider
// out and the rest is applied, nft program included. Connections pinned to a
// provider that went down are deleted from conntrack (by mark, never a flush)
// right after the nft program no longer sends new ones there.
import type { ResolvedConfig, ResolvedProvider } from '../config/assign.js';
import { compile } from '../compile/index.js';
import { viewOf, type SystemFacts } from '../compile/facts.js';
import { activeMembers } from '../compile/groups.js';
import { radvdConfig, raProviders } from '../compile/radvd.js';
import { startRadvd, type Radvd } from '../kernel/radvd.js';
import { linkDown, routeBlocker } from '../compile/links.js';
import { systemIssues } from '../compile/system-checks.js';
import { foreignMarkWarnings } from '../apply/foreign-marks.js';
import { ownershipOf } from '../apply/ownership.js';
import { linkWarnings, readFacts } from '../apply/session.js';
import { readUsage, writeUsage } from '../apply/statedir.js';
import { applyState, ConflictError, type ApplyResult, type Target } from '../apply/transaction.js';
import { ApplyError, formatIssue, UserError } from '../errors/index.js';
import { observe, snapshot, tick, type HealthMachine, type HealthSnapshot } from '../health/machine.js';
import type { EventBatch } from '../kernel/event-codec.js';
import type { EventWatch } from '../kernel/events.js';
import { IpBatchError } from '../kernel/write.js';
import { providerCounters, type ProviderCounter, type Snapshot } from '../kernel/read.js';
import type { Family } from '../net/ip.js';
import { routeText, ruleText } from '../state/format.js';
import type { LinkState, State } from '../state/types.js';
import type { Plan } from '../apply/plan.js';
import { FailbackControl } from './failback.js';
import { History, HISTORY_EVERY_MS } from './history.js';
import { Metrics, type MetricsSnapshot } from './metrics.js';
import { readToken, startWeb } from './web.js';
import { Webhook } from './webhook.js';
import type { Server } from 'node:http';
import { runHooks, type HookRunner } from './hooks.js';
import { loadConfig, type Loaded } from './load.js';
import { probeSource, startProber, type ProbeReport, type Prober } from './probers.js';
import { copyTablesOf, startRouteCopy, type RouteCopyHandle } from '../apply/route-copy.js';
import { stableJson } from '../util/json.js';
import { exhausted, sampleTotals, sampleUsage, type Meter, type Totals } from './usage.js';
import { kernelView, UNPROBED, type DaemonStatus, type KernelView, type ProviderStatus } from './status.js';

export type { DaemonStatus } from './status.js';

export interface DaemonOptions {
  target: Target;
  /** reads the config file (the daemon re-reads it on reload) */
  readConfig: () => { text: string; file: string };
  /** one structured event per call (written by the caller as JSON lines) */
  log: (event: Record<string, unknown>) => void;
  /** probes (default: the real ones); tests pass fakes */
  startProber?: typeof startProber;
  /** hooks (default: a process each) */
  runHook?: HookRunner;
  /** the route copier for `routes: copy` (default: the real one) */
  startRouteCopy?: typeof startRouteCopy;
  /** ms between full checks even without events (default CHECK_EVERY) */
  checkEvery?: number;
  /** systemd's notify protocol (READY=1, RELOADING=1, STOPPING=1, WATCHDOG=1, STATUS=…); absent: not under systemd */
  notify?: (state: string) => void;
  /** systemd's watchdog interval (WatchdogSec): fed at half of it while the loop is healthy */
  watchdogMs?: number;
}

/**
 * The full check without an event. The kernel event listener already reports every change to
 * links, addresses, rules, the provider tables' routes and nftables, and a lost batch of events
 * asks for a full check; what it cannot see is a sysctl changed behind multihome's back. A full
 * check reads the kernel with a dozen processes (about 3 ms of the daemon's CPU per spawn here),
 * so every 30 s it was about a third of the daemon's idle CPU: every 5 min it is a tenth of that.
 */
const CHECK_EVERY = 300_000;
/**
 * The health machines' tick: results drive them (every probe reports an answer or a timeout, at
 * least once an interval), so the tick only covers probes that never report; faster ticks at the
 * 50 ms default interval would be 20 wakeups a second for nothing.
 */
const TICK_MIN = 250;
const TICK_MAX = 1000;
/** Longest wait before retrying a failed reconcile. */
const MAX_BACKOFF = 30_000;
/** Events kept for `status` (and the status page). */
const EVENT_HISTORY = 200;

type Effective = 'up' | 'degraded' | 'down';

interface ProviderRun {
  prober: Prober | null;
  /** the probe settings and sources it was started with: a change (a new address, a reload that changed them) restarts it */
  probing: string;
  lastError: string | null;
  effective: Effective;
}

export class Daemon {
  private cur: Loaded | null = null;
  private facts: SystemFacts | null = null;
  private readonly runs = new Map<string, ProviderRun>();
  private ticker: NodeJS.Timeout | null = null;
  private checker: NodeJS.Timeout | null = null;
  private retry: NodeJS.Timeout | null = null;
  private watch: EventWatch | null = null;
  private copy: RouteCopyHandle | null = null;
  private stopped = false;
  private readonly startedAt = new Date().toISOString();
  private watchdog: NodeJS.Timeout | null = null;
  /** when the tick last ran (the event loop is alive) and when the running reconcile began (null: none) */
  private tickAt = Date.now();
  private reconcileSince: number | null = null;

  // the reconcile loop: one at a time, in order
  private chain: Promise<unknown> = Promise.resolve();
  private reasons: string[] = [];
  private refreshFacts = false;
  /**
   * The kernel must be read before the next apply: set by every request but a decision (a
   * provider's state, a failback, a quota), which changes only what the daemon wants.
   */
  private readNeeded = true;
  /** kernel event batches so far: a snapshot read before the last one may be stale */
  private eventGen = 0;
  /** what the last apply read back, and the event count then (ApplyOptions.known: a failover reads only the nft table) */
  private known: { snapshot: Snapshot; gen: number } | null = null;
  private scheduled = false;
  private failures = 0;
  /** providers that went down since the last apply: their conntrack entries go once the program changed */
  private readonly flush = new Set<string>();

  // what was applied and what the kernel holds
  private appliedKey: string | null = null;
  private appliedFingerprint: string | null = null;
  private appliedAt: string | null = null;
  private lastApply: DaemonStatus['lastApply'] = null;
  private lastError: DaemonStatus['lastError'] = null;
  private repairs = 0;
  private lastRepair: DaemonStatus['lastRepair'] = null;
  private view: KernelView | null = null;
  private readonly eventLog: Record<string, unknown>[] = [];

  // failback control, and the byte counts of metered providers
  private readonly failback = new FailbackControl();
  private failbackTimer: NodeJS.Timeout | null = null;
  /** each group's active members as last applied: who was given up on a failback */
  private activeGroups: Record<string, string[]> = {};
  private meter: Meter | null = null;
  private meterFile: string | null = null;
  private usageSavedAt = 0;
  private usageSampledAt = 0;
  private exhaustedNow: string[] = [];
  /** every provider's traffic since the start, by direction (never goes backwards) */
  private totals: Totals = { total: {}, last: {} };
  private radvd: Radvd | null = null;

  // what an admin watches: metrics, the last hour, the HTTP endpoint
  private readonly metrics = new Metrics();
  private readonly lastHour = new History();
  private historyAt = 0;
  /** conntrack entries per provider, refreshed with the history (a scrape must not spawn processes) */
  private connections: Record<string, number | null> = {};
  private connectionsAt = 0;
  private web: { server: Server; key: string } | null = null;
  private webhook: Webhook | null = null;
  private webhookKey = '';

  constructor(private readonly o: DaemonOptions) {}

  private log(event: Record<string, unknown>): void {
    const e = { ts: new Date().toISOString(), ...event };
    this.eventLog.push(e);
    if (this.eventLog.length > EVENT_HISTORY) this.eventLog.shift();
    this.o.log(event);
    this.webhook?.send(e);
  }

  /** Load the config (an invalid one throws a UserError), read the system, start listening, apply, start probing. */
  async start(): Promise<void> {
    const { text, file } = this.o.readConfig();
    const loaded = loadConfig(text, file, null, Date.now());
    await this.serial(() => this.switchTo(loaded, 'start'));
    this.checker = setInterval(() => this.request('periodic check'), this.o.checkEvery ?? CHECK_EVERY);
    this.log({ event: 'running', config: file, providers: Object.keys(loaded.cfg.providers) });
    this.o.notify?.(`READY=1\nSTATUS=${this.statusLine()}`);
    if (this.o.watchdogMs) this.watchdog = setInterval(() => this.feedWatchdog(), Math.max(50, this.o.watchdogMs / 2));
  }

  /** Re-read the config; an invalid one is reported and the running one kept. */
  async reload(): Promise<{ ok: boolean; error?: string }> {
    let next: Loaded;
    try {
      const { text, file } = this.o.readConfig();
      next = loadConfig(text, file, this.cur, Date.now());
    } catch (e) {
      const error = e instanceof UserError ? [e.message, ...e.issues.map(formatIssue)].join('\n') : e instanceof Error ? e.message : String(e);
      this.log({ event: 'reload-refused', error });
      return { ok: false, error };
    }
    this.o.notify?.('RELOADING=1');
    return this.serial(async () => {
      try {
        return await this.reloadTo(next);
      } finally {
        this.o.notify?.(`READY=1\nSTATUS=${this.statusLine()}`);
      }
    });
  }

  private async reloadTo(next: Loaded): Promise<{ ok: boolean; error?: string }> {
    {
      const old = this.cur;
      const ok = await this.switchTo(next, 'reload');
      if (ok) {
        this.log({ event: 'reloaded', config: next.file });
        return { ok: true };
      }
      const error = this.lastApply?.error ?? 'applying the new config failed';
      this.log({ event: 'reload-refused', error });
      if (old) await this.switchTo(old, 'reload refused: back to the running config');
      return { ok: false, error: `applying the new config failed (the running one stays): ${error}` };
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.o.notify?.('STOPPING=1');
    if (this.watchdog) clearInterval(this.watchdog);
    for (const t of [this.ticker, this.checker]) if (t) clearInterval(t);
    if (this.retry) clearTimeout(this.retry);
    if (this.failbackTimer) clearTimeout(this.failbackTimer);
    this.watch?.close();
    this.watch = null;
    this.copy?.stop();
    this.copy = null;
    await this.stopProbers();
    await this.chain.catch(() => undefined);
    this.radvd?.stop();
    this.radvd = null;
    this.web?.server.close();
    this.web = null;
    // the last events still go out, for a moment
    if (this.webhook) await Promise.race([this.webhook.idle(), new Promise((r) => setTimeout(r, 2000))]);
    this.webhook?.stop();
    if (this.cur) await this.sampleCounters(this.cur, true);
  }

  /** `multihome failback [GROUP]`: return to the members a manual (or held) failback keeps waiting. */
  async failbackNow(group?: string): Promise<{ ok: boolean; error?: string; released?: string[] }> {
    const cur = this.cur;
    if (!cur) return { ok: false, error: 'no config loaded' };
    if (group !== undefined && !Object.hasOwn(cur.cfg.groups, group))
      return { ok: false, error: `no group "${group}"; groups: ${Object.keys(cur.cfg.groups).join(', ') || '(none)'}` };
    const released = this.failback.release(cur.cfg, group);
    this.log({ event: 'failback', group: group ?? null, released });
    this.request(`failback ${group ?? 'all groups'}`, { decision: true });
    await this.idle();
    return { ok: true, released };
  }

  // ---------------------------------------------------------------- config switch

  /** Make `next` the running config: facts, listener, copier, one reconcile, probers. Inside the serial chain. */
  private async switchTo(next: Loaded, why: string): Promise<boolean> {
    const t = this.o.target;
    this.readNeeded = true; // a new config may own other objects: read them all
    this.facts = await readFacts(next.cfg, t);
    for (const i of next.locate(systemIssues(next.cfg, this.facts))) this.log({ event: 'warning', warning: formatIssue(i) });
    for (const w of linkWarnings(next.cfg, this.facts)) this.log({ event: 'warning', warning: w });
    for (const w of foreignMarkWarnings(await t.kernel.foreignProgram().catch(() => ({ chains: [] })), next.cfg.mark_mask))
      this.log({ event: 'warning', warning: w });
    const tablesChanged = JSON.stringify(this.watchedTables(next.cfg)) !== JSON.stringify(this.cur ? this.watchedTables(this.cur.cfg) : null);
    this.cur = next;
    if (!this.watch || tablesChanged) await this.startWatch(next.cfg);
    // The copies first: the rules that send traffic to a copy table come after its routes.
    this.copy?.stop();
    this.copy =
      copyTablesOf(next.cfg).length > 0
        ? await (this.o.startRouteCopy ?? startRouteCopy)(next.cfg, { live: true, log: (e) => this.log(e), exec: t.exec })
        : null;
    for (const p of Object.values(next.cfg.providers)) {
      const before = this.runs.get(p.name);
      if (before) before.effective = this.effective(next, p); // a reload: no transition for what stayed
    }
    this.updateWebhook(next);
    this.metrics.providers(Object.keys(next.cfg.providers));
    const ok = await this.reconcile([why]);
    await this.updateWeb(next);
    this.restartProbers(next);
    if (this.ticker) clearInterval(this.ticker);
    const intervals = [...next.machines.keys()].map((n) => next.cfg.providers[n]!.health!.interval);
    this.ticker = setInterval(() => this.onTick(), Math.min(Math.max(Math.min(...intervals), TICK_MIN), TICK_MAX));
    return ok;
  }

  private watchedTables(cfg: ResolvedConfig): number[] {
    return Object.values(cfg.providers)
      .map((p) => p.table)
      .sort((a, b) => a - b);
  }

  private async startWatch(cfg: ResolvedConfig): Promise<void> {
    this.watch?.close();
    this.watch = null;
    const open = async (): Promise<void> => {
      this.watch = await this.o.target.kernel.watch(
        { tables: this.watchedTables(cfg), skipProtocol: cfg.copy.protocol },
        (b) => this.onEvents(b),
        (why) => {
          // events were lost: listen again and check everything
          this.log({ event: 'warning', warning: why });
          this.watch = null;
          this.eventGen++;
          if (this.stopped) return;
          void open()
            .then(() => this.request('kernel events were lost', { facts: true }))
            .catch((e: unknown) => this.log({ event: 'error', during: 'kernel events', error: e instanceof Error ? e.message : String(e) }));
        },
      );
    };
    await open();
  }

  // ---------------------------------------------------------------- inputs

  private onEvents(b: EventBatch): void {
    this.eventGen++;
    const cur = this.cur;
    if (!cur || !this.facts) return;
    const names = new Set(Object.values(cur.cfg.providers).map((p) => p.interface));
    for (const l of b.links) {
      const facts: SystemFacts = this.facts;
      const known: LinkState | undefined = facts.links.find((x) => x.index === l.index);
      const name: string | undefined = l.name ?? known?.name;
      let links: LinkState[] = facts.links;
      if (l.deleted) links = links.filter((x) => x.index !== l.index);
      // the event's flags at once; addresses (IPv6 ones go with the link) come with the refresh
      else if (known) links = links.map((x): LinkState => (x.index === l.index ? { ...x, up: l.up, carrier: l.carrier, ...(name ? { name } : {}) } : x));
      else if (name) links = [...links, { name, index: l.index, up: l.up, carrier: l.carrier, addresses: [] }];
      this.facts = { ...facts, links };
      if (name && names.has(name)) {
        this.updateEffective(cur);
        this.request(`link ${name} ${l.deleted ? 'deleted' : `${l.up ? 'up' : 'down'}${l.up && !l.carrier ? ', no carrier' : ''}`}`, { facts: true });
      }
    }
    if (b.addr) this.request('addresses changed', { facts: true });
    if (b.rule) this.request('ip rules changed');
    if (b.routes.length) this.request(`routes of table ${b.routes.join(', ')} changed`);
    if (b.nft) this.request('nftables changed');
  }

  private onReport(prober: Prober, rep: ProbeReport): void {
    const cur = this.cur;
    const run = this.runs.get(rep.provider);
    if (!cur || this.stopped || run?.prober !== prober) return; // a prober stopped since (a reload, a new address)
    const m = cur.machines.get(rep.provider);
    if (!m) return;
    if (!rep.ok && rep.error) run.lastError = rep.error;
    if (rep.ok && rep.rttMs !== undefined) this.metrics.observeRtt(rep.provider, rep.rttMs);
    this.step(cur, rep.provider, observe(m, rep));
  }

  private onTick(): void {
    this.tickAt = Date.now();
    const cur = this.cur;
    if (!cur || this.stopped) return;
    // periodic samples only where something shows them between applies: metrics and the page (web),
    // quotas (metered); `status` samples for itself, and every apply samples the table it replaces
    const watched = cur.cfg.web !== undefined;
    if ((watched || Object.values(cur.cfg.providers).some((p) => p.metered)) && Date.now() - this.usageSampledAt >= 5000)
      void this.serial(() => this.sampleCounters(cur));
    if (watched && Date.now() - this.historyAt >= HISTORY_EVERY_MS) {
      this.historyAt = Date.now();
      void this.serial(() => this.recordHistory(cur));
    }
    // results already written but not yet read (ICMP lines are read in batches) first: time
    // must not pass in a machine over an answer that has come
    for (const r of this.runs.values()) r.prober?.flush();
    for (const [name, m] of cur.machines) this.step(cur, name, tick(m, Date.now()));
  }

  private step(cur: Loaded, name: string, r: { machine: HealthMachine; transition?: { from: string; to: string; reason: string } }): void {
    cur.machines.set(name, r.machine);
    if (r.transition) this.updateEffective(cur, `probes: ${r.transition.reason}`);
  }

  /** Health as the daemon acts on it: down while the link is down, else what the probes say. */
  private effective(cur: Loaded, p: ResolvedProvider): Effective {
    if (this.facts && linkDown(p, this.facts)) return 'down';
    const m = cur.machines.get(p.name);
    return m ? snapshot(m).state : 'up';
  }

  /** Log and act on every provider whose effective state changed. */
  private updateEffective(cur: Loaded, probeReason?: string): void {
    for (const p of Object.values(cur.cfg.providers)) {
      let run = this.runs.get(p.name);
      if (!run) this.runs.set(p.name, (run = { prober: null, probing: '', lastError: null, effective: this.effective(cur, p) }));
      const now = this.effective(cur, p);
      if (now === run.effective) continue;
      const from = run.effective;
      run.effective = now;
      const link = this.facts ? linkDown(p, this.facts) : null;
      const reason = link ? `link: ${link}` : (probeReason ?? 'link is back');
      this.log({ event: 'provider', provider: p.name, from, to: now, reason });
      this.failback.transition(cur.cfg, p.name, from, now, Date.now());
      this.metrics.transition(p.name);
      this.armFailbackTimer(cur);
      void runHooks(cur.cfg, { provider: p.name, from, to: now, reason }, (e) => this.log(e), this.o.runHook);
      if (now === 'down') this.flush.add(p.name);
      this.request(`${p.name} ${from} → ${now}`, { decision: true });
    }
  }

  /** The webhook of `notify:` (a new one when its settings change). */
  private updateWebhook(cur: Loaded): void {
    const n = cur.cfg.notify;
    const key = n ? JSON.stringify(n) : '';
    if (key === this.webhookKey) return;
    this.webhook?.stop();
    this.webhookKey = key;
    this.webhook = n ? new Webhook({ url: n.url, timeoutMs: n.timeout, retries: n.retries }, (e) => this.log(e)) : null;
  }

  /** Start, move or stop the HTTP endpoint as the config's `web:` says (a bad one is logged, the daemon goes on). */
  private async updateWeb(cur: Loaded): Promise<void> {
    const w = cur.cfg.web;
    const key = w ? JSON.stringify(w) : '';
    if (this.web && this.web.key === key) return;
    if (this.web) await new Promise((r) => this.web!.server.close(() => r(undefined)));
    this.web = null;
    if (!w || this.stopped) return;
    try {
      const token = w.token_file ? readToken(w.token_file) : null;
      const server = await startWeb(
        { host: w.listen.host, port: w.listen.port, token, protectMetrics: w.protect_metrics },
        {
          metrics: () => this.renderMetrics(),
          status: async () => ({ ok: true, ...(await this.status({ cached: true })) }),
          events: () => [...this.eventLog],
          history: () => this.lastHour.snapshot(),
        },
        (e) => this.log(e),
      );
      this.web = { server, key };
    } catch (e) {
      this.log({
        event: 'error',
        during: 'starting the web endpoint',
        error: e instanceof UserError && e.hint ? `${e.message}: ${e.hint}` : e instanceof Error ? e.message : String(e),
      });
    }
  }

  /** A point of the last hour: each provider's health and totals, and its connections (cached for the metrics). */
  private async recordHistory(cur: Loaded): Promise<void> {
    const k = this.o.target.kernel;
    // connections: a conntrack listing per provider, so every 30 s only
    if (Date.now() - this.connectionsAt >= 30_000) {
      this.connectionsAt = Date.now();
      for (const p of Object.values(cur.cfg.providers)) this.connections[p.name] = await k.conntrackCount(p.mark, cur.cfg.mark_mask).catch(() => null);
    }
    this.lastHour.add(
      Date.now(),
      Object.values(cur.cfg.providers).map((p) => {
        const m = cur.machines.get(p.name);
        const s = m ? snapshot(m) : null;
        const t = this.totals.total[p.name];
        return {
          name: p.name,
          up: this.effective(cur, p) !== 'down',
          rttMs: s?.latencyMs ?? null,
          loss: s?.loss ?? null,
          jitterMs: s?.jitterMs ?? null,
          inBytes: t?.in.bytes ?? 0,
          outBytes: t?.out.bytes ?? 0,
        };
      }),
    );
  }

  /** /metrics: gauges from the state now, totals from the last sample. */
  private renderMetrics(): Promise<string> {
    const cur = this.cur;
    const snap: MetricsSnapshot = { providers: [], totals: this.totals.total, groups: [], copy: null };
    if (cur) {
      for (const p of Object.values(cur.cfg.providers)) {
        const m = cur.machines.get(p.name);
        const s = m ? snapshot(m) : null;
        snap.providers.push({
          name: p.name,
          state: this.effective(cur, p),
          latencyMs: s?.latencyMs ?? null,
          loss: s?.loss ?? null,
          jitterMs: s?.jitterMs ?? null,
          connections: this.connections[p.name] ?? null,
        });
      }
      const active = this.view?.groups ?? [];
      snap.groups = Object.entries(cur.cfg.groups).map(([name, g]) => ({
        name,
        active: active.find((x) => x.name === name)?.active ?? [],
        members: g.tiers.flat().map((m) => m.name),
      }));
      const c = this.copy?.status();
      if (c) snap.copy = { lagMs: c.lastLagMs, routes: c.mainRoutes[4] + c.mainRoutes[6] };
    }
    return this.metrics.render(snap);
  }

  /** A reconcile when the next failback hold ends. */
  private armFailbackTimer(cur: Loaded): void {
    if (this.failbackTimer) clearTimeout(this.failbackTimer);
    this.failbackTimer = null;
    const next = this.failback.nextRelease(cur.cfg, Date.now());
    if (next === null || this.stopped) return;
    this.failbackTimer = setTimeout(
      () => {
        this.failbackTimer = null;
        this.request('failback hold over', { decision: true });
        if (this.cur) this.armFailbackTimer(this.cur);
      },
      Math.max(0, next - Date.now()) + 5,
    );
  }

  /**
   * The providers' counters: every provider's totals by direction (monotonic, for the metrics), and
   * metered providers' bytes per quota period (kept in usage_file at most every 60 s, or when forced).
   * Sampled every 5 s, and from the table an apply replaced as the apply read it just before (a
   * replaced table's counters start from zero), so no traffic goes uncounted and a failover waits
   * for no extra read.
   */
  private async sampleCounters(cur: Loaded, save = false, given?: Record<string, ProviderCounter>): Promise<void> {
    let counters: Record<string, ProviderCounter>;
    try {
      counters = given ?? (await this.o.target.kernel.counters());
    } catch (e) {
      this.log({ event: 'error', during: 'reading the counters', error: e instanceof Error ? e.message : String(e) });
      return;
    }
    const at = new Date();
    this.usageSampledAt = at.getTime();
    this.totals = sampleTotals(this.totals, counters);
    if (!Object.values(cur.cfg.providers).some((p) => p.metered)) return;
    const file = cur.cfg.usage_file;
    const dir = { dir: file.slice(0, file.lastIndexOf('/')) || '/' };
    const name = file.slice(file.lastIndexOf('/') + 1);
    try {
      if (!this.meter || this.meterFile !== cur.cfg.usage_file) {
        this.meter = { usage: readUsage(dir, name), last: {} };
        this.meterFile = cur.cfg.usage_file;
      }
      this.meter = sampleUsage(cur.cfg, this.meter, counters, at);
      const ex = exhausted(cur.cfg, this.meter.usage, at);
      if (ex.join() !== this.exhaustedNow.join()) {
        for (const n of ex.filter((x) => !this.exhaustedNow.includes(x)))
          this.log({ event: 'quota', provider: n, used: this.meter.usage[n]?.bytes, limit: cur.cfg.providers[n]!.quota!.limit });
        this.exhaustedNow = ex;
        save = true;
        this.request('a quota was used up', { decision: true });
      }
      if (save || at.getTime() - this.usageSavedAt >= 60_000) {
        writeUsage(dir, name, this.meter.usage);
        this.usageSavedAt = at.getTime();
      }
    } catch (e) {
      this.log({ event: 'error', during: 'counting metered bytes', error: e instanceof Error ? e.message : String(e) });
    }
  }

  /** Ask for a reconcile; bursts of requests coalesce into one. */
  request(reason: string, o: { facts?: boolean; decision?: boolean } = {}): void {
    if (this.stopped) return;
    this.reasons.push(reason);
    if (o.facts) this.refreshFacts = true;
    if (!o.decision) this.readNeeded = true;
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.serial(async () => {
        while (this.reasons.length > 0 && !this.stopped) {
          const why = this.reasons.splice(0);
          await this.reconcile(why);
        }
      });
    });
  }

  /** Resolves once no reconcile is asked for or running (tests, benchmarks). */
  async idle(): Promise<void> {
    for (;;) {
      await this.chain;
      if (!this.scheduled && this.reasons.length === 0) return;
      await new Promise((r) => setImmediate(r));
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  // ---------------------------------------------------------------- reconcile

  /** One convergence: facts (if asked), compile, apply with per-provider isolation, read back. Never throws. */
  private async reconcile(reasons: string[]): Promise<boolean> {
    this.reconcileSince = Date.now();
    try {
      return await this.reconcileOnce(reasons);
    } finally {
      this.reconcileSince = null;
    }
  }

  /**
   * Healthy for the watchdog: the tick ran lately (the event loop is not blocked) and no reconcile
   * has been running for longer than the watchdog interval (it is not stuck, say on a hung `nft`).
   */
  loopHealthy(now = Date.now()): boolean {
    const limit = this.o.watchdogMs ?? 30_000;
    return !this.stopped && now - this.tickAt < Math.max(limit, 2000) && (this.reconcileSince === null || now - this.reconcileSince < limit);
  }

  private feedWatchdog(): void {
    if (this.loopHealthy()) this.o.notify?.('WATCHDOG=1');
    else this.log({ event: 'warning', warning: 'the loop is stuck: not feeding the systemd watchdog' });
  }

  private statusLine(): string {
    const cur = this.cur;
    if (!cur) return 'starting';
    const down = Object.values(cur.cfg.providers)
      .filter((p) => this.effective(cur, p) === 'down')
      .map((p) => p.name);
    return `${Object.keys(cur.cfg.providers).length} providers, ${down.length ? `down: ${down.join(', ')}` : 'all up'}; ${this.repairs} repairs`;
  }

  private async reconcileOnce(reasons: string[]): Promise<boolean> {
    const cur = this.cur;
    if (!cur) return false;
    const why = [...new Set(reasons)].join('; ');
    // only decisions since the last apply, and no kernel event: what it read back still holds
    const gen = this.eventGen;
    const known = !this.readNeeded && !this.refreshFacts && this.known?.gen === gen ? this.known.snapshot : undefined;
    this.readNeeded = false;
    this.known = null;
    try {
      if (this.refreshFacts || !this.facts) {
        this.refreshFacts = false;
        this.facts = await readFacts(cur.cfg, this.o.target);
        this.updateEffective(cur);
        this.restartProbers(cur);
      }
      const { res, desired, excluded, healthy } = await this.applyIsolated(cur, known);
      if (this.eventGen === gen) this.known = { snapshot: res.afterSnapshot, gen };
      // the table the apply replaced, as it read it right before: its counters' last values
      if (res.changed && res.plan.nft.action !== 'none' && res.before.nftJson) {
        const before = JSON.parse(res.before.nftJson) as { nftables?: Record<string, unknown>[] };
        if (Array.isArray(before.nftables)) await this.sampleCounters(cur, false, providerCounters(before.nftables));
      }
      const key = desiredKey(desired);
      if (res.changed) {
        const what = summary(res.plan);
        // the same desired state as last applied, yet something to do: someone changed it
        if (key === this.appliedKey) {
          this.repairs++;
          this.metrics.repaired();
          this.lastRepair = { at: new Date().toISOString(), what, after: why };
          this.log({ event: 'repair', repaired: what, after: why });
        } else this.log({ event: 'applied', why, healthy, changes: what, ms: res.ms });
        this.appliedAt = new Date().toISOString();
      }
      this.appliedKey = key;
      this.appliedFingerprint = desired.nft?.fingerprint ?? null;
      const groups = this.groupsOf(cur, healthy);
      this.view = kernelView(res.after, cur.cfg, this.appliedFingerprint, this.blocked(cur, excluded), groups);
      await this.failbackFlush(cur, groups);
      this.updateRa(cur, groups);
      this.lastApply = { at: new Date().toISOString(), ok: true, why };
      this.metrics.applied(true);
      this.failures = 0;
      return true;
    } catch (e) {
      const error = e instanceof UserError && e.hint ? `${e.message}: ${e.hint}` : e instanceof Error ? e.message : String(e);
      this.readNeeded = true;
      this.failures++;
      const at = new Date().toISOString();
      this.lastApply = { at, ok: false, why, error };
      this.metrics.applied(false);
      this.lastError = { at, error };
      const wait = Math.min(MAX_BACKOFF, 1000 * 2 ** Math.min(this.failures - 1, 5));
      this.log({ event: 'error', during: why, error, retryInMs: wait });
      if (this.retry) clearTimeout(this.retry);
      this.retry = setTimeout(() => this.request(`retry after an error (${this.failures})`, { facts: true }), wait);
      return false;
    }
  }

  /** Providers that can carry traffic now: not down by their link, not down by their probes. */
  private healthy(cur: Loaded): string[] {
    return Object.values(cur.cfg.providers)
      .filter((p) => this.effective(cur, p) !== 'down')
      .map((p) => p.name);
  }

  /**
   * Apply with every healthy provider; when the kernel refuses one provider's route (or a foreign
   * route sits where it must go), take that provider out and apply the rest — the nft program
   * included — until it goes through.
   */
  private async applyIsolated(cur: Loaded, known?: Snapshot): Promise<{ res: ApplyResult; desired: State; excluded: Map<string, string>; healthy: string[] }> {
    const excluded = new Map<string, string>();
    const own = ownershipOf(cur.cfg);
    for (;;) {
      const healthy = this.healthy(cur).filter((n) => !excluded.has(n));
      const compiled = compile(cur.cfg, this.factsFor(cur, healthy));
      const tables = new Set([...excluded.keys()].map((n) => cur.cfg.providers[n]!.table));
      const desired: State = { ...compiled, routes: compiled.routes.filter((r) => !(tables.has(r.table) && r.protocol === cur.cfg.route_protocol)) };
      const flush = [...this.flush];
      const flushNow = () => this.flushConntrack(cur, flush);
      try {
        const res = await applyState(desired, own, this.o.target, { command: 'run', recordSysctls: true, afterSteps: flushNow, known });
        if (!res.changed) await flushNow();
        return { res, desired, excluded, healthy };
      } catch (e) {
        const culprits = this.culprits(cur, e).filter((n) => !excluded.has(n));
        if (culprits.length === 0) throw e;
        known = undefined; // the failed apply was reverted: read again
        for (const n of culprits) {
          excluded.set(n, e instanceof Error ? e.message.split('\n')[0]! : String(e));
          this.log({
            event: 'warning',
            provider: n,
            warning: `left out of this apply: ${e instanceof ConflictError ? e.hint : e instanceof Error ? e.message : String(e)}`,
          });
        }
      }
    }
  }

  /** The providers a failed apply points at: the table of a refused route, or of a clashing foreign route. */
  private culprits(cur: Loaded, e: unknown): string[] {
    const tables = e instanceof ConflictError ? e.tables : [];
    const cause = e instanceof ApplyError && e.reverted ? e.cause : undefined;
    if (cause instanceof IpBatchError && cause.op && 'route' in cause.op) tables.push(cause.op.route.table);
    return Object.values(cur.cfg.providers)
      .filter((p) => tables.includes(p.table))
      .map((p) => p.name);
  }

  private async flushConntrack(cur: Loaded, names: string[]): Promise<void> {
    for (const n of names) {
      const p = cur.cfg.providers[n];
      this.flush.delete(n);
      if (!p || this.effective(cur, p) !== 'down') continue; // back up meanwhile
      try {
        const deleted = await this.o.target.kernel.conntrackDelete(p.mark, cur.cfg.mark_mask);
        this.log({ event: 'conntrack', provider: n, deleted });
      } catch (e) {
        this.log({ event: 'error', during: `deleting ${n}'s connections`, error: e instanceof Error ? e.message : String(e) });
      }
    }
  }

  /** Per provider and family, why its route is not wanted now. */
  private blocked(cur: Loaded, excluded: Map<string, string>): Record<string, Partial<Record<Family, string>>> {
    const out: Record<string, Partial<Record<Family, string>>> = {};
    for (const p of Object.values(cur.cfg.providers)) {
      for (const f of [4, 6] as Family[]) {
        if (!p.gateway[f]) continue;
        const why = excluded.get(p.name) ?? (this.facts ? routeBlocker(p, f, this.facts) : null);
        if (why) (out[p.name] ??= {})[f] = why;
      }
    }
    return out;
  }

  /**
   * Router advertisements (prefix per uplink): the delegated prefixes of the default's active
   * members are preferred, the others deprecated; with none of them active, those of every healthy
   * provider (never deprecate everything: hosts would keep using some address anyway).
   */
  private updateRa(cur: Loaded, groups: { name: string; active: string[] }[]): void {
    if (!cur.cfg.ra) {
      this.radvd?.stop();
      this.radvd = null;
      return;
    }
    const candidates = raProviders(cur.cfg);
    const up = candidates.filter((n) => this.effective(cur, cur.cfg.providers[n]!) !== 'down');
    const def = cur.cfg.default;
    const active = Object.hasOwn(cur.cfg.providers, def)
      ? up.filter((n) => n === def)
      : up.filter((n) => groups.find((g) => g.name === def)?.active.includes(n));
    const preferred = active.length ? active : up.length ? up : candidates;
    const text = radvdConfig(cur.cfg, preferred);
    if (this.radvd && text === this.radvd.text) return;
    this.log({ event: 'ra', preferred, deprecated: candidates.filter((n) => !preferred.includes(n)) });
    if (this.radvd) this.radvd.update(text);
    else this.radvd = startRadvd(cur.cfg.ra.radvd, this.o.target.stateDir.dir, text, (e) => this.log(e));
  }

  /** The facts with everything the daemon knows about the providers: health, quality, quotas, failback holds. */
  private factsFor(cur: Loaded, healthy: string[]): SystemFacts {
    return {
      ...this.facts!,
      healthy,
      degraded: Object.values(cur.cfg.providers)
        .filter((p) => this.effective(cur, p) === 'degraded')
        .map((p) => p.name),
      exhausted: this.exhaustedNow,
      held: this.failback.held(cur.cfg, Date.now()),
    };
  }

  private groupsOf(cur: Loaded, healthy: string[]): { name: string; active: string[] }[] {
    const view = viewOf(cur.cfg, this.facts ? this.factsFor(cur, healthy) : { links: [], mainRoutes: [], healthy });
    return Object.keys(cur.cfg.groups ?? {}).map((name) => ({ name, active: activeMembers(cur.cfg, name, view).map((m) => m.name) }));
  }

  /**
   * `failback_flush`: the members a group gave up although they are still up (a better one came
   * back) lose their connections, so those reconnect by the preferred one — unless another group
   * or a policy still uses them (a connection's mark says its uplink, not who chose it).
   */
  private async failbackFlush(cur: Loaded, groups: { name: string; active: string[] }[]): Promise<void> {
    const before = this.activeGroups;
    this.activeGroups = Object.fromEntries(groups.map((g) => [g.name, g.active]));
    const inUse = new Set([
      ...groups.flatMap((g) => g.active),
      ...[cur.cfg.default, ...cur.cfg.policies.map((p) => p.via)].filter((n) => Object.hasOwn(cur.cfg.providers, n)),
    ]);
    for (const g of groups) {
      if (!cur.cfg.groups[g.name]?.failback_flush || !before[g.name]) continue;
      const givenUp = before[g.name]!.filter((n) => !g.active.includes(n) && !inUse.has(n) && this.effective(cur, cur.cfg.providers[n]!) !== 'down');
      for (const n of givenUp) {
        try {
          const deleted = await this.o.target.kernel.conntrackDelete(cur.cfg.providers[n]!.mark, cur.cfg.mark_mask);
          this.log({ event: 'conntrack', provider: n, deleted, why: `failback of group ${g.name} to ${g.active.join(', ')}` });
        } catch (e) {
          this.log({ event: 'error', during: `deleting ${n}'s connections on failback`, error: e instanceof Error ? e.message : String(e) });
        }
      }
    }
  }

  // ---------------------------------------------------------------- probes

  /** Start a prober for every probed provider whose sources changed (a new address) or that has none. */
  private restartProbers(cur: Loaded): void {
    if (!this.facts || this.stopped) return;
    const facts = this.facts;
    for (const [name, run] of this.runs) {
      if (!Object.hasOwn(cur.cfg.providers, name)) {
        void run.prober?.stop();
        this.runs.delete(name);
      }
    }
    for (const p of Object.values(cur.cfg.providers)) {
      let run = this.runs.get(p.name);
      if (!run) this.runs.set(p.name, (run = { prober: null, probing: '', lastError: null, effective: this.effective(cur, p) }));
      if (!p.health) {
        void run.prober?.stop();
        run.prober = null;
        continue;
      }
      const probing = stableJson({ i: p.interface, h: p.health, from: p.health.targets.map((t) => probeSource(p, t, facts)) });
      if (run.prober && run.probing === probing) continue;
      void run.prober?.stop();
      run.probing = probing;
      const prober: Prober = (this.o.startProber ?? startProber)(p, p.health, facts, this.o.target.exec, (rep) => this.onReport(prober, rep));
      run.prober = prober;
    }
  }

  private async stopProbers(): Promise<void> {
    await Promise.all([...this.runs.values()].flatMap((r) => (r.prober ? [r.prober.stop()] : [])));
    for (const r of this.runs.values()) r.prober = null;
  }

  // ---------------------------------------------------------------- status

  /**
   * What `status` shows. `cached`: from what the daemon last read (the connections and totals of its
   * periodic samples) without running anything — for the web endpoint, polled by pages.
   */
  async status(o: { cached?: boolean } = {}): Promise<DaemonStatus> {
    const cur = this.cur;
    const k = this.o.target.kernel;
    const none: Record<string, ProviderCounter> = {};
    const counters = cur && !o.cached ? await k.counters().catch(() => none) : none;
    // every read of the counters is a sample too (totals, quotas)
    if (cur && Object.keys(counters).length > 0) await this.serial(() => this.sampleCounters(cur, false, counters));
    const providers: ProviderStatus[] = cur
      ? await Promise.all(
          Object.values(cur.cfg.providers).map(async (p) => {
            const m = cur.machines.get(p.name);
            const s: HealthSnapshot = m ? snapshot(m) : UNPROBED(Date.parse(this.startedAt));
            const link = this.facts ? linkDown(p, this.facts) : null;
            const c = counters[p.name];
            return {
              ...s,
              state: link ? 'down' : s.state,
              name: p.name,
              interface: p.interface,
              probe: p.health ? `${p.health.probe} ${p.health.targets.length} target(s)` : null,
              lastError: this.runs.get(p.name)?.lastError ?? null,
              link,
              routes: this.view?.routes[p.name] ?? {},
              connections: o.cached ? (this.connections[p.name] ?? null) : await k.conntrackCount(p.mark, cur.cfg.mark_mask).catch(() => null),
              // since the daemon started, both directions: totals that a table replace does not reset
              packets: this.totals.total[p.name] ? this.totals.total[p.name]!.in.packets + this.totals.total[p.name]!.out.packets : (c?.packets ?? null),
              bytes: this.totals.total[p.name] ? this.totals.total[p.name]!.in.bytes + this.totals.total[p.name]!.out.bytes : (c?.bytes ?? null),
              usage:
                p.metered && this.meter?.usage[p.name]
                  ? { ...this.meter.usage[p.name]!, limit: p.quota?.limit ?? null, exhausted: this.exhaustedNow.includes(p.name) }
                  : null,
            };
          }),
        )
      : [];
    return {
      pid: process.pid,
      config: cur?.file ?? '',
      startedAt: this.startedAt,
      appliedAt: this.appliedAt,
      lastApply: this.lastApply,
      lastError: this.lastError,
      repairs: this.repairs,
      lastRepair: this.lastRepair,
      kernel: this.view,
      providers,
      // what the kernel's program does (null when it is not multihome's latest: a repair is under way)
      groups: (this.view?.groups ?? (cur ? this.groupsOf(cur, this.healthy(cur)).map((g) => ({ ...g, active: [] })) : [])).map((g) => {
        const held = cur ? this.failback.held(cur.cfg, Date.now())[g.name] : undefined;
        const tiers = cur?.cfg.groups[g.name]?.tiers;
        return { ...g, ...(held ? { held } : {}), ...(tiers ? { tiers } : {}) };
      }),
      copy: this.copy?.status() ?? null,
      events: [...this.eventLog],
    };
  }
}

/** What identifies a desired state (the nft program, rules, routes, sysctls): equal keys, nothing new to apply. */
function desiredKey(s: State): string {
  return JSON.stringify({ nft: s.nft?.fingerprint ?? null, rules: s.rules.map(ruleText), routes: s.routes.map(routeText), sysctls: s.sysctls });
}

/** A plan in a few words, for the log: "nft table replaced; 1 route added". */
function summary(p: Plan): string {
  const parts: string[] = [];
  if (p.nft.action !== 'none') parts.push(`nft table ${p.nft.action === 'create' ? 'created' : p.nft.action === 'delete' ? 'deleted' : 'replaced'}`);
  const n = (k: number, what: string, verb: string) => k && parts.push(`${k} ${what}${k === 1 ? '' : 's'} ${verb}`);
  n(p.routes.add.length, 'route', 'added');
  n(p.routes.replace.length, 'route', 'replaced');
  n(p.routes.del.length, 'route', 'removed');
  n(p.rules.add.length, 'rule', 'added');
  n(p.rules.del.length, 'rule', 'removed');
  n(p.sysctls.length, 'sysctl', 'set');
  return parts.join('; ') || 'nothing';
}

// `multihome run`: apply the config, probe every uplink through itself, and
// when a provider's health changes, compile again with the healthy set and
// apply what changed (the nft table, in one transaction); connections pinned to
// a provider that went down are deleted from conntrack by their mark, so they
// re-establish elsewhere. SIGHUP re-reads the config; an invalid one is
// reported and the running one kept.
import type { ResolvedConfig } from '../config/assign.js';
import { compile } from '../compile/index.js';
import type { SystemFacts } from '../compile/facts.js';
import { createMachine, observe, snapshot, tick, type HealthMachine, type HealthSnapshot } from '../health/machine.js';
import { countConntrackByMark, deleteConntrackByMark } from '../kernel/conntrack.js';
import { readProviderCounters } from '../kernel/read.js';
import { run as runCommand } from '../kernel/exec.js';
import { checkConfig, readFacts, ownershipOf } from '../apply/session.js';
import { systemIssues } from '../compile/system-checks.js';
import { UserError } from '../errors/index.js';
import { applyState, type Target } from '../apply/transaction.js';
import { startProber, type ProbeReport, type Prober } from './probers.js';
import { copyTablesOf, startRouteCopy, type RouteCopyHandle } from './route-copy.js';
import type { CopyStatus } from '../routecopy/engine.js';

export interface DaemonOptions {
  target: Target;
  /** reads the config file (the daemon re-reads it on reload) */
  readConfig: () => { text: string; file: string };
  /** one structured event per call (journald-friendly JSON lines, written by the caller) */
  log: (event: Record<string, unknown>) => void;
}

export interface ProviderStatus extends HealthSnapshot {
  name: string;
  interface: string;
  probe: string | null;
  lastError: string | null;
  /** conntrack entries carrying the provider's mark now */
  connections: number | null;
  /** packets and bytes of the provider's connections seen in PREROUTING since the table was loaded */
  packets: number | null;
  bytes: number | null;
}

export interface DaemonStatus {
  pid: number;
  config: string;
  startedAt: string;
  appliedAt: string | null;
  providers: ProviderStatus[];
  groups: { name: string; active: string[] }[];
  /** the provider tables that copy main, when any does */
  copy: CopyStatus | null;
}

interface Running {
  cfg: ResolvedConfig;
  facts: SystemFacts;
  machines: Map<string, HealthMachine>;
  lastError: Map<string, string>;
  probers: Prober[];
  ticker: NodeJS.Timeout | null;
}

/** A provider without `health:` is taken as up, with nothing measured. */
const UNPROBED = (since: number): HealthSnapshot => ({ state: 'up', since, latencyMs: null, loss: null, lastProbe: null, transitions: 0, suppressed: false, penalty: 0, reachable: true, good: 0, bad: 0, unanswered: 0 });

export class Daemon {
  private run: Running | null = null;
  private appliedAt: string | null = null;
  private readonly startedAt = new Date().toISOString();
  private file = '';
  /** one change at a time: probes keep arriving while an apply runs */
  private queue: Promise<void> = Promise.resolve();
  /** the route copier, when a provider has `routes: copy` */
  private copy: RouteCopyHandle | null = null;

  constructor(private readonly o: DaemonOptions) {}

  /** Load, apply and start probing; throws (UserError) when the config is invalid. */
  async start(): Promise<void> {
    const next = await this.load();
    await this.switchTo(next);
  }

  private async load(previous: Running | null = this.run): Promise<Running> {
    const { text, file } = this.o.readConfig();
    const parsed = checkConfig(text, file);
    const facts = await readFacts(parsed.config, this.o.target);
    const sys = systemIssues(parsed.config, facts);
    if (sys.length) throw new UserError(`${file}: the system does not match the config`, parsed.locate(sys));
    this.file = file;
    const machines = new Map<string, HealthMachine>();
    const now = Date.now();
    for (const p of Object.values(parsed.config.providers)) {
      // A reload keeps what is known of a provider whose interface and probes did not change.
      const before = previous?.cfg.providers[p.name];
      const kept = previous?.machines.get(p.name);
      if (p.health && before && kept && before.interface === p.interface && JSON.stringify(before.health) === JSON.stringify(p.health)) {
        machines.set(p.name, kept);
        continue;
      }
      if (p.health) machines.set(p.name, createMachine({ interval: p.health.interval, timeout: p.health.timeout, window: Math.max(10_000, p.health.interval * 5), down: p.health.down, up: p.health.up, initial: p.health.initial, targets: p.health.targets.length, policy: p.health.policy, ...(p.health.latency ? { latency: { degraded: p.health.latency } } : {}), ...(p.health.loss !== undefined ? { loss: { degraded: p.health.loss } } : {}) }, now));
    }
    return { cfg: parsed.config, facts, machines, lastError: new Map(), probers: [], ticker: null };
  }

  private healthy(r: Running): string[] {
    return Object.keys(r.cfg.providers).filter((n) => {
      const m = r.machines.get(n);
      return !m || snapshot(m).state !== 'down';
    });
  }

  /** Compile with the current health and apply what changed. */
  private async reconcile(r: Running, why: string): Promise<void> {
    const healthy = this.healthy(r);
    const desired = compile(r.cfg, { ...r.facts, healthy });
    const res = await applyState(desired, ownershipOf(r.cfg), this.o.target, { recordSysctls: true });
    if (res.changed) {
      this.appliedAt = new Date().toISOString();
      this.o.log({ event: 'applied', why, healthy });
    }
  }

  /** Apply `next`; only then stop the old probes and start its own (a failed apply keeps the old config running). */
  private async switchTo(next: Running): Promise<void> {
    // The copies first: the rules that send traffic to a copy table come after its routes.
    // A reload restarts the copier (its tables, filter or protocol may have changed).
    const copy = copyTablesOf(next.cfg).length > 0 ? await startRouteCopy(next.cfg, { live: true, log: this.o.log, exec: this.o.target.exec }) : null;
    try {
      await this.reconcile(next, this.run ? 'reload' : 'start');
    } catch (e) {
      copy?.stop();
      throw e;
    }
    this.copy?.stop();
    this.copy = copy;
    await this.stopProbing();
    this.run = next;
    for (const p of Object.values(next.cfg.providers)) {
      if (!p.health) continue;
      next.probers.push(startProber(p, p.health, next.facts, this.o.target.exec, (rep) => this.onReport(next, rep)));
    }
    const interval = Math.min(...[...next.machines.keys()].map((n) => next.cfg.providers[n]!.health!.interval), 1000);
    next.ticker = setInterval(() => this.onTick(next), interval);
    this.o.log({ event: 'running', config: this.file, providers: Object.keys(next.cfg.providers) });
  }

  private onReport(r: Running, rep: ProbeReport): void {
    if (r !== this.run) return; // a prober of the config before a reload
    const m = r.machines.get(rep.provider);
    if (!m) return;
    if (!rep.ok && rep.error) r.lastError.set(rep.provider, rep.error);
    const step = observe(m, rep); // a ProbeReport is a ProbeResult with names
    r.machines.set(rep.provider, step.machine);
    if (step.transition) this.onTransition(r, rep.provider, step.transition.from, step.transition.to, step.transition.reason);
  }

  private onTick(r: Running): void {
    if (r !== this.run) return;
    for (const [name, m] of r.machines) {
      const step = tick(m, Date.now());
      r.machines.set(name, step.machine);
      if (step.transition) this.onTransition(r, name, step.transition.from, step.transition.to, step.transition.reason);
    }
  }

  private onTransition(r: Running, provider: string, from: string, to: string, reason: string): void {
    this.o.log({ event: 'provider', provider, from, to, reason });
    void this.runHooks(r, provider, from, to, reason);
    const wentDown = to === 'down';
    this.queue = this.queue
      .then(() => this.reconcile(r, `${provider} ${from} → ${to}`))
      .then(async () => {
        // Only the connections pinned to the failed uplink: never a whole-table flush.
        if (!wentDown) return;
        const p = r.cfg.providers[provider]!;
        const n = await deleteConntrackByMark(p.mark, r.cfg.mark_mask, this.o.target.exec);
        this.o.log({ event: 'conntrack', provider, deleted: n });
      })
      .catch((e: unknown) => this.o.log({ event: 'error', during: `${provider} ${from} → ${to}`, error: e instanceof Error ? e.message : String(e) }));
  }

  /** Every hook, each with its own timeout; a failing hook is logged and changes nothing. */
  private async runHooks(r: Running, provider: string, from: string, to: string, reason: string): Promise<void> {
    const env = { MULTIHOME_PROVIDER: provider, MULTIHOME_INTERFACE: r.cfg.providers[provider]!.interface, MULTIHOME_FROM: from, MULTIHOME_TO: to, MULTIHOME_REASON: reason };
    await Promise.all(
      r.cfg.hooks.map(async (hook) => {
        try {
          const res = await runCommand([hook], { env, timeoutMs: r.cfg.hook_timeout });
          this.o.log({ event: 'hook', hook, provider, code: res.code, ...(res.code !== 0 ? { stderr: res.stderr.trim().slice(0, 500) } : {}) });
        } catch (e) {
          this.o.log({ event: 'hook', hook, provider, error: e instanceof Error ? e.message : String(e) });
        }
      }),
    );
  }

  /** Re-read the config; an invalid one is reported and the running one kept. */
  async reload(): Promise<{ ok: boolean; error?: string }> {
    let next: Running;
    try {
      next = await this.load();
    } catch (e) {
      const error = e instanceof UserError ? [e.message, ...e.issues.map((i) => `${i.file}:${i.line}:${i.col}: ${i.message}`)].join('\n') : String(e);
      this.o.log({ event: 'reload-refused', error });
      return { ok: false, error };
    }
    try {
      await (this.queue = this.queue.then(() => this.switchTo(next)));
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      this.queue = Promise.resolve();
      this.o.log({ event: 'reload-refused', error });
      return { ok: false, error: `applying the new config failed (the running one stays): ${error}` };
    }
    this.o.log({ event: 'reloaded', config: this.file });
    return { ok: true };
  }

  private async stopProbing(): Promise<void> {
    if (!this.run) return;
    if (this.run.ticker) clearInterval(this.run.ticker);
    await Promise.all(this.run.probers.map((p) => p.stop()));
    this.run.probers = [];
  }

  async stop(): Promise<void> {
    this.copy?.stop();
    this.copy = null;
    await this.stopProbing();
    await this.queue;
  }

  async status(): Promise<DaemonStatus> {
    const r = this.run;
    const exec = this.o.target.exec;
    const counters = r ? await readProviderCounters(exec).catch(() => ({}) as Record<string, { packets: number; bytes: number }>) : {};
    const providers: ProviderStatus[] = r
      ? await Promise.all(
          Object.values(r.cfg.providers).map(async (p) => {
            const m = r.machines.get(p.name);
            const s: HealthSnapshot = m ? snapshot(m) : UNPROBED(Date.parse(this.startedAt));
            const connections = await countConntrackByMark(p.mark, r.cfg.mark_mask, exec).catch(() => null);
            const c = counters[p.name];
            return {
              ...s,
              name: p.name,
              interface: p.interface,
              probe: p.health ? `${p.health.probe} ${p.health.targets.length} target(s)` : null,
              lastError: r.lastError.get(p.name) ?? null,
              connections,
              packets: c?.packets ?? null,
              bytes: c?.bytes ?? null,
            };
          }),
        )
      : [];
    const healthy = r ? this.healthy(r) : [];
    const groups = r
      ? Object.entries(r.cfg.groups ?? {}).map(([name, g]) => ({ name, active: g.tiers.map((t) => t.filter((m) => healthy.includes(m.name)).map((m) => m.name)).find((t) => t.length > 0) ?? [] }))
      : [];
    return { pid: process.pid, config: this.file, startedAt: this.startedAt, appliedAt: this.appliedAt, providers, groups, copy: this.copy?.status() ?? null };
  }
}

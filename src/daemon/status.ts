// What `multihome status` shows: each provider's health as the probes and its
// link see it, and what the kernel really does for it — read back after every
// reconcile, never what the daemon hoped.
import type { ResolvedConfig } from '../config/assign.js';
import type { HealthSnapshot } from '../health/machine.js';
import type { Family } from '../net/ip.js';
import type { CopyStatus } from '../routecopy/engine.js';
import type { State } from '../state/types.js';

export interface ProviderStatus extends HealthSnapshot {
  name: string;
  interface: string;
  probe: string | null;
  lastError: string | null;
  /** why the link keeps it down (missing, admin down, no carrier, no address): "down (link)"; null when the link is fine */
  link: string | null;
  /** its default route in its table, per family, as read back from the kernel */
  routes: { ipv4?: RouteView; ipv6?: RouteView };
  /** conntrack entries carrying the provider's mark now */
  connections: number | null;
  /** packets and bytes of the provider's connections (both directions) since the daemon started: failovers and reloads do not reset them */
  packets: number | null;
  bytes: number | null;
  /** metered: the bytes counted this quota period (kept across restarts), and the quota */
  usage: { period: string; bytes: number; limit: number | null; exhausted: boolean } | null;
}

/** present: in the kernel as multihome wants it; missing: wanted, but not there; left out: not wanted now (why) */
type RouteView = 'present' | 'missing' | `left out: ${string}`;

export interface KernelView {
  /** when it was read back */
  at: string;
  /** the nft table: as the last apply loaded it, missing, or changed by someone else (a repair follows) */
  nft: 'as applied' | 'missing' | 'changed outside multihome';
  /** per provider and family */
  routes: Record<string, { ipv4?: RouteView; ipv6?: RouteView }>;
  /** the groups' active members in the program the kernel holds; null when that program is not multihome's latest */
  groups: { name: string; active: string[] }[] | null;
}

export interface DaemonStatus {
  pid: number;
  config: string;
  startedAt: string;
  /** last time an apply changed something */
  appliedAt: string | null;
  /** the last reconcile: its time, whether it worked, and why it ran */
  lastApply: { at: string; ok: boolean; why: string; error?: string } | null;
  /** the last reconcile that failed, kept until a later one succeeds and after */
  lastError: { at: string; error: string } | null;
  /** drift repaired: changes someone else made to what multihome owns, put back */
  repairs: number;
  lastRepair: { at: string; what: string; after: string } | null;
  kernel: KernelView | null;
  providers: ProviderStatus[];
  groups: { name: string; active: string[]; held?: string[]; tiers?: { name: string; weight: number }[][] }[];
  /** the provider tables that copy main, when any does */
  copy: CopyStatus | null;
  /** recent events (state changes, applies, repairs, hook runs), newest last */
  events: Record<string, unknown>[];
}

/** A provider without `health:` is taken as up, with nothing measured. */
export const UNPROBED = (since: number): HealthSnapshot => ({
  state: 'up',
  since,
  latencyMs: null,
  loss: null,
  jitterMs: null,
  lastProbe: null,
  transitions: 0,
  suppressed: false,
  penalty: 0,
  reachable: true,
  good: 0,
  bad: 0,
  unanswered: 0,
});

/**
 * What the kernel holds, from a state read back: for each provider and family, whether its
 * default route is in its table (`blocked` says why compile left it out), and whether the nft
 * table is the one last loaded (`groups`: the active members that program was compiled with).
 */
export function kernelView(
  after: State,
  cfg: ResolvedConfig,
  fingerprint: string | null,
  blocked: Record<string, Partial<Record<Family, string>>>,
  groups: { name: string; active: string[] }[],
): KernelView {
  const routes: KernelView['routes'] = {};
  for (const p of Object.values(cfg.providers)) {
    const v: { ipv4?: RouteView; ipv6?: RouteView } = {};
    for (const f of [4, 6] as Family[]) {
      if (!p.gateway[f]) continue;
      const why = blocked[p.name]?.[f];
      const there = after.routes.some(
        (r) => r.family === f && r.table === p.table && r.dst === 'default' && r.protocol === cfg.route_protocol && r.dev === p.interface,
      );
      const view: RouteView = why !== undefined ? (there ? 'present' : `left out: ${why}`) : there ? 'present' : 'missing';
      if (f === 4) v.ipv4 = view;
      else v.ipv6 = view;
    }
    routes[p.name] = v;
  }
  const nft: KernelView['nft'] = !after.nft ? 'missing' : after.nft.fingerprint === fingerprint ? 'as applied' : 'changed outside multihome';
  return { at: new Date().toISOString(), nft, routes, groups: nft === 'as applied' ? groups : null };
}

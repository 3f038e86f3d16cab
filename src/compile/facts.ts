// What compile needs to know about the system it compiles for, read by the
// kernel adapters (or given by a test): interfaces with their addresses, and
// main's routes for the `copy` strategy.
import type { ResolvedConfig } from '../config/assign.js';
import type { LinkState, RouteState } from '../state/types.js';
import type { HealthView } from './groups.js';
import { linkDown } from './links.js';

export interface SystemFacts {
  links: LinkState[];
  /** main table routes of both families (only needed when a provider copies main) */
  mainRoutes: RouteState[];
  /** current values of the sysctls compile asks for (sysctlFactKeys), slash-form keys */
  sysctls?: Record<string, string>;
  /** providers whose uplink works (from the health probes); absent: all of them */
  healthy?: string[];
  /** providers whose probes say degraded (latency, loss or jitter over a threshold) */
  degraded?: string[];
  /** metered providers whose quota is used up this period */
  exhausted?: string[];
  /** per group: healthy members it does not return to yet (failback on hold or manual) */
  held?: Record<string, string[]>;
}

/**
 * Whether a provider counts as healthy for the groups: its probes say so (facts.healthy; absent:
 * all), and its link can carry traffic (links.ts).
 */
const healthyIn =
  (cfg: ResolvedConfig, facts: SystemFacts) =>
  (name: string): boolean =>
    (!facts.healthy || facts.healthy.includes(name)) && Object.hasOwn(cfg.providers, name) && linkDown(cfg.providers[name]!, facts) === null;

/** The facts about provider health as the predicates groups.ts chooses members by. */
export function viewOf(cfg: ResolvedConfig, facts: SystemFacts): HealthView {
  const healthy = healthyIn(cfg, facts);
  return {
    healthy,
    degraded: (n) => facts.degraded?.includes(n) ?? false,
    exhausted: (n) => facts.exhausted?.includes(n) ?? false,
    held: (g, n) => facts.held?.[g]?.includes(n) ?? false,
  };
}

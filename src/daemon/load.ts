// A config as the daemon runs it: parsed and checked (an invalid one is
// refused and the running one kept), its hooks trusted, one health machine
// per probed provider — kept across a reload for a provider whose interface
// and probes did not change, so a reload does not reset what is known.
import type { ResolvedConfig, ResolvedProvider } from '../config/assign.js';
import type { HealthConfig } from '../config/schema.js';
import type { PathIssue } from '../config/semantic.js';
import { checkConfig } from '../apply/session.js';
import { untrustedHook } from '../apply/trust.js';
import { UserError, type SourceIssue } from '../errors/index.js';
import { createMachine, type HealthMachine, type HealthSettings } from '../health/machine.js';
import { stableJson } from '../util/json.js';

export interface Loaded {
  cfg: ResolvedConfig;
  file: string;
  machines: Map<string, HealthMachine>;
  /** positions for issues found against the live system (shown as warnings) */
  locate: (issues: PathIssue[]) => SourceIssue[];
}

/** The machine's settings from a provider's `health:` (the rest are the machine's defaults). */
export function healthSettingsOf(h: HealthConfig): Partial<HealthSettings> {
  return {
    interval: h.interval,
    timeout: h.timeout,
    window: Math.max(10_000, h.interval * 5),
    down: h.down,
    up: h.up,
    initial: h.initial,
    targets: h.targets.length,
    policy: h.policy,
    ...(h.latency ? { latency: { degraded: h.latency } } : {}),
    ...(h.loss !== undefined ? { loss: { degraded: h.loss } } : {}),
    ...(h.jitter ? { jitter: { degraded: h.jitter } } : {}),
  };
}

/** Whether a reload may keep the provider's health: same interface, same probes. */
const sameProbing = (a: ResolvedProvider, b: ResolvedProvider): boolean => a.interface === b.interface && stableJson(a.health) === stableJson(b.health);

/** Hooks that root must not run: not root's, or writable by others (located in the file). */
function hookIssues(cfg: ResolvedConfig): PathIssue[] {
  const issues: PathIssue[] = [];
  cfg.hooks.forEach((h, i) => {
    const why = untrustedHook(h);
    if (why)
      issues.push({
        path: ['hooks', ...(cfg.hooks.length > 1 ? [i] : [])],
        message: `refusing to run hook ${h}: ${why}`,
        hint: "hooks run as root: make the file and its directories root's and writable by no one else (chown root, chmod go-w)",
      });
  });
  return issues;
}

/** Parse, check and build the machines; throws a UserError (with positions) when the config cannot run. */
export function loadConfig(text: string, file: string, previous: Loaded | null, now: number): Loaded {
  const parsed = checkConfig(text, file);
  const hooks = hookIssues(parsed.config);
  if (hooks.length) throw new UserError(`${file}: ${hooks.length} hook${hooks.length === 1 ? '' : 's'} cannot be trusted`, parsed.locate(hooks));
  const machines = new Map<string, HealthMachine>();
  for (const p of Object.values(parsed.config.providers)) {
    if (!p.health) continue;
    const before = previous?.cfg.providers[p.name];
    const kept = previous?.machines.get(p.name);
    machines.set(p.name, before && kept && sameProbing(before, p) ? kept : createMachine(healthSettingsOf(p.health), now));
  }
  return { cfg: parsed.config, file, machines, locate: parsed.locate };
}

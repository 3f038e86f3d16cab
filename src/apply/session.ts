// The commands' common path: config text → checked against the live system →
// desired State, then plan, apply or down against a target (a namespace, or
// this host).
import type { ResolvedConfig } from '../config/assign.js';
import { parseConfig } from '../config/parse.js';
import { compile } from '../compile/index.js';
import { PRIORITY_SPAN } from '../compile/rules.js';
import { systemIssues } from '../compile/system-checks.js';
import type { SystemFacts } from '../compile/facts.js';
import { UserError } from '../errors/index.js';
import { flushCopies, readLinks, readState, readSysctls } from '../kernel/read.js';
import { sysctlFactKeys } from '../compile/sysctl.js';
import { TABLE_IDS, type State } from '../state/types.js';
import { DEFAULTS, DEFAULT_COPY_PROTOCOL } from '../config/schema.js';
import { plan, type Ownership, type Plan } from './plan.js';
import { clearAll, readNftRecord, readSysctlOriginals, readTimerOutcome } from './statedir.js';
import { applyState, sysctlKeysFor, withPrevious, type ApplyOptions, type ApplyResult, type Target } from './transaction.js';

export interface Prepared {
  config: ResolvedConfig;
  desired: State;
  own: Ownership;
}

export const ownershipOf = (cfg: Pick<ResolvedConfig, 'route_protocol' | 'rule_priority' | 'providers'> & Partial<Pick<ResolvedConfig, 'copy'>>): Ownership => ({
  protocol: cfg.route_protocol,
  prefs: [cfg.rule_priority, cfg.rule_priority + PRIORITY_SPAN - 1],
  tables: Object.values(cfg.providers).map((p) => p.table),
  copyTables: Object.values(cfg.providers).filter((p) => p.routes === 'copy').map((p) => p.table),
  copyProtocol: cfg.copy?.protocol ?? DEFAULT_COPY_PROTOCOL,
});

export const DEFAULT_OWNERSHIP: Ownership = ownershipOf({ route_protocol: DEFAULTS.route_protocol, rule_priority: DEFAULTS.rule_priority, providers: {} });

/** Parse and validate; throws UserError with every issue. */
export function checkConfig(text: string, file: string): ReturnType<typeof parseConfig> & { ok: true } {
  const r = parseConfig(text, file);
  if (!r.ok) throw new UserError(`${file}: ${r.issues.length} error${r.issues.length === 1 ? '' : 's'}`, r.issues);
  return r;
}

/**
 * Facts of the live system. Main's routes are not read: on a live system the route copier
 * (src/routecopy/) keeps the `routes: copy` tables, outside the transaction; only a state
 * read for `explain` carries them (factsOf), to show the copies.
 */
export async function readFacts(cfg: ResolvedConfig, target: Target): Promise<SystemFacts> {
  const [links, sysctls] = await Promise.all([readLinks(target.exec), readSysctls(sysctlFactKeys(cfg), target.exec)]);
  return { links, mainRoutes: [], sysctls };
}

/** Config → desired state for this system; the system's mismatches are config errors with positions. */
export async function prepare(text: string, file: string, target: Target): Promise<Prepared> {
  const parsed = checkConfig(text, file);
  return prepareWithFacts(parsed, file, await readFacts(parsed.config, target));
}

/** The same for facts taken from elsewhere (a saved state, for explain). */
export function prepareWithFacts(parsed: ReturnType<typeof checkConfig>, file: string, facts: SystemFacts): Prepared {
  const sys = systemIssues(parsed.config, facts);
  if (sys.length > 0) {
    throw new UserError(`${file}: the system does not match the config; nothing was changed`, parsed.locate(sys));
  }
  return { config: parsed.config, desired: compile(parsed.config, facts), own: ownershipOf(parsed.config) };
}

/** Facts about a router from a State read or saved earlier. */
export const factsOf = (s: State): SystemFacts => ({ links: s.links, mainRoutes: s.routes.filter((r) => r.table === TABLE_IDS.main), sysctls: s.sysctls });

export interface PlanOutput {
  plan: Plan;
  /** the previously applied script, for a readable diff */
  previousScript?: string;
}

export async function planPrepared(prep: Prepared, target: Target): Promise<PlanOutput> {
  const before = await readState(sysctlKeysFor(prep.desired), target.exec, withPrevious(prep.own, readNftRecord(target.stateDir)));
  const record = readNftRecord(target.stateDir);
  const p = plan(prep.desired, before.state, withPrevious(prep.own, record), record);
  const timer = readTimerOutcome(target.stateDir);
  if (timer?.result === 'revert-failed') p.warnings.push(`the confirm timer could not revert an unconfirmed change (${timer.at}): ${timer.error}; check the host`);
  else if (timer?.result === 'reverted') p.warnings.push(`an unconfirmed change was reverted by the confirm timer at ${timer.at}`);
  return { plan: p, previousScript: record?.script };
}

export function applyPrepared(prep: Prepared, target: Target, opts: ApplyOptions = {}): Promise<ApplyResult> {
  return applyState(prep.desired, prep.own, target, { ...opts, recordSysctls: true });
}

/** Remove everything multihome owns and restore the sysctls it changed. */
export async function down(target: Target, own?: Ownership, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const record = readNftRecord(target.stateDir);
  const ownership = own ?? record?.ownership ?? DEFAULT_OWNERSHIP;
  const empty: State = { rules: [], routes: [], nft: null, sysctls: readSysctlOriginals(target.stateDir), links: [] };
  const result = await applyState(empty, ownership, target, { ...opts, teardown: true });
  // the route copier's copies: one kernel-filtered flush per table and family
  const copyTables = new Set([...(ownership.copyTables ?? []), ...ownership.tables]);
  await flushCopies([...copyTables], ownership.copyProtocol ?? DEFAULT_COPY_PROTOCOL, target.exec);
  clearAll(target.stateDir);
  return result;
}

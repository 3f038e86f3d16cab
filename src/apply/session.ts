// The commands' common path: config text → checked against the live system →
// desired State, then plan, apply or down against a target (a namespace, or
// this host).
import type { ResolvedConfig } from '../config/assign.js';
import { parseConfig } from '../config/parse.js';
import { compile } from '../compile/index.js';
import { linkDown, routeBlocker } from '../compile/links.js';
import { systemIssues } from '../compile/system-checks.js';
import type { SystemFacts } from '../compile/facts.js';
import { UserError } from '../errors/index.js';
import { sysctlFactKeys } from '../compile/sysctl.js';
import type { Family } from '../net/ip.js';
import { TABLE_IDS, type State } from '../state/types.js';
import { DEFAULT_COPY_PROTOCOL } from '../config/schema.js';
import { foreignMarkWarnings } from './foreign-marks.js';
import { DEFAULT_OWNERSHIP, ownershipOf, type Ownership } from './ownership.js';
import type { Plan } from './plan.js';
import type { CopyStatus } from '../routecopy/engine.js';
import { armRevert, refuseIfPending } from './confirm.js';
import { syncCopies } from './copy.js';
import { clearAll, clearTimerOutcome, lock, readNftRecord, readTimerOutcome, type Journal } from './statedir.js';
import { applyState, prospect, type ApplyOptions, type ApplyResult, type Target } from './transaction.js';

export { ownershipOf } from './ownership.js';

export interface Prepared {
  config: ResolvedConfig;
  desired: State;
  own: Ownership;
  facts: SystemFacts;
}

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
  const [links, sysctls] = await Promise.all([target.kernel.readLinks(), target.kernel.readSysctls(sysctlFactKeys(cfg))]);
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
  return { config: parsed.config, desired: compile(parsed.config, facts), own: ownershipOf(parsed.config), facts };
}

/** Facts about a router from a State read or saved earlier. */
export const factsOf = (s: State): SystemFacts => ({ links: s.links, mainRoutes: s.routes.filter((r) => r.table === TABLE_IDS.main), sysctls: s.sysctls });

/** What the links leave out of a compiled config now, as plan warnings. */
export function linkWarnings(cfg: ResolvedConfig, facts: SystemFacts): string[] {
  const out: string[] = [];
  for (const p of Object.values(cfg.providers)) {
    const down = linkDown(p, facts);
    const blocked = ([4, 6] as Family[])
      .filter((f) => p.gateway[f])
      .map((f) => [f, routeBlocker(p, f, facts)] as const)
      .filter(([, b]) => b !== null);
    if (down)
      out.push(
        `provider ${p.name} is down: ${down}; groups skip it${blocked.length ? ' and its default route is left out' : ''} until its link is back (\`multihome run\` follows the link by itself)`,
      );
    else for (const [f, b] of blocked) out.push(`provider ${p.name}: its IPv${f} default route is left out: ${b}`);
  }
  return out;
}

/** An apply that did not finish, as a plan warning. */
function journalWarning(j: Journal): string {
  let alive: boolean;
  try {
    process.kill(j.pid, 0);
    alive = j.pid !== process.pid;
  } catch {
    alive = false;
  }
  return alive
    ? `multihome ${j.command} (pid ${j.pid}) is changing the kernel right now (since ${j.startedAt}); this plan may be out of date in a moment`
    : `multihome ${j.command} (pid ${j.pid}, started ${j.startedAt}) stopped before it finished; this plan includes what it left behind, and apply or down completes it`;
}

export interface PlanOutput {
  plan: Plan;
  /** the previously applied script, for a readable diff */
  previousScript?: string;
}

/** What `apply` of this config would do now: the same prospect apply acts on, with its warnings. */
export async function planPrepared(prep: Prepared, target: Target): Promise<PlanOutput> {
  const pr = await prospect(prep.desired, prep.own, target);
  const p = pr.plan;
  if (pr.journal) p.warnings.unshift(journalWarning(pr.journal));
  p.warnings.push(...linkWarnings(prep.config, prep.facts));
  p.warnings.push(...foreignMarkWarnings(await target.kernel.foreignProgram(), prep.config.mark_mask));
  const timer = readTimerOutcome(target.stateDir);
  if (timer?.result === 'revert-failed')
    p.warnings.push(`the confirm timer could not revert an unconfirmed change (${timer.at}): ${timer.error}; check the host`);
  else if (timer?.result === 'reverted') p.warnings.push(`an unconfirmed change was reverted by the confirm timer at ${timer.at}`);
  return { plan: p, previousScript: pr.record?.script };
}

export function applyPrepared(prep: Prepared, target: Target, opts: ApplyOptions = {}): Promise<ApplyResult> {
  return applyState(prep.desired, prep.own, target, { command: 'apply', ...opts, recordSysctls: true });
}

/**
 * Remove everything multihome owns and restore the sysctls it changed. The ownership is the
 * given one (`down -c FILE`), else the record's, else the defaults — always joined with the
 * record's and an interrupted apply's journal (applyState does that).
 */
export async function down(target: Target, own?: Ownership, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const record = readNftRecord(target.stateDir);
  const ownership = own ?? record?.ownership ?? DEFAULT_OWNERSHIP;
  const empty: State = { rules: [], routes: [], nft: null, sysctls: {}, links: [] };
  const result = await applyState(empty, ownership, target, { command: 'down', ...opts, teardown: true });
  // the route copier's copies: one kernel-filtered flush per table and family
  const copyTables = new Set([...(ownership.copyTables ?? []), ...ownership.tables, ...(record?.ownership?.tables ?? [])]);
  await target.kernel.flushCopies([...copyTables], ownership.copyProtocol ?? DEFAULT_COPY_PROTOCOL);
  clearAll(target.stateDir);
  return result;
}

export interface ApplyCommandOptions {
  /** arm the confirm timer for this many seconds when something changed */
  confirmSeconds?: number;
  /** starts the detached timer process, returns its pid */
  startTimer: () => number;
  onStep?: ApplyOptions['onStep'];
  /** the config file, for the route copier's `routes sync` */
  configFile: string;
}

export interface ApplyCommandResult {
  result: ApplyResult;
  copies: CopyStatus | null;
  /** when the confirm timer reverts, if it was armed */
  deadline?: number;
}

/**
 * `multihome apply`: under the lock, refuse while a confirmation is pending, copy main into
 * the `copy` tables, apply and verify, forget what the confirm timer did before, and arm it
 * again when asked (with everything a revert needs: the snapshot, the ownership, the sysctls,
 * the records as they were).
 */
export async function applyCommand(prep: Prepared, target: Target, o: ApplyCommandOptions): Promise<ApplyCommandResult> {
  const unlock = lock(target.stateDir);
  try {
    refuseIfPending(target);
    const recordBefore = readNftRecord(target.stateDir);
    const copies = await syncCopies(prep.config, o.configFile, target);
    const result = await applyPrepared(prep, target, o.onStep ? { onStep: o.onStep } : {});
    clearTimerOutcome(target.stateDir); // the kernel now holds this config, whatever the timer did before
    if (o.confirmSeconds === undefined || !result.changed) return { result, copies };
    const deadline = armRevert(
      target,
      o.confirmSeconds,
      { snapshot: result.before, own: result.own, sysctlKeys: result.sysctlKeys, record: recordBefore, originals: result.originals },
      o.startTimer,
    );
    return { result, copies, deadline };
  } finally {
    unlock();
  }
}

/** `multihome down` under the lock. */
export async function downCommand(target: Target, own?: Ownership): Promise<ApplyResult> {
  const unlock = lock(target.stateDir);
  try {
    return await down(target, own);
  } finally {
    unlock();
  }
}

// Apply a desired state as one transaction: everything that can fail is done
// before the first change (read, plan, steps); then execute, read back and
// verify; on any failure, restore the state read before and say so.
//
// Crash consistency: before the first change, the intent — the ownership this
// apply acts with (the config's, the last record's, an earlier interrupted
// one's) and the sysctls it will touch — is journalled durably in the state
// dir; the journal is removed only once the apply is recorded or reverted. A
// process killed at any point therefore leaves a journal that every later
// plan, apply, down and daemon start joins into its ownership: what was
// created is never orphaned, and the next plan shows exactly what is left.
import { ApplyError, UserError } from '../errors/index.js';
import type { ExecOptions } from '../kernel/exec.js';
import { realKernel, type KernelPort } from '../kernel/port.js';
import type { Snapshot } from '../kernel/read.js';
import type { Step } from '../state/steps.js';
import type { State } from '../state/types.js';
import { ownedRoutes, ownedRules, withoutPrevious, withPrevious, type Ownership } from './ownership.js';
import { isEmpty, plan, type NftRecord, type Plan } from './plan.js';
import { describePlan } from './render.js';
import {
  clearJournal,
  forgetSysctlOriginals,
  readJournal,
  readNftRecord,
  readSysctlOriginals,
  recordSysctlOriginals,
  type Journal,
  writeJournal,
  writeNftRecord,
  type StateDir,
} from './statedir.js';
import { stepsOf } from './steps.js';

export interface Target {
  /** where programs run (route copies, the confirm timer, hooks): this namespace, or `--netns` */
  exec: ExecOptions;
  stateDir: StateDir;
  /** every kernel effect (the real kernel of `exec`, or a fake in tests) */
  kernel: KernelPort;
}

/** Routes of other software where multihome's must go: apply refuses before changing anything. */
export class ConflictError extends UserError {
  readonly tables: number[];
  constructor(conflicts: Plan['conflicts']) {
    super("the kernel holds routes that multihome's would clash with; nothing was changed", [], conflicts.map((c) => c.message).join('\n'));
    this.tables = [...new Set(conflicts.map((c) => c.table))];
  }
}

/** A target on the real kernel of `exec` (this namespace, or `exec.netns`). */
export const realTarget = (exec: ExecOptions, dir: string): Target => ({ exec, stateDir: { dir }, kernel: realKernel(exec) });

export interface ApplyOptions {
  teardown?: boolean;
  /** record sysctl values before changing them (apply: yes; down/revert: no) */
  recordSysctls?: boolean;
  /** called before each step, for progress output */
  onStep?: (i: number, total: number, step: Step) => void;
  /** test hook: fail after this many steps, to prove the revert */
  failAfterSteps?: number;
  /** who applies, for the journal (apply, down, daemon) */
  command?: string;
  /** runs right after the steps, before the read-back (the daemon deletes a failed provider's conntrack entries here) */
  afterSteps?: () => Promise<void>;
  /**
   * What the caller's last apply read back, when it knows nothing changed in the kernel since
   * (the daemon: no kernel event since, and only a health decision to carry out). Then only the
   * nft table is read again (its counters must be sampled before it is replaced): the rules,
   * routes, links and sysctls are taken from here. It saves the reads on the way to a failover;
   * the read-back after the steps still checks everything.
   */
  known?: Snapshot;
}

export interface ApplyResult {
  plan: Plan;
  changed: boolean;
  before: Snapshot;
  /** the state read back after the change (or the one read before, when nothing changed) */
  after: State;
  /** the sysctls this apply read and may have changed (what a revert must put back) */
  sysctlKeys: string[];
  /** sysctl-originals.json as it was before (a revert by the confirm timer puts it back) */
  originals: Record<string, string>;
  /** the ownership it acted with (the config's, the record's, an interrupted apply's): what a revert must cover */
  own: Ownership;
  /** where the time went, in ms: reading the kernel, the steps, `afterSteps`, the read-back (the daemon logs it) */
  ms: { read: number; steps: number; afterSteps: number; verify: number };
  /** `after` with the nft table's JSON: what the next apply may be given as `known` */
  afterSnapshot: Snapshot;
}

const sysctlKeysFor = (desired: State, extra: string[] = []): string[] => [...new Set([...Object.keys(desired.sysctls), ...extra])];

async function executeSteps(steps: Step[], kernel: KernelPort, opts: ApplyOptions = {}): Promise<void> {
  for (const [i, s] of steps.entries()) {
    if (opts.failAfterSteps !== undefined && i >= opts.failAfterSteps) throw new Error(`injected failure before step ${i + 1}`);
    opts.onStep?.(i, steps.length, s);
    await kernel.runStep(s);
  }
}

/**
 * The goal of an apply: `desired`, plus every sysctl multihome changed earlier that `desired`
 * no longer sets, back at its original value (a provider removed from the config gives its
 * src_valid_mark back). Keys of interfaces that are gone are left alone.
 */
function withRestoredSysctls(desired: State, originals: Record<string, string>, current: State): { goal: State; restored: string[] } {
  const restored = Object.keys(originals).filter((k) => !Object.hasOwn(desired.sysctls, k) && current.sysctls[k] !== undefined);
  if (restored.length === 0) return { goal: desired, restored };
  const sysctls = { ...desired.sysctls };
  for (const k of restored) sysctls[k] = originals[k]!;
  return { goal: { ...desired, sysctls }, restored };
}

/** The record a verified apply of `desired` leaves. */
function recordOf(desired: State, current: State, own: Ownership): NftRecord | undefined {
  if (!current.nft || !desired.nft) return undefined;
  return { fingerprint: current.nft.fingerprint, digest: current.nft.digest ?? '', script: desired.nft.script, ownership: withoutPrevious(own) };
}

/** What apply would do now, and everything it needs to do it: `plan` shows this, `applyState` carries it out. */
export interface Prospect {
  plan: Plan;
  before: Snapshot;
  /** `desired` with the sysctls to put back */
  goal: State;
  /** sysctls put back to their original value because nothing sets them any more */
  restored: string[];
  /** this config's ownership joined with the record's and an interrupted apply's journal */
  own: Ownership;
  record: NftRecord | undefined;
  journal: Journal | undefined;
  originals: Record<string, string>;
  sysctlKeys: string[];
}

/** `known` with a fresh read of the nft table, when it covers every sysctl this apply looks at; else null. */
async function fromKnown(known: Snapshot | undefined, keys: string[], target: Target): Promise<Snapshot | null> {
  if (!known || !keys.every((k) => k in known.state.sysctls)) return null;
  const nft = await target.kernel.readNft();
  return { state: { ...known.state, nft: nft.state }, nftJson: nft.json };
}

export async function prospect(desired: State, ownNow: Ownership, target: Target, known?: Snapshot): Promise<Prospect> {
  const d = target.stateDir;
  const record = readNftRecord(d);
  const journal = readJournal(d);
  const originals = readSysctlOriginals(d);
  const own = withPrevious(ownNow, record?.ownership, journal?.ownership);
  const sysctlKeys = sysctlKeysFor(desired, [...Object.keys(originals), ...(journal?.sysctlKeys ?? [])]);
  const before = (await fromKnown(known, sysctlKeys, target)) ?? (await target.kernel.readState(sysctlKeys, own));
  const { goal, restored } = withRestoredSysctls(desired, originals, before.state);
  return { plan: plan(goal, before.state, own, record), before, goal, restored, own, record, journal, originals, sysctlKeys };
}

/** Bring the kernel to `desired` (the owned part), verified, or back to where it was. */
export async function applyState(desired: State, ownNow: Ownership, target: Target, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const d = target.stateDir;
  const t0 = Date.now();
  const { plan: p, before, goal, restored, own, record, journal, originals, sysctlKeys: keys } = await prospect(desired, ownNow, target, opts.known);
  if (p.conflicts.length > 0) throw new ConflictError(p.conflicts);
  const ms = { read: Date.now() - t0, steps: 0, afterSteps: 0, verify: 0 };
  const base = { plan: p, before, sysctlKeys: keys, originals, own, ms };
  if (isEmpty(p)) {
    // The kernel already holds it (perhaps an interrupted apply got this far): make the record say so.
    const next = recordOf(desired, before.state, ownNow);
    if (next && JSON.stringify(next) !== JSON.stringify(record)) writeNftRecord(d, next);
    if (journal) clearJournal(d);
    return { ...base, changed: false, after: before.state, afterSnapshot: before };
  }
  const steps = stepsOf(p, { teardown: opts.teardown });
  writeJournal(d, { pid: process.pid, startedAt: new Date().toISOString(), command: opts.command ?? 'apply', ownership: own, sysctlKeys: keys });
  // Recorded before the first change, so a crash mid-way still lets `down` restore them.
  const recorded = opts.recordSysctls
    ? recordSysctlOriginals(
        d,
        p.sysctls.filter((s) => !restored.includes(s.key)),
      )
    : [];
  try {
    let t = Date.now();
    await executeSteps(steps, target.kernel, opts);
    ms.steps = Date.now() - t;
    t = Date.now();
    await opts.afterSteps?.();
    ms.afterSteps = Date.now() - t;
    t = Date.now();
    const after = await target.kernel.readState(keys, own);
    ms.verify = Date.now() - t;
    const left = plan(goal, after.state, own);
    if (!isEmpty(left)) throw new Error(`the kernel does not hold what was applied:\n${describePlan(left)}`);
    const next = recordOf(desired, after.state, ownNow);
    if (next) writeNftRecord(d, next);
    forgetSysctlOriginals(d, restored);
    clearJournal(d);
    return { ...base, changed: true, after: after.state, afterSnapshot: after };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    try {
      await revertTo(before, own, target, keys);
      forgetSysctlOriginals(d, recorded); // nothing of this apply remains
      clearJournal(d);
    } catch (re) {
      // the journal stays: the next plan shows what is left, and apply or down finishes it
      throw new ApplyError(`applying failed: ${why}; restoring the previous state failed too: ${re instanceof Error ? re.message : String(re)}`, false);
    }
    throw new ApplyError(`applying failed: ${why}`, true, 'the previous state was restored', e);
  }
}

/** The owned part of a snapshot as a goal state. */
function goalOf(before: Snapshot, own: Ownership, sysctlKeys: string[]): State {
  const sysctls: Record<string, string> = {};
  for (const k of sysctlKeys) if (before.state.sysctls[k] !== undefined) sysctls[k] = before.state.sysctls[k]!;
  return { rules: ownedRules(before.state, own), routes: ownedRoutes(before.state, own), nft: before.state.nft, sysctls, links: [] };
}

/** Put the owned state (and the sysctls in `keys`) back as `before` had them, and check it. */
export async function revertTo(before: Snapshot, own: Ownership, target: Target, keys: string[]): Promise<void> {
  const goal = goalOf(before, own, keys);
  const now = await target.kernel.readState(keys, own);
  // sysctls of interfaces that are gone now cannot be put back, and need not be
  for (const k of Object.keys(goal.sysctls)) if (now.state.sysctls[k] === undefined) delete goal.sysctls[k];
  const p = plan(goal, now.state, own);
  if (isEmpty(p)) return;
  await executeSteps(stepsOf(p, { teardown: !before.state.nft, nftRestoreJson: before.nftJson }), target.kernel);
  const check = await target.kernel.readState(keys, own);
  const left = plan(goal, check.state, own);
  if (!isEmpty(left)) throw new Error(`after restoring, differences remain:\n${describePlan(left)}`);
}

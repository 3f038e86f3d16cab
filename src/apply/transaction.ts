// Apply a desired state as one transaction: everything that can fail is done
// before the first change (read, plan, steps); then execute, read back and
// verify; on any failure, restore the state read before and say so.
import { ApplyError } from '../errors/index.js';
import type { ExecOptions } from '../kernel/exec.js';
import { readState, type Snapshot } from '../kernel/read.js';
import { ipBatch, nftDelete, nftLoad, nftRestoreJson, sysctlWrite } from '../kernel/write.js';
import type { State } from '../state/types.js';
import { isEmpty, ownedRoutes, ownedRules, plan, type NftRecord, type Ownership, type Plan } from './plan.js';
import { describePlan } from './render.js';
import { forgetSysctlOriginals, readNftRecord, recordSysctlOriginals, writeNftRecord, type StateDir } from './statedir.js';
import { stepsOf, type Step } from './steps.js';

export interface Target {
  exec: ExecOptions;
  stateDir: StateDir;
}

export interface ApplyOptions {
  teardown?: boolean;
  /** record sysctl values before changing them (apply: yes; down/revert: no) */
  recordSysctls?: boolean;
  /** called before each step, for progress output */
  onStep?: (i: number, total: number, step: Step) => void;
  /** test hook: fail after this many steps, to prove the revert */
  failAfterSteps?: number;
}

export interface ApplyResult {
  plan: Plan;
  changed: boolean;
  before: Snapshot;
}

export const sysctlKeysFor = (desired: State, extra: string[] = []): string[] => [...new Set([...Object.keys(desired.sysctls), ...extra])];

export async function executeSteps(steps: Step[], exec: ExecOptions, opts: ApplyOptions = {}): Promise<void> {
  for (const [i, s] of steps.entries()) {
    if (opts.failAfterSteps !== undefined && i >= opts.failAfterSteps) throw new Error(`injected failure before step ${i + 1}`);
    opts.onStep?.(i, steps.length, s);
    switch (s.kind) {
      case 'sysctl':
        await sysctlWrite(s.key, s.value, exec);
        break;
      case 'ip':
        await ipBatch(s.family, s.lines, exec);
        break;
      case 'nft-load':
        await nftLoad(s.script, exec);
        break;
      case 'nft-restore':
        await nftRestoreJson(s.json, exec);
        break;
      case 'nft-delete':
        await nftDelete(exec);
        break;
    }
  }
}

/** Bring the kernel to `desired` (the owned part), verified, or back to where it was. */
export async function applyState(desired: State, own: Ownership, target: Target, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const keys = sysctlKeysFor(desired);
  const record = readNftRecord(target.stateDir);
  own = withPrevious(own, record);
  const before = await readState(keys, target.exec, own);
  const p = plan(desired, before.state, own, record);
  if (isEmpty(p)) return { plan: p, changed: false, before };
  const steps = stepsOf(p, { teardown: opts.teardown });
  // Recorded before the first change, so a crash mid-way still lets `down` restore them.
  const recorded = opts.recordSysctls ? recordSysctlOriginals(target.stateDir, p.sysctls) : [];
  try {
    await executeSteps(steps, target.exec, opts);
    const after = await readState(keys, target.exec, own);
    const left = plan(desired, after.state, own);
    if (!isEmpty(left)) throw new Error(`the kernel does not hold what was applied:\n${describePlan(left)}`);
    if (after.state.nft) {
      const { previous: _p, ...ownership } = own;
      writeNftRecord(target.stateDir, { fingerprint: after.state.nft.fingerprint, digest: after.state.nft.digest ?? '', script: desired.nft?.script, ownership });
    }
    return { plan: p, changed: true, before };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    try {
      await revertTo(before, own, target, keys);
      forgetSysctlOriginals(target.stateDir, recorded); // nothing of this apply remains
    } catch (re) {
      throw new ApplyError(`applying failed: ${why}; restoring the previous state failed too: ${re instanceof Error ? re.message : String(re)}`, false);
    }
    throw new ApplyError(`applying failed: ${why}`, true, 'the previous state was restored');
  }
}

/** Ownership now, plus what the last apply owned (so a dropped provider's table is still cleaned up). */
export function withPrevious(own: Ownership, record: NftRecord | undefined): Ownership {
  const prev = record?.ownership;
  return prev ? { ...own, previous: { prefs: prev.prefs, tables: prev.tables } } : own;
}

/** The owned part of a snapshot as a goal state. */
export function goalOf(before: Snapshot, own: Ownership, sysctlKeys: string[]): State {
  const sysctls: Record<string, string> = {};
  for (const k of sysctlKeys) if (before.state.sysctls[k] !== undefined) sysctls[k] = before.state.sysctls[k]!;
  return { rules: ownedRules(before.state, own), routes: ownedRoutes(before.state, own), nft: before.state.nft, sysctls, links: [] };
}

/** Put the owned state (and the sysctls in `keys`) back as `before` had them, and check it. */
export async function revertTo(before: Snapshot, own: Ownership, target: Target, keys: string[]): Promise<void> {
  const goal = goalOf(before, own, keys);
  const now = await readState(keys, target.exec, own);
  const p = plan(goal, now.state, own);
  if (isEmpty(p)) return;
  await executeSteps(stepsOf(p, { teardown: !before.state.nft, nftRestoreJson: before.nftJson }), target.exec);
  const check = await readState(keys, target.exec, own);
  const left = plan(goal, check.state, own);
  if (!isEmpty(left)) throw new Error(`after restoring, differences remain:\n${describePlan(left)}`);
}

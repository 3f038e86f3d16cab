// `apply --confirm SECONDS`: the change stays, but a timer restores the state
// from before unless `multihome confirm` comes first (as `netplan try` or a
// router's `commit confirmed`), so a change made over SSH cannot lock its
// author out.
import { UserError } from '../errors/index.js';
import type { Snapshot } from '../kernel/read.js';
import type { NftRecord, Ownership } from './plan.js';
import { clearPending, lock, readPending, restoreNftRecord, writePending, writeTimerOutcome } from './statedir.js';
import { revertTo, type Target } from './transaction.js';

export interface PendingBefore {
  snapshot: Snapshot;
  own: Ownership;
  sysctlKeys: string[];
  /** the record of what was applied before this change, put back with the state */
  record?: NftRecord;
}

export function refuseIfPending(target: Target): void {
  const p = readPending(target.stateDir);
  if (p && p.deadline > Date.now()) {
    const left = Math.ceil((p.deadline - Date.now()) / 1000);
    throw new UserError(`a change is waiting for confirmation (${left}s left)`, [], 'run `multihome confirm` to keep it, or wait for it to be reverted');
  }
}

export function armRevert(target: Target, seconds: number, before: PendingBefore, startTimer: (deadline: number) => number): number {
  const deadline = Date.now() + seconds * 1000;
  writePending(target.stateDir, { deadline, netns: target.exec.netns, before });
  const pid = startTimer(deadline);
  const p = readPending(target.stateDir);
  if (p) writePending(target.stateDir, { ...p, pid });
  return deadline;
}

/** Keep the change: disarm the timer. Returns false when nothing was pending. */
export function confirm(target: Target): boolean {
  const p = readPending(target.stateDir);
  if (!p) return false;
  clearPending(target.stateDir);
  if (p.pid) {
    try {
      process.kill(p.pid, 'SIGTERM');
    } catch {
      /* the timer already ended */
    }
  }
  return true;
}

/** The timer process: wait for the deadline, then revert if still unconfirmed. */
export async function runRevertTimer(target: Target): Promise<'confirmed' | 'reverted'> {
  const first = readPending(target.stateDir);
  if (!first) return 'confirmed';
  await new Promise((r) => setTimeout(r, Math.max(0, first.deadline - Date.now())));
  const unlock = lock(target.stateDir);
  try {
    const p = readPending(target.stateDir);
    if (!p) return 'confirmed';
    const before = p.before as PendingBefore;
    try {
      await revertTo(before.snapshot, before.own, target, before.sysctlKeys);
    } catch (e) {
      // Nobody is watching this detached process: leave the outcome where plan shows it.
      writeTimerOutcome(target.stateDir, { at: new Date().toISOString(), result: 'revert-failed', error: e instanceof Error ? e.message : String(e) });
      clearPending(target.stateDir);
      throw e;
    }
    restoreNftRecord(target.stateDir, before.record);
    writeTimerOutcome(target.stateDir, { at: new Date().toISOString(), result: 'reverted' });
    clearPending(target.stateDir);
    return 'reverted';
  } finally {
    unlock();
  }
}

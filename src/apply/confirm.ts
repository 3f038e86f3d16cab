// `apply --confirm SECONDS`: the change stays, but a timer restores the state
// from before unless `multihome confirm` comes first (as `netplan try` or a
// router's `commit confirmed`), so a change made over SSH cannot lock its
// author out.
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors/index.js';
import { spawnDetached } from '../kernel/exec.js';
import type { Snapshot } from '../kernel/read.js';
import type { Ownership } from './ownership.js';
import type { NftRecord } from './plan.js';
import {
  clearJournal,
  clearPending,
  isConfirmTimer,
  lock,
  readPending,
  restoreNftRecord,
  writeJournal,
  writePending,
  writeSysctlOriginals,
  writeTimerOutcome,
} from './statedir.js';
import { revertTo, type Target } from './transaction.js';

export interface PendingBefore {
  snapshot: Snapshot;
  /** the ownership the apply acted with: the new config's joined with what was owned before */
  own: Ownership;
  sysctlKeys: string[];
  /** the record of what was applied before this change, put back with the state */
  record?: NftRecord | undefined;
  /** sysctl-originals.json as it was before this change */
  originals?: Record<string, string> | undefined;
}

export function refuseIfPending(target: Target): void {
  const p = readPending(target.stateDir);
  if (p && p.deadline > Date.now()) {
    const left = Math.ceil((p.deadline - Date.now()) / 1000);
    throw new UserError(`a change is waiting for confirmation (${left}s left)`, [], 'run `multihome confirm` to keep it, or wait for it to be reverted');
  }
}

/** The confirm timer is this same program, detached, so it survives the SSH session that started it. */
export function startConfirmTimer(target: Target): number {
  const main = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  return spawnDetached([
    process.execPath,
    main,
    ...(target.exec.netns ? ['--netns', target.exec.netns] : []),
    '--state-dir',
    target.stateDir.dir,
    '_confirm-timer',
  ]);
}

export function armRevert(target: Target, seconds: number, before: PendingBefore, startTimer: (deadline: number) => number): number {
  const deadline = Date.now() + seconds * 1000;
  writePending(target.stateDir, { deadline, ...(target.exec.netns ? { netns: target.exec.netns } : {}), before });
  const pid = startTimer(deadline);
  const p = readPending(target.stateDir);
  if (p && pid > 0) writePending(target.stateDir, { ...p, pid });
  return deadline;
}

/** Keep the change: disarm the timer. Returns false when nothing was pending. */
export function confirm(target: Target): boolean {
  const p = readPending(target.stateDir);
  if (!p) return false;
  clearPending(target.stateDir);
  // only our own timer: a pid in a file is no proof of whose process it is now
  if (p.pid && isConfirmTimer(p.pid, target.stateDir)) {
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
    const before = p.before;
    // journalled like any change, so a timer killed mid-way leaves what plan and down can see
    writeJournal(target.stateDir, {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      command: 'confirm-timer revert',
      ownership: before.own,
      sysctlKeys: before.sysctlKeys,
    });
    try {
      await revertTo(before.snapshot, before.own, target, before.sysctlKeys);
    } catch (e) {
      // Nobody is watching this detached process: leave the outcome where plan shows it.
      writeTimerOutcome(target.stateDir, { at: new Date().toISOString(), result: 'revert-failed', error: e instanceof Error ? e.message : String(e) });
      clearPending(target.stateDir);
      throw e;
    }
    restoreNftRecord(target.stateDir, before.record);
    if (before.originals) writeSysctlOriginals(target.stateDir, before.originals);
    writeTimerOutcome(target.stateDir, { at: new Date().toISOString(), result: 'reverted' });
    clearPending(target.stateDir);
    clearJournal(target.stateDir);
    return 'reverted';
  } finally {
    unlock();
  }
}

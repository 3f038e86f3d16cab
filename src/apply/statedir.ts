// What multihome remembers between runs, in a runtime directory (default
// /run/multihome, or /run/multihome/netns/NAME inside a named namespace): it is
// about kernel state, so it rightly vanishes on reboot with that state.
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors/index.js';
import type { NftRecord } from './plan.js';

export interface StateDir {
  dir: string;
}

const file = (d: StateDir, name: string) => path.join(d.dir, name);

function readJson<T>(p: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(p, 'utf8')) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Write atomically: a crash leaves the old file or the new one, never half of one. */
function writeJson(p: string, value: unknown): void {
  fs.mkdirSync(path.dirname(p), { recursive: true, mode: 0o700 });
  const tmp = `${p}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(tmp, p);
}

export const readNftRecord = (d: StateDir) => readJson<NftRecord>(file(d, 'nft.json'));
export const writeNftRecord = (d: StateDir, r: NftRecord) => writeJson(file(d, 'nft.json'), r);

/** Sysctl values as they were before multihome first changed them; `down` puts them back. */
export const readSysctlOriginals = (d: StateDir) => readJson<Record<string, string>>(file(d, 'sysctl-originals.json')) ?? {};
/** Record values not recorded yet; returns the keys this call added. */
export function recordSysctlOriginals(d: StateDir, changes: { key: string; from: string | undefined }[]): string[] {
  const orig = readSysctlOriginals(d);
  const added: string[] = [];
  for (const c of changes) {
    if (c.from !== undefined && !Object.hasOwn(orig, c.key)) {
      orig[c.key] = c.from;
      added.push(c.key);
    }
  }
  if (added.length) writeJson(file(d, 'sysctl-originals.json'), orig);
  return added;
}

/** Drop keys again (an apply that was reverted changed nothing for `down` to restore). */
export function forgetSysctlOriginals(d: StateDir, keys: string[]): void {
  if (keys.length === 0) return;
  const orig = readSysctlOriginals(d);
  for (const k of keys) delete orig[k];
  if (Object.keys(orig).length) writeJson(file(d, 'sysctl-originals.json'), orig);
  else fs.rmSync(file(d, 'sysctl-originals.json'), { force: true });
}

/** The nft record as it was, put back (or removed) when a change is reverted. */
export function restoreNftRecord(d: StateDir, r: NftRecord | undefined): void {
  if (r) writeNftRecord(d, r);
  else fs.rmSync(file(d, 'nft.json'), { force: true });
}

/** What the confirm timer did last, for `plan` and `confirm` to report. */
export interface TimerOutcome {
  at: string;
  result: 'reverted' | 'revert-failed';
  error?: string;
}
export const readTimerOutcome = (d: StateDir) => readJson<TimerOutcome>(file(d, 'confirm-timer.json'));
export const writeTimerOutcome = (d: StateDir, o: TimerOutcome) => writeJson(file(d, 'confirm-timer.json'), o);
export const clearTimerOutcome = (d: StateDir) => fs.rmSync(file(d, 'confirm-timer.json'), { force: true });

/** What a pending `apply --confirm` must restore if it is not confirmed in time. */
export interface PendingRevert {
  deadline: number; // ms since epoch
  pid?: number; // the timer process
  netns?: string;
  before: unknown;
}
export const readPending = (d: StateDir) => readJson<PendingRevert>(file(d, 'pending-confirm.json'));
export const writePending = (d: StateDir, p: PendingRevert) => writeJson(file(d, 'pending-confirm.json'), p);
export const clearPending = (d: StateDir) => fs.rmSync(file(d, 'pending-confirm.json'), { force: true });

export function clearAll(d: StateDir): void {
  for (const f of ['nft.json', 'sysctl-originals.json', 'pending-confirm.json', 'confirm-timer.json']) fs.rmSync(file(d, f), { force: true });
}

/** One multihome changing the kernel at a time; a lock left by a dead process is taken over. */
export function lock(d: StateDir): () => void {
  try {
    fs.mkdirSync(d.dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      throw new UserError(`cannot create the state directory ${d.dir} (${code})`, [], 'run multihome as root, or give --state-dir');
    }
    throw e;
  }
  const p = file(d, 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(p, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(p, { force: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') throw new UserError(`cannot take the lock ${p} (${code})`, [], 'run multihome as root, or give --state-dir');
      if (code !== 'EEXIST') throw e;
      const holder = Number(fs.readFileSync(p, 'utf8'));
      if (holder && isAlive(holder) && holder !== process.pid) {
        throw new UserError(`another multihome (pid ${holder}) is changing this system`, [], `wait for it, or remove ${p} if that process is gone`);
      }
      fs.rmSync(p, { force: true });
    }
  }
  throw new UserError(`cannot take the lock ${p}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

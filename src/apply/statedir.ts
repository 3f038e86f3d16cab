// What multihome remembers between runs, in a runtime directory (default
// /run/multihome, or /run/multihome/netns/NAME inside a named namespace): it is
// about kernel state, so it rightly vanishes on reboot with that state.
//
// multihome runs as root and acts on what it reads here, so nothing here is
// trusted blindly (see trust.ts): the directory and every file must be root's
// and writable by nobody else, files are opened without following symbolic
// links, and every record is checked against a schema that admits only what
// multihome itself could have written (its own tag, priorities and tables;
// its own sysctls). Writes are atomic and durable: a temporary file, fsync,
// rename, fsync of the directory — a crash leaves the old file or the new one.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { UserError } from '../errors/index.js';
import { tryFlockExclusive } from '../kernel/flock.js';
import { StateSchema, schemaProblems } from '../state/schema.js';
import { OwnershipSchema, type Ownership } from './ownership.js';
import type { PendingBefore } from './confirm.js';
import type { NftRecord } from './plan.js';
import { checkTrustedDir, checkTrustedFd } from './trust.js';

export interface StateDir {
  dir: string;
}

const file = (d: StateDir, name: string) => path.join(d.dir, name);
const { O_RDONLY, O_RDWR, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
/** More than any record multihome writes (a confirm snapshot of a large config stays far below). */
const MAX_FILE = 256 << 20;

const checked = new Set<string>();

/** Create the directory (0700) if needed and check that it can be trusted; once per process. */
export function ensureStateDir(d: StateDir): void {
  if (checked.has(d.dir)) return;
  try {
    fs.mkdirSync(d.dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      throw new UserError(`cannot create the state directory ${d.dir} (${code})`, [], 'run multihome as root, or give --state-dir');
    }
    throw e;
  }
  checkTrustedDir(d.dir, 'the state directory');
  checked.add(d.dir);
}

/** Whether the state dir exists yet (reading needs no directory: nothing was recorded). */
function exists(d: StateDir): boolean {
  try {
    fs.accessSync(d.dir);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    if (code === 'EACCES' || code === 'EPERM') throw new UserError(`cannot read the state directory ${d.dir} (${code})`, [], 'run multihome as root');
    throw e;
  }
}

function readRaw(d: StateDir, name: string): string | undefined {
  if (!exists(d)) return undefined;
  ensureStateDir(d);
  const p = file(d, name);
  let fd: number;
  try {
    fd = fs.openSync(p, O_RDONLY | O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new UserError(`${p} is a symbolic link; refusing to follow it`, [], 'remove it: multihome writes its own files');
    if (code === 'EACCES' || code === 'EPERM') throw new UserError(`cannot read ${p} (${code})`, [], 'run multihome as root');
    throw e;
  }
  try {
    checkTrustedFd(fd, p, MAX_FILE);
    return fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** A record, checked against its schema; a file that does not fit is a user error naming it. */
function readRecord<S extends z.ZodType>(d: StateDir, name: string, schema: S): z.output<S> | undefined {
  const text = readRaw(d, name);
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw corrupt(d, name, e instanceof Error ? e.message : String(e));
  }
  const r = schema.safeParse(json);
  if (!r.success) throw corrupt(d, name, schemaProblems(r.error));
  return r.data;
}

const corrupt = (d: StateDir, name: string, detail: string) =>
  new UserError(
    `${file(d, name)} is not a record multihome wrote (${detail})`,
    [],
    `move it away; then \`multihome plan\` shows what the kernel holds, and \`multihome down -c FILE\` removes what a config owns`,
  );

/** Write atomically and durably: a crash leaves the old file or the new one, never half of one. */
function writeRecord(d: StateDir, name: string, value: unknown): void {
  ensureStateDir(d);
  const p = file(d, name);
  const tmp = `${p}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = fs.openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  try {
    fs.writeFileSync(fd, JSON.stringify(value, null, 2) + '\n');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, p);
  syncDir(d);
}

function remove(d: StateDir, ...names: string[]): void {
  if (!exists(d)) return;
  for (const n of names) fs.rmSync(file(d, n), { force: true }); // unlink never follows a link
  syncDir(d);
}

function syncDir(d: StateDir): void {
  const fd = fs.openSync(d.dir, O_RDONLY);
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

// ---- nft.json: the last successful apply

const hex16 = z.string().regex(/^[0-9a-f]{0,64}$/);
const NftRecordSchema = z.strictObject({
  fingerprint: hex16,
  digest: hex16,
  script: z
    .string()
    .max(64 << 20)
    .optional(),
  ownership: OwnershipSchema.optional(),
});

export const readNftRecord = (d: StateDir): NftRecord | undefined => readRecord(d, 'nft.json', NftRecordSchema);
export const writeNftRecord = (d: StateDir, r: NftRecord) => writeRecord(d, 'nft.json', r);

// ---- sysctl-originals.json: values before multihome first changed them

/** The sysctls multihome sets (compile/sysctl.ts), and the values they take: nothing else is ever restored from a record. */
const IFNAME = '[A-Za-z0-9_.-]{1,15}';
const OWN_SYSCTL = new RegExp(`^(net/ipv4/ip_forward|net/ipv6/conf/all/forwarding|net/ipv4/conf/${IFNAME}/src_valid_mark|net/ipv6/conf/${IFNAME}/accept_ra)$`);
const isOwnSysctl = (key: string): boolean => OWN_SYSCTL.test(key);
const SysctlOriginalsSchema = z.record(
  z.string().refine(isOwnSysctl, { error: 'not a sysctl multihome sets' }),
  z.string().regex(/^[0-2]$/, { error: 'not a value multihome restores' }),
);

/** Sysctl values as they were before multihome first changed them; `down` puts them back. */
export const readSysctlOriginals = (d: StateDir): Record<string, string> => readRecord(d, 'sysctl-originals.json', SysctlOriginalsSchema) ?? {};

/** Record values not recorded yet; returns the keys this call added. */
export function recordSysctlOriginals(d: StateDir, changes: { key: string; from: string | undefined }[]): string[] {
  const orig = readSysctlOriginals(d);
  const added: string[] = [];
  for (const c of changes) {
    if (c.from !== undefined && !Object.hasOwn(orig, c.key) && isOwnSysctl(c.key) && /^[0-2]$/.test(c.from)) {
      orig[c.key] = c.from;
      added.push(c.key);
    }
  }
  if (added.length) writeRecord(d, 'sysctl-originals.json', orig);
  return added;
}

/** Put the whole record back as it was (the confirm timer's revert). */
export function writeSysctlOriginals(d: StateDir, orig: Record<string, string>): void {
  if (Object.keys(orig).length) writeRecord(d, 'sysctl-originals.json', orig);
  else remove(d, 'sysctl-originals.json');
}

/** Drop keys again (a reverted apply, or values put back because no config sets them any more). */
export function forgetSysctlOriginals(d: StateDir, keys: string[]): void {
  if (keys.length === 0) return;
  const orig = readSysctlOriginals(d);
  for (const k of keys) delete orig[k];
  if (Object.keys(orig).length) writeRecord(d, 'sysctl-originals.json', orig);
  else remove(d, 'sysctl-originals.json');
}

/** The nft record as it was, put back (or removed) when a change is reverted. */
export function restoreNftRecord(d: StateDir, r: NftRecord | undefined): void {
  if (r) writeNftRecord(d, r);
  else remove(d, 'nft.json');
}

// ---- journal.json: an apply that has started changing the kernel and not finished

/**
 * Written (durably) before an apply, a `down` or a revert touches the kernel, removed once it
 * has finished (recorded, or reverted). Found later, it means that process died mid-way: its
 * ownership joins every later plan, apply and `down`, so what it created is never orphaned.
 */
export interface Journal {
  pid: number;
  startedAt: string;
  /** apply, down, revert, the daemon */
  command: string;
  ownership: Ownership;
  /** sysctls it was about to change */
  sysctlKeys: string[];
}
const JournalSchema = z.strictObject({
  pid: z.number().int().min(1),
  startedAt: z.string().max(64),
  command: z.string().max(64),
  ownership: OwnershipSchema,
  sysctlKeys: z.array(z.string().refine(isOwnSysctl, { error: 'not a sysctl multihome sets' })).max(100_000),
});
export const readJournal = (d: StateDir): Journal | undefined => readRecord(d, 'journal.json', JournalSchema);
export const writeJournal = (d: StateDir, j: Journal) => writeRecord(d, 'journal.json', j);
export const clearJournal = (d: StateDir) => remove(d, 'journal.json');

// ---- confirm-timer.json

/** What the confirm timer did last, for `plan` and `confirm` to report. */
export interface TimerOutcome {
  at: string;
  result: 'reverted' | 'revert-failed';
  error?: string;
}
const TimerOutcomeSchema = z.strictObject({ at: z.string().max(64), result: z.enum(['reverted', 'revert-failed']), error: z.string().max(100_000).optional() });
export const readTimerOutcome = (d: StateDir): TimerOutcome | undefined => readRecord(d, 'confirm-timer.json', TimerOutcomeSchema);
export const writeTimerOutcome = (d: StateDir, o: TimerOutcome) => writeRecord(d, 'confirm-timer.json', o);
export const clearTimerOutcome = (d: StateDir) => remove(d, 'confirm-timer.json');

// ---- pending-confirm.json

const PendingBeforeSchema = z.strictObject({
  snapshot: z.strictObject({
    state: StateSchema,
    nftJson: z
      .string()
      .max(64 << 20)
      .nullable(),
  }),
  own: OwnershipSchema,
  sysctlKeys: z.array(z.string().refine(isOwnSysctl, { error: 'not a sysctl multihome sets' })).max(100_000),
  record: NftRecordSchema.optional(),
  originals: z.record(z.string().refine(isOwnSysctl), z.string().regex(/^[0-2]$/)).optional(),
});
const PendingSchema = z.strictObject({
  deadline: z.number().int().min(0),
  pid: z.number().int().min(1).optional(),
  netns: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/)
    .optional(),
  before: PendingBeforeSchema,
});
// the schema and the type the apply writes are one
const _pendingFits = (b: PendingBefore): z.input<typeof PendingBeforeSchema> => b;
void _pendingFits;

/** What a pending `apply --confirm` must restore if it is not confirmed in time. */
export type PendingRevert = z.output<typeof PendingSchema>;
export const readPending = (d: StateDir): PendingRevert | undefined => readRecord(d, 'pending-confirm.json', PendingSchema);
export const writePending = (d: StateDir, p: PendingRevert) => writeRecord(d, 'pending-confirm.json', p);
export const clearPending = (d: StateDir) => remove(d, 'pending-confirm.json');

export function clearAll(d: StateDir): void {
  remove(d, 'nft.json', 'sysctl-originals.json', 'pending-confirm.json', 'confirm-timer.json', 'journal.json');
}

// ---- the lock

/**
 * One multihome changing the kernel at a time. An exclusive flock(2) on `lock` (opened without
 * following links), held for as long as this process keeps the file open: taking it is atomic,
 * and it goes away with the process however it ends, so there is no stale lock to take over and
 * no race between two starting processes (kernel/flock.ts). Returns the release function.
 */
export function lock(d: StateDir): () => void {
  ensureStateDir(d);
  const p = file(d, 'lock');
  let fd: number;
  try {
    fd = fs.openSync(p, O_RDWR | O_CREAT | O_NOFOLLOW, 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw new UserError(`cannot take the lock ${p} (${code})`, [], 'run multihome as root, or give --state-dir');
    if (code === 'ELOOP') throw new UserError(`${p} is a symbolic link; refusing to follow it`, [], 'remove it');
    throw e;
  }
  try {
    checkTrustedFd(fd, p, 4096);
    if (!tryFlockExclusive(fd)) {
      const holder = fs.readFileSync(p, 'utf8').trim();
      throw new UserError(
        `another multihome${/^\d+$/.test(holder) ? ` (pid ${holder})` : ''} is changing this system`,
        [],
        'wait for it to finish (a daemon holds the lock while it runs: use `multihome reload`, or stop it)',
      );
    }
    // for people and for the message above; the lock itself is the flock
    fs.ftruncateSync(fd, 0);
    fs.writeSync(fd, `${process.pid}\n`, 0);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    fs.closeSync(fd);
  };
}

/** Whether `pid` is the confirm timer of this state dir (its command line says so), so `confirm` never signals another process. */
export function isConfirmTimer(pid: number, d: StateDir): boolean {
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.includes('_confirm-timer') && argv.includes(d.dir);
  } catch {
    return false;
  }
}

// ---- usage.json: bytes per metered provider and quota period (kept where it survives a reboot)

const UsageSchema = z.record(
  z.string().max(64),
  z.strictObject({ period: z.string().regex(/^\d{4}-(\d{2}(-\d{2})?|W\d{2})$/), bytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) }),
);
export type UsageRecord = z.output<typeof UsageSchema>;
export const readUsage = (d: StateDir, name: string): UsageRecord => readRecord(d, name, UsageSchema) ?? {};
export const writeUsage = (d: StateDir, name: string, u: UsageRecord) => writeRecord(d, name, u);

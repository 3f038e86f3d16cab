// The record of each running lab instance, one JSON file per instance under
// /run/multihome-lab (tmpfs: gone after a reboot, exactly like the namespaces).
// It is written *before* the first namespace is made, so `lab down` from any
// other process can always find and remove what a crashed run left behind.
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listNetns } from '../kernel/netns.js';

const LAB_DIR = process.env['MULTIHOME_LAB_DIR'] ?? '/run/multihome-lab';

interface ServerRecord {
  role: string;
  pid: number;
  what: string;
}

export interface LabInstance {
  id: string;
  topology: string;
  /** role → namespace name (mh-<id>-<role>) */
  namespaces: Record<string, string>;
  servers: ServerRecord[];
  createdAt: string;
  /** pid of the process that built it */
  owner: number;
}

/** Short ids keep namespace names readable; no '-' so `mh-<id>-` prefixes never overlap. */
export const ID_RE = /^[a-z0-9]{1,12}$/;

export function netnsName(id: string, role: string): string {
  return `mh-${id}-${role}`;
}

function fileOf(id: string): string {
  return join(LAB_DIR, `${id}.json`);
}

export async function saveInstance(inst: LabInstance): Promise<void> {
  await mkdir(LAB_DIR, { recursive: true, mode: 0o755 });
  const tmp = `${fileOf(inst.id)}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(inst, null, 2)}\n`, { mode: 0o644 });
  await rename(tmp, fileOf(inst.id)); // atomic: a reader never sees half a record
}

export async function loadInstance(id: string): Promise<LabInstance | undefined> {
  if (!ID_RE.test(id)) return undefined;
  try {
    return JSON.parse(await readFile(fileOf(id), 'utf8')) as LabInstance;
  } catch {
    return undefined;
  }
}

export async function forgetInstance(id: string): Promise<void> {
  await rm(fileOf(id), { force: true });
}

/** Every recorded instance, oldest first. Unreadable files are skipped. */
export async function listInstances(): Promise<LabInstance[]> {
  let names: string[];
  try {
    names = await readdir(LAB_DIR);
  } catch {
    return [];
  }
  const out: LabInstance[] = [];
  for (const n of names) {
    const m = /^([a-z0-9]+)\.json$/.exec(n);
    if (!m) continue;
    const inst = await loadInstance(m[1]!);
    if (inst) out.push(inst);
  }
  return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/** Whether process `pid` exists (signal 0 checks without sending anything). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A record that stands for nothing any more: the process that built it is gone and none of its
 * namespaces exists (a run killed after removing its namespaces, or records kept across a
 * deletion by hand). A record whose builder still runs may be one being built.
 */
function isGone(inst: LabInstance, liveNamespaces: ReadonlySet<string>): boolean {
  return !alive(inst.owner) && !Object.values(inst.namespaces).some((n) => liveNamespaces.has(n));
}

/** Every recorded instance, oldest first, each marked `gone` when it stands for nothing any more (`lab list`). */
export async function listInstancesChecked(): Promise<(LabInstance & { gone: boolean })[]> {
  const live = new Set(await listNetns());
  return (await listInstances()).map((i) => ({ ...i, gone: isGone(i, live) }));
}

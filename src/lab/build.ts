// Build a topology in fresh namespaces and tear it down again. labUp either
// returns a complete instance or leaves nothing behind; labDown removes an
// instance whoever built it, and is safe to call twice.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { InternalError, UserError } from '../errors/index.js';
import { addAddr, addNetns, addRoute, delNetns, linkUp, netnsIpJson, listNetns, stopNetnsProcesses, sysctlIn, vethBetween } from '../kernel/netns.js';
import { forgetInstance, ID_RE, listInstances, loadInstance, netnsName, saveInstance, type LabInstance } from './instances.js';
import { topologyProblems, type Topology } from './topology.js';

export { type LabInstance } from './instances.js';

export interface LabUpOptions {
  /** default: 6 random hex characters, so parallel runs never collide */
  id?: string;
  /** checked between steps: an aborted build cleans up and rejects */
  signal?: AbortSignal;
}

export function newLabId(): string {
  return randomBytes(3).toString('hex');
}

/** The namespace of a role in an instance (throws for an unknown role: a topology bug). */
export function nsOf(inst: LabInstance, role: string): string {
  const ns = inst.namespaces[role];
  if (!ns) throw new InternalError(`lab ${inst.id} has no namespace for role ${role}`);
  return ns;
}

export async function labUp(topology: Topology, opts: LabUpOptions = {}): Promise<LabInstance> {
  const problems = topologyProblems(topology);
  if (problems.length > 0) throw new InternalError(`topology ${topology.name}: ${problems.join('; ')}`);
  const id = opts.id ?? newLabId();
  if (!ID_RE.test(id)) throw new UserError(`lab id ${JSON.stringify(id)}: use 1-12 lowercase letters or digits`);

  const namespaces: Record<string, string> = {};
  for (const n of topology.namespaces) namespaces[n.role] = netnsName(id, n.role);
  const existing = new Set(await listNetns());
  const clash = Object.values(namespaces).filter((n) => existing.has(n));
  if (clash.length > 0 || (await loadInstance(id))) {
    throw new UserError(`lab ${id} already exists${clash.length ? ` (${clash.join(', ')})` : ''}`, [], `multihome lab down ${id}`);
  }

  const inst: LabInstance = {
    id,
    topology: topology.name,
    namespaces,
    servers: [],
    createdAt: new Date().toISOString(),
    owner: process.pid,
  };
  await saveInstance(inst); // before anything exists, so a crash is always recoverable
  try {
    await build(topology, inst, opts.signal);
    return inst;
  } catch (e) {
    await labDown(inst).catch(() => undefined); // the build error is the one worth reporting
    throw e;
  }
}

/**
 * Every lab namespace: IPv6 addresses usable at once (no duplicate address
 * detection on links that only the lab uses), so the kernel state a test
 * snapshots does not change under it while link-local addresses settle.
 */
const LAB_SYSCTLS: [string, string][] = [
  ['net.ipv6.conf.all.accept_dad', '0'],
  ['net.ipv6.conf.default.accept_dad', '0'],
];

async function build(t: Topology, inst: LabInstance, signal?: AbortSignal): Promise<void> {
  const step = () => {
    if (signal?.aborted) throw new UserError(`lab ${inst.id}: build interrupted`);
  };
  const ns = (role: string) => nsOf(inst, role);

  for (const n of t.namespaces) {
    step();
    await addNetns(ns(n.role));
    // Before any interface exists, so conf.default.* reaches the veths.
    for (const [k, v] of [...LAB_SYSCTLS, ...n.sysctls]) await sysctlIn(ns(n.role), k, v);
    await linkUp(ns(n.role), 'lo');
    for (const a of n.loopback) await addAddr(ns(n.role), 'lo', a);
  }
  for (const l of t.links) {
    step();
    await vethBetween(ns(l.a.role), l.a.ifname, ns(l.b.role), l.b.ifname);
    for (const end of [l.a, l.b]) {
      for (const a of end.addrs) await addAddr(ns(end.role), end.ifname, a);
      await linkUp(ns(end.role), end.ifname);
    }
  }
  for (const r of t.routes) {
    step();
    await addRoute(ns(r.role), r.spec);
  }
  for (const n of t.namespaces) await settleLinkLocal(ns(n.role));
}

/**
 * The kernel gives an interface its IPv6 link-local address (and its fe80::/64 and local routes)
 * when the link comes up on both ends, from a work queue, a moment later. Wait for every veth to
 * have one, so that a test's snapshot of the kernel state does not change under it.
 */
export async function settleLinkLocal(ns: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const links = await netnsIpJson<{ ifname: string; flags?: string[]; addr_info?: { family: string; scope: string; tentative?: boolean }[] }[] | null>(ns, [
      'addr',
      'show',
    ]);
    const pending = (links ?? []).filter(
      (l) => l.ifname !== 'lo' && l.flags?.includes('LOWER_UP') && !(l.addr_info ?? []).some((a) => a.family === 'inet6' && a.scope === 'link' && !a.tentative),
    );
    if (pending.length === 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new InternalError(`lab: IPv6 link-local addresses in ${ns} did not settle`);
}

/**
 * Remove an instance (given as the record or its id): end every process in its
 * namespaces, delete the namespaces, forget the record. Also removes
 * `mh-<id>-*` namespaces the record does not list, e.g. from a lost record.
 * Returns the namespaces removed.
 */
export async function labDown(instOrId: LabInstance | string): Promise<string[]> {
  const id = typeof instOrId === 'string' ? instOrId : instOrId.id;
  if (!ID_RE.test(id)) throw new UserError(`lab id ${JSON.stringify(id)}: use 1-12 lowercase letters or digits`);
  const inst = typeof instOrId === 'string' ? await loadInstance(id) : instOrId;
  const live = await listNetns();
  const prefix = netnsName(id, '');
  const names = new Set([...Object.values(inst?.namespaces ?? {}), ...live.filter((n) => n.startsWith(prefix))]);
  const present = [...names].filter((n) => live.includes(n));

  // Processes first: a deleted namespace handle with a process still inside
  // would keep the namespace and its veths alive, invisible to `ip netns`.
  await Promise.all(present.map((n) => stopNetnsProcesses(n)));
  const errors: string[] = [];
  for (const n of present) {
    await delNetns(n).catch((e: unknown) => errors.push(e instanceof Error ? e.message : String(e)));
  }
  const left = (await listNetns()).filter((n) => names.has(n));
  if (left.length > 0) {
    throw new InternalError(`lab ${id}: could not remove ${left.join(', ')}${errors.length ? `: ${errors.join('; ')}` : ''}`);
  }
  // what multihome kept for these namespaces (the default state dir of each) goes with them
  for (const n of names) if (/^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/.test(n)) fs.rmSync(path.join('/run/multihome/netns', n), { recursive: true, force: true });
  await forgetInstance(id);
  return present;
}

/** Remove every recorded instance; returns the ids removed. */
export async function labDownAll(): Promise<string[]> {
  const ids: string[] = [];
  for (const inst of await listInstances()) {
    await labDown(inst);
    ids.push(inst.id);
  }
  return ids;
}

// The kernel side of the differential test: install a generated world in a
// fresh pair of network namespaces, read it back as State (src/kernel/read.ts,
// the most faithful input for the simulator), and ask the kernel about many
// packets at once with `ip -j -batch -` of `route get` lines. Nothing leaves
// the namespaces: `ip route get` sends no packet, and the only devices are
// veths between the world's namespace and its peer namespace.
import { randomBytes } from 'node:crypto';
import { CommandError, run, runOk } from '../../src/kernel/exec.js';
import { delNetns, pinHashSeed } from '../../src/kernel/netns.js';
import { readLinks, readRoutes, readRoutingSysctls, readRules } from '../../src/kernel/read.js';
import type { Family } from '../../src/net/ip.js';
import type { Packet } from '../../src/sim/types.js';
import { routeArgs, ruleArgs } from '../../src/state/format.js';
import type { State } from '../../src/state/types.js';
import type { WorldSpec } from './generate.js';

export type KernelAnswer =
  | {
      ok: true;
      /** rtm_type: 1 unicast, 2 local, 3 broadcast, … (ip -N prints numbers) */
      type: number;
      /** null: the answer has no table (the oif fallback, limited broadcast) */
      table: number | null;
      dev: string | null;
      gateway: string | null;
    }
  | {
      ok: false;
      /** ENETUNREACH, EHOSTUNREACH, EACCES, EINVAL, or the raw message for anything else */
      error: string;
    };

export interface Refusal {
  family: Family;
  line: string;
  message: string;
}

export interface InstalledWorld {
  ns: string;
  peer: string;
  /** the world as the kernel holds it */
  state: State;
  /** routes and rules the kernel refused (dropped from the world) */
  refused: Refusal[];
}

/** Namespaces of worlds being installed or used right now (for a signal handler to delete). */
export const liveNamespaces = new Set<string>();

/** Unique namespace names for one world: `mh-diff-<random>` and its peer. */
export function namespaceNames(): { ns: string; peer: string } {
  const id = randomBytes(5).toString('hex');
  return { ns: `mh-diff-${id}`, peer: `mh-diff-${id}-p` };
}

/**
 * One `ip -batch -` with -force: every line runs, failures are reported on
 * stderr as the error text followed by "Command failed -:N". Returns the
 * failure messages by 1-based line number, and stdout.
 */
export async function ipBatch(args: string[], lines: string[], netns?: string): Promise<{ stdout: string; failed: Map<number, string> }> {
  const argv = ['ip', ...(netns ? ['-n', netns] : []), ...args, '-force', '-batch', '-'];
  const r = await run(argv, { input: lines.map((l) => `${l}\n`).join(''), timeoutMs: 120_000 });
  const failed = new Map<number, string>();
  let pending: string[] = [];
  for (const line of r.stderr.split('\n')) {
    const m = /^Command failed -:(\d+)$/.exec(line.trim());
    if (m) {
      failed.set(Number(m[1]), pending.join(' ').trim());
      pending = [];
    } else if (line.trim()) {
      pending.push(line.trim());
    }
  }
  // Anything left over is not a per-line failure (a parse error ends the batch).
  if (pending.length > 0) throw new CommandError(argv, r.code, pending.join('\n'));
  return { stdout: r.stdout, failed };
}

const quoteFree = (s: string) => {
  if (!/^[A-Za-z0-9_.:/-]+$/.test(s)) throw new Error(`unexpected batch word ${JSON.stringify(s)}`);
  return s;
};
/** Words as one line of an `ip -batch` (no quoting there: only plain words are allowed). */
export const line = (words: string[]) => words.map(quoteFree).join(' ');

/** IPv4 per-device settings at their kernel defaults, set on `all` and `default` before any device exists. */
const BASELINE_CONF: Record<string, number> = {
  rp_filter: 0,
  src_valid_mark: 0,
  accept_local: 0,
  route_localnet: 0,
  ignore_routes_with_linkdown: 0,
  send_redirects: 1,
};

/**
 * A new namespace copies IPv4 conf/all and conf/default from the host's: these
 * assignments put them back at the kernel's own defaults, so that a world means
 * the same on every machine.
 */
export const baselineIpv4Conf = (): string[] =>
  Object.entries(BASELINE_CONF).flatMap(([k, v]) => [`net.ipv4.conf.all.${k}=${v}`, `net.ipv4.conf.default.${k}=${v}`]);

/** Create the namespaces and devices, set sysctls, add routes and rules, read it all back. */
export async function installWorld(spec: WorldSpec, names = namespaceNames()): Promise<InstalledWorld> {
  const { ns, peer } = names;
  liveNamespaces.add(ns);
  liveNamespaces.add(peer);
  await runOk(['ip', 'netns', 'add', ns]);
  await runOk(['ip', 'netns', 'add', peer]);
  await pinHashSeed(ns);
  // No IPv6 link-local addresses (no DAD, nothing changes after install), no DAD for ours,
  // IPv6 forwarding on (see generate.ts: REACHABLE lookups probe neighbours); the peer has no IPv6.
  await runOk(
    [
      'sysctl',
      '-q',
      '-w',
      ...baselineIpv4Conf(),
      'net.ipv6.conf.default.addr_gen_mode=1',
      'net.ipv6.conf.default.accept_dad=0',
      'net.ipv6.conf.all.accept_dad=0',
      'net.ipv6.conf.all.forwarding=1',
    ],
    { netns: ns },
  );
  await runOk(['sysctl', '-q', '-w', 'net.ipv6.conf.default.disable_ipv6=1', 'net.ipv6.conf.all.disable_ipv6=1'], { netns: peer });
  const links: string[] = ['link set dev lo up'];
  for (const [i, l] of spec.links.entries()) {
    links.push(line(['link', 'add', 'name', l.name, 'type', 'veth', 'peer', 'name', `p${i}`, 'netns', peer]));
    if (l.group) links.push(line(['link', 'set', 'dev', l.name, 'group', String(l.group)]));
    links.push(line(['link', 'set', 'dev', l.name, 'up']));
    for (const a of l.v4) links.push(line(['addr', 'add', a, 'dev', l.name]));
    for (const a of l.v6) links.push(line(['addr', 'add', a, 'dev', l.name, 'nodad']));
  }
  await batchOk(ns, links);
  const up = spec.links.flatMap((l, i) => (l.carrier ? [line(['link', 'set', 'dev', `p${i}`, 'up'])] : []));
  if (up.length > 0) await batchOk(peer, up);
  if (spec.sysctls.length > 0) await runOk(['sysctl', '-q', '-w', ...spec.sysctls.map(([k, v]) => `${k}=${v}`)], { netns: ns });

  const refused: Refusal[] = [];
  for (const family of [4, 6] as Family[]) {
    const lines = [
      ...spec.routes.filter((r) => r.family === family).map((r) => line(['route', r.append ? 'append' : 'add', ...routeArgs(r)])),
      ...(spec.moveLocalRule ? ['rule del pref 0 lookup local'] : []),
      ...spec.rules.filter((r) => r.family === family).map((r) => line(['rule', 'add', ...ruleArgs(r)])),
    ];
    if (lines.length === 0) continue;
    const { failed } = await ipBatch([`-${family}`], lines, ns);
    for (const [n, message] of failed) refused.push({ family, line: lines[n - 1]!, message });
  }
  const down = spec.links.filter((l) => l.adminDown).map((l) => line(['link', 'set', 'dev', l.name, 'down']));
  if (down.length > 0) await batchOk(ns, down);
  await settleIpv6(ns);
  return { ns, peer, refused, state: await readWorldState(ns) };
}

/** A namespace's rules, routes, links and routing sysctls as the simulator takes them (no netfilter). */
export async function readWorldState(ns: string): Promise<State> {
  const opts = { netns: ns };
  const [rules, routes, links, sysctls] = await Promise.all([readRules(opts), readRoutes(opts), readLinks(opts), readRoutingSysctls(opts)]);
  return { rules, routes, links, sysctls, nft: null };
}

/** An `ip -n NS -batch` every line of which must succeed. */
export async function batchOk(ns: string, lines: string[]): Promise<void> {
  const { failed } = await ipBatch([], lines, ns);
  if (failed.size > 0) {
    const [n, msg] = [...failed][0]!;
    throw new Error(`in ${ns}: "${lines[n - 1]}" failed: ${msg}`);
  }
}

/** Wait until no IPv6 address is tentative (with accept_dad=0 this is at once; the local routes come with it). */
export async function settleIpv6(ns: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const r = await run(['ip', '-6', '-o', 'addr', 'show', 'tentative'], { netns: ns });
    if (r.stdout.trim() === '') return;
    await new Promise((res) => setTimeout(res, 20));
  }
  throw new Error(`IPv6 addresses in ${ns} stay tentative`);
}

export async function removeWorld(w: { ns: string; peer: string }): Promise<void> {
  const errors: unknown[] = [];
  for (const n of [w.ns, w.peer]) {
    try {
      await delNetns(n);
      liveNamespaces.delete(n);
    } catch (e) {
      errors.push(e);
    }
  }
  if (errors.length > 0) throw errors[0];
}

/** Install, run `fn`, always delete the namespaces (also when install fails half-way). */
export async function withWorld<T>(spec: WorldSpec, fn: (w: InstalledWorld) => Promise<T>): Promise<T> {
  const names = namespaceNames();
  try {
    const w = await installWorld(spec, names);
    return await fn(w);
  } finally {
    await removeWorld(names);
  }
}

const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;

/**
 * The `ip route get` words for a packet (reference §5): IPv4 with iif needs
 * `from`; IPv6 with iif needs `uid 0` (else the kernel uses an invalid uid);
 * without ipproto the kernel assumes UDP for IPv4 and 0 for IPv6, as the
 * simulator does. The mark is the mark after PREROUTING (no netfilter runs).
 */
export function routeGetWords(p: Packet): string[] {
  const w = ['route', 'get', p.dst];
  const unspecified = p.src === '0.0.0.0' || p.src === '::';
  if (p.iif) {
    w.push('from', p.src, 'iif', p.iif);
    if (p.family === 6) w.push('uid', '0');
  } else {
    if (!unspecified) w.push('from', p.src);
    if (p.oif) w.push('oif', p.oif);
    if (p.uid !== undefined) w.push('uid', String(p.uid));
  }
  if (p.mark) w.push('mark', hex(p.mark));
  if (p.tos) w.push('tos', hex(p.tos));
  if (p.proto !== undefined) w.push('ipproto', String(p.proto));
  if (p.sport !== undefined) w.push('sport', String(p.sport));
  if (p.dport !== undefined) w.push('dport', String(p.dport));
  return w;
}

const ERRNO: Record<string, string> = {
  'Network is unreachable': 'ENETUNREACH',
  'No route to host': 'EHOSTUNREACH',
  'Permission denied': 'EACCES',
  'Invalid argument': 'EINVAL',
};

export function errnoOf(message: string): string {
  const m = /RTNETLINK answers: (.*)$/.exec(message);
  return (m && ERRNO[m[1]!.trim()]) ?? message;
}

export type J = Record<string, unknown>;

export function answerOf(o: J): Extract<KernelAnswer, { ok: true }> {
  const num = (v: unknown) => (v === undefined ? null : Number(v));
  return {
    ok: true,
    type: Number(o.type ?? 1),
    table: num(o.table),
    dev: typeof o.dev === 'string' ? o.dev : null,
    gateway: typeof o.gateway === 'string' ? o.gateway : null,
  };
}

/** One `route get` line's answer: the kernel's JSON object, or its error. */
export type RawAnswer = { ok: true; json: J } | { ok: false; error: string };

/**
 * Ask the kernel about every packet with one `ip -N -j -d -force -batch -`:
 * each answered line prints one JSON array on stdout, each failed line its
 * error on stderr followed by "Command failed -:N".
 */
export async function routeGet(ns: string, packets: Packet[]): Promise<KernelAnswer[]> {
  const raw = await routeGetRaw(
    ns,
    packets.map((p) => routeGetWords(p)),
  );
  return raw.map((r) => (r.ok ? answerOf(r.json) : r));
}

/** `route get` lines (their words, `fibmatch` too) in one batch, answered as the kernel prints them. */
export async function routeGetRaw(ns: string, queries: string[][]): Promise<RawAnswer[]> {
  if (queries.length === 0) return [];
  const lines = queries.map(line);
  const { stdout, failed } = await ipBatch(['-N', '-j', '-d'], lines, ns);
  const outs = stdout.split('\n').filter((l) => l.trim() !== '');
  if (outs.length + failed.size !== lines.length) {
    throw new Error(`route get batch: ${lines.length} lines, ${outs.length} answers and ${failed.size} errors`);
  }
  let next = 0;
  return lines.map((_, i): RawAnswer => {
    const err = failed.get(i + 1);
    if (err !== undefined) return { ok: false, error: errnoOf(err) };
    const parsed = JSON.parse(outs[next++]!) as J[];
    if (!Array.isArray(parsed) || parsed.length !== 1) throw new Error(`route get line ${i + 1}: unexpected output ${outs[next - 1]}`);
    return { ok: true, json: parsed[0]! };
  });
}

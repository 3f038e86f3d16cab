// Read the live kernel state as JSON (`ip -json`, `nft -j`) into State.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { InternalError } from '../errors/index.js';
import { FINGERPRINT_CHAIN, NFT_FAMILY, NFT_TABLE } from '../ids.js';
import type { Family } from '../net/ip.js';
import { linkFromJson, routeFromJson, ruleFromJson } from '../state/from-ip-json.js';
import type { LinkState, NftState, RouteState, RuleState, State } from '../state/types.js';
import { CommandError, run, runJson, type ExecOptions } from './exec.js';

type J = Record<string, unknown>;
const FAMILIES: Family[] = [4, 6];

export async function readRules(opts: ExecOptions = {}): Promise<RuleState[]> {
  const out: RuleState[] = [];
  for (const f of FAMILIES) {
    const list = (await runJson<J[] | null>(['ip', `-${f}`, '-N', '-j', '-d', 'rule', 'show'], opts)) ?? [];
    out.push(...list.map((o) => ruleFromJson(o, f)));
  }
  // Kernel order, not compareRules: rules of equal pref run in insertion order
  // (fib_nl_newrule puts a new rule after those of its pref), which `ip rule
  // show` preserves and the simulator relies on. Array.prototype.sort is stable.
  return out.sort((a, b) => a.family - b.family || a.pref - b.pref);
}

/** All routes of all tables; `table` limits to one table id, `protocol` to one protocol (the kernel filters both). */
export async function readRoutes(opts: ExecOptions = {}, table: number | 'all' = 'all', protocol?: number): Promise<RouteState[]> {
  const out: RouteState[] = [];
  for (const f of FAMILIES) {
    const r = await run(
      ['ip', `-${f}`, '-N', '-j', '-d', 'route', 'show', 'table', String(table), ...(protocol !== undefined ? ['proto', String(protocol)] : [])],
      opts,
    );
    // A table that does not exist yet is an empty table, not an error.
    if (r.code !== 0 && /table does not exist/i.test(r.stderr)) continue;
    if (r.code !== 0) throw new CommandError(['ip', 'route', 'show'], r.code, r.stderr.trim());
    const list = (r.stdout.trim() ? JSON.parse(r.stdout) : []) as J[];
    // ip leaves out what it filtered on: the table, and the protocol
    for (const o of list) {
      const r = routeFromJson(o, f, table === 'all' ? undefined : table);
      out.push(protocol !== undefined ? { ...r, protocol } : r);
    }
  }
  // Sorted by destination only, not compareRoutes: routes to one destination keep the
  // kernel's order (the order of the fib aliases / fib6 leaf list, which decides among
  // equal tos and metric, e.g. after `ip route append`). The sort is stable.
  return out.sort((a, b) => a.family - b.family || a.table - b.table || (a.dst < b.dst ? -1 : a.dst > b.dst ? 1 : 0));
}

/**
 * The routes of many tables, one `ip -batch` per family (a process per table and family costs 250
 * uplinks seconds): each `route show table N` prints one JSON array per line, `[]` for a table
 * that does not exist. Should the lines not match the tables one to one (an error skipped a
 * line), the tables are read one by one instead.
 */
async function readTablesBatched(tables: number[], opts: ExecOptions): Promise<RouteState[]> {
  if (tables.length <= 2) return (await Promise.all(tables.map((t) => readRoutes(opts, t)))).flat();
  const out: RouteState[] = [];
  for (const f of FAMILIES) {
    const r = await run(['ip', `-${f}`, '-N', '-j', '-d', '-force', '-batch', '-'], { ...opts, input: tables.map((t) => `route show table ${t}\n`).join('') });
    const lines = r.stdout.split('\n').filter((l) => l.trim() !== '');
    if (r.code !== 0 || lines.length !== tables.length) {
      for (const t of tables) out.push(...(await readRoutes(opts, t)).filter((x) => x.family === f));
      continue;
    }
    lines.forEach((line, i) => {
      for (const o of JSON.parse(line) as J[]) out.push(routeFromJson(o, f, tables[i]));
    });
  }
  return out;
}

export async function readLinks(opts: ExecOptions = {}): Promise<LinkState[]> {
  const list = (await runJson<J[] | null>(['ip', '-j', 'addr', 'show'], opts)) ?? [];
  return list.map(linkFromJson).sort((a, b) => a.index - b.index);
}

/**
 * Values of sysctls (slash-form keys); a key that does not exist (an interface that is gone) is
 * left out. Read from /proc/sys directly in this namespace, else with one `grep -H` in the other.
 */
export async function readSysctls(keys: string[], opts: ExecOptions = {}): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const k of keys) if (!/^[A-Za-z0-9_./-]+$/.test(k) || k.includes('..')) throw new InternalError(`refusing to read sysctl ${JSON.stringify(k)}`);
  if (keys.length === 0) return out;
  if (!opts.netns) {
    for (const k of keys) {
      try {
        out[k] = fs.readFileSync(`/proc/sys/${k}`, 'utf8').trim();
      } catch {
        // absent
      }
    }
    return out;
  }
  // "path:value" per readable file; a missing one only adds a line on stderr
  const r = await run(['grep', '-H', '', ...keys.map((k) => `/proc/sys/${k}`)], opts);
  for (const line of r.stdout.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice('/proc/sys/'.length, i)] = line.slice(i + 1).trim();
  }
  return out;
}

export interface NftSnapshot {
  state: NftState | null;
  /** the table as `nft -j` printed it, loadable with `nft -j -f` to restore it */
  json: string | null;
}

/** Structure of the live table, handles removed, for drift detection. */
function nftDigest(items: J[]): { digest: string; chains: number; rules: number; fingerprint: string } {
  const chains: J[] = [];
  const rules: J[] = [];
  let fingerprint = '';
  for (const it of items) {
    if (it.chain) {
      const { handle: _h, ...rest } = it.chain as J;
      chains.push(rest);
    }
    if (it.rule) {
      const { handle: _h, ...rest } = it.rule as J;
      // counter values change with traffic: they are not the table's structure
      rules.push({ ...rest, expr: JSON.parse(JSON.stringify(rest.expr ?? [], (k, v: unknown) => (k === 'counter' ? {} : v))) as unknown });
      if (rest.chain === FINGERPRINT_CHAIN && typeof rest.comment === 'string') fingerprint = rest.comment.replace(/^multihome /, '');
    }
  }
  const digest = createHash('sha256').update(JSON.stringify({ chains, rules })).digest('hex').slice(0, 16);
  return { digest, chains: chains.length, rules: rules.length, fingerprint };
}

/** A provider's traffic: in (arrived from its uplink), out (the rest), and both together. */
export interface ProviderCounter {
  packets: number;
  bytes: number;
  in?: { packets: number; bytes: number };
  out?: { packets: number; bytes: number };
}

/** Packets and bytes counted in each provider chain (`to_NAME`) of the live table, by direction (the rule comments `in`, `out`). */
export function providerCounters(items: J[]): Record<string, ProviderCounter> {
  const out: Record<string, ProviderCounter> = {};
  for (const it of items) {
    const r = it.rule as J | undefined;
    if (!r || typeof r.chain !== 'string' || !r.chain.startsWith('to_')) continue;
    for (const e of (r.expr as J[] | undefined) ?? []) {
      const c = e.counter as { packets?: number; bytes?: number } | undefined;
      if (!c) continue;
      const name = r.chain.slice(3);
      const v = { packets: c.packets ?? 0, bytes: c.bytes ?? 0 };
      const cur = (out[name] ??= { packets: 0, bytes: 0 });
      cur.packets += v.packets;
      cur.bytes += v.bytes;
      if (r.comment === 'in' || r.comment === 'out') cur[r.comment] = v;
    }
  }
  return out;
}

export async function readProviderCounters(opts: ExecOptions = {}): Promise<Record<string, ProviderCounter>> {
  const r = await run(['nft', '-j', 'list', 'table', NFT_FAMILY, NFT_TABLE], opts);
  if (r.code !== 0) return {};
  return providerCounters((JSON.parse(r.stdout) as { nftables: J[] }).nftables);
}

export async function readNft(opts: ExecOptions = {}): Promise<NftSnapshot> {
  const r = await run(['nft', '-j', 'list', 'table', NFT_FAMILY, NFT_TABLE], opts);
  if (r.code !== 0) {
    if (/No such file or directory/i.test(r.stderr)) return { state: null, json: null };
    throw new CommandError(['nft', 'list', 'table', NFT_FAMILY, NFT_TABLE], r.code, r.stderr.trim());
  }
  const doc = JSON.parse(r.stdout) as { nftables: J[] };
  const d = nftDigest(doc.nftables);
  return {
    state: { family: NFT_FAMILY, name: NFT_TABLE, fingerprint: d.fingerprint, digest: d.digest, chains: d.chains, rules: d.rules },
    json: r.stdout,
  };
}

export interface Snapshot {
  state: State;
  nftJson: string | null;
}

/** Everything multihome compares against, read in one go. */
/** The routes a plan needs to see: multihome's (its protocol, any table) and every route of its tables. */
export interface RouteScope {
  protocol: number;
  tables: number[];
  /** tables whose routes are mostly the route copier's: only multihome's own are read there */
  copyTables?: number[];
  /** earlier ranges (another tag, other tables) */
  previous?: { protocol: number; tables: number[] }[];
}

/**
 * Routes within `scope`, without reading what is not needed: a table that copies a full
 * internet table holds a million routes the transaction never looks at.
 */
async function readScopedRoutes(scope: RouteScope, opts: ExecOptions = {}): Promise<RouteState[]> {
  const copy = new Set(scope.copyTables ?? []);
  const full = [...new Set([...scope.tables, ...(scope.previous ?? []).flatMap((p) => p.tables)])].filter((t) => !copy.has(t));
  const protocols = [...new Set([scope.protocol, ...(scope.previous ?? []).map((p) => p.protocol)])];
  const [tagged, tables] = await Promise.all([Promise.all(protocols.map((p) => readRoutes(opts, 'all', p))), readTablesBatched(full, opts)]);
  const fullSet = new Set(full);
  const out = [...tables, ...tagged.flat().filter((r) => !fullSet.has(r.table))];
  return out.sort((a, b) => a.family - b.family || a.table - b.table || (a.dst < b.dst ? -1 : a.dst > b.dst ? 1 : 0));
}

/** Remove the route copier's copies from `tables` (kernel-filtered by protocol: one flush per table and family). */
export async function flushCopies(tables: number[], protocol: number, opts: ExecOptions = {}): Promise<void> {
  for (const t of tables) {
    for (const f of FAMILIES) {
      const r = await run(['ip', `-${f}`, 'route', 'flush', 'table', String(t), 'proto', String(protocol)], opts);
      if (r.code !== 0 && !/table does not exist|Nothing to flush/i.test(r.stderr)) throw new CommandError(['ip', 'route', 'flush'], r.code, r.stderr.trim());
    }
  }
}

/** The state a plan needs; `scope` limits the routes read (default: every route of every table). */
export async function readState(sysctlKeys: string[], opts: ExecOptions = {}, scope?: RouteScope): Promise<Snapshot> {
  const [rules, routes, links, nft, sysctls] = await Promise.all([
    readRules(opts),
    scope ? readScopedRoutes(scope, opts) : readRoutes(opts),
    readLinks(opts),
    readNft(opts),
    readSysctls(sysctlKeys, opts),
  ]);
  return { state: { rules, routes, links, nft: nft.state, sysctls }, nftJson: nft.json };
}

/** Per-interface IPv4 settings the routing decision depends on (reference §2–3). */
const ROUTING_CONF_KEYS = ['rp_filter', 'src_valid_mark', 'forwarding', 'accept_local', 'route_localnet', 'ignore_routes_with_linkdown', 'send_redirects'];

/** Per-interface IPv6 settings the routing decision depends on. */
const ROUTING_CONF_KEYS_V6 = ['forwarding', 'ignore_routes_with_linkdown'];

/**
 * Every sysctl the simulator needs, for all interfaces, in one process:
 * `grep -rH . DIR` prints "path:value" per readable file (sysctl has no JSON).
 */
export async function readRoutingSysctls(opts: ExecOptions = {}): Promise<Record<string, string>> {
  const paths = ['/proc/sys/net/ipv4/conf', '/proc/sys/net/ipv4/ip_forward', '/proc/sys/net/ipv4/fib_multipath_hash_policy', '/proc/sys/net/ipv6/conf'];
  const r = await run(['grep', '-rH', '.', ...paths], opts);
  const out: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const key = line.slice('/proc/sys/'.length, i);
    const leaf = key.slice(key.lastIndexOf('/') + 1);
    if (key.startsWith('net/ipv4/conf/') && !ROUTING_CONF_KEYS.includes(leaf)) continue;
    if (key.startsWith('net/ipv6/conf/') && !ROUTING_CONF_KEYS_V6.includes(leaf)) continue;
    out[key] = line.slice(i + 1).trim();
  }
  return out;
}

// A small lab for the route copier (issue 5): a router namespace with two
// uplinks (veth to two provider namespaces, IPv4 and IPv6), a config with
// `routes: copy`, and helpers to fill main in bulk and to compare the copy
// tables with main (read as `ip -json`). Used by test/lab/route-copy.test.ts
// and bench/route-copy.ts; everything is removed by `down()`, also on failure.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run, runOk } from '../kernel/exec.js';
import { addNetns, delNetns, stopNetnsProcesses, vethBetween } from '../kernel/netns.js';

export interface CopyLab {
  router: string;
  /** a folder for the config and the state dir */
  dir: string;
  config: string;
  tables: number[];
  down(): Promise<void>;
}

const COPY_TABLES = [100, 101];

function copyLabConfig(extra = ''): string {
  return `routes: copy
providers:
  isp1: { interface: up1, gateway: [10.1.0.1, 2001:db8:1::1], table: 100 }
  isp2: { interface: up2, gateway: [10.2.0.1, 2001:db8:2::1], table: 101 }
default: isp1
${extra}`;
}

export async function copyLabUp(tag: string, extraConfig = ''): Promise<CopyLab> {
  const id = `${tag}-${process.pid.toString(36)}${Math.random().toString(36).slice(2, 5)}`;
  const router = `mh-${id}-r`;
  const made: string[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mh-copy-'));
  const down = async () => {
    for (const ns of made.reverse()) {
      await stopNetnsProcesses(ns).catch(() => undefined);
      await delNetns(ns);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await addNetns(router);
    made.push(router);
    await runOk(['ip', 'link', 'set', 'lo', 'up'], { netns: router });
    for (const i of [1, 2]) {
      const isp = `mh-${id}-p${i}`;
      await addNetns(isp);
      made.push(isp);
      await vethBetween(router, `up${i}`, isp, 'eth0');
      await runOk(['ip', 'addr', 'add', `10.${i}.0.2/24`, 'dev', `up${i}`], { netns: router });
      await runOk(['ip', 'addr', 'add', `2001:db8:${i}::2/64`, 'dev', `up${i}`, 'nodad'], { netns: router });
      await runOk(['ip', 'link', 'set', `up${i}`, 'up'], { netns: router });
      await runOk(['ip', 'addr', 'add', `10.${i}.0.1/24`, 'dev', 'eth0'], { netns: isp });
      await runOk(['ip', 'addr', 'add', `2001:db8:${i}::1/64`, 'dev', 'eth0', 'nodad'], { netns: isp });
      await runOk(['ip', 'link', 'set', 'eth0', 'up'], { netns: isp });
    }
    await runOk(['ip', 'route', 'add', 'default', 'via', '10.1.0.1'], { netns: router });
    const config = path.join(dir, 'multihome.yaml');
    fs.writeFileSync(config, copyLabConfig(extraConfig));
    return { router, dir, config, tables: COPY_TABLES, down };
  } catch (e) {
    await down();
    throw e;
  }
}

/** `count` IPv4 /24 routes in main from 100.64.0.0 on, via `gateway`: one `ip -batch` (the fastest way iproute2 has). */
export function routeBatch(count: number, verb: 'add' | 'del' | 'replace', gateway = '10.1.0.1', table?: number, first = 0): string {
  const lines: string[] = [];
  for (let i = first; i < first + count; i++) {
    const a = 100 + (i >>> 16);
    const via = verb === 'del' ? '' : ` via ${gateway}`;
    lines.push(`route ${verb} ${a}.${(i >>> 8) & 255}.${i & 255}.0/24${via}${table ? ` table ${table}` : ''}`);
  }
  return lines.join('\n') + '\n';
}

export async function ipBatch(ns: string, batch: string, family: 4 | 6 = 4): Promise<void> {
  await runOk(['ip', `-${family}`, '-batch', '-'], { netns: ns, input: batch });
}

type J = Record<string, unknown>;

/** Routes of a table as comparable text: "dst metric type via dev", kernel-kept flags aside. */
async function routeTexts(ns: string, family: 4 | 6, table: number | 'main', protocol?: number): Promise<Map<string, string>> {
  const r = await run(['ip', `-${family}`, '-j', 'route', 'show', 'table', String(table), ...(protocol !== undefined ? ['proto', String(protocol)] : [])], {
    netns: ns,
  });
  const out = new Map<string, string>();
  if (r.code !== 0) return out;
  for (const o of JSON.parse(r.stdout || '[]') as J[]) {
    const dst = String(o.dst);
    if (dst === 'default' || (family === 6 && /^f[ef]/.test(dst))) continue;
    if (protocol === undefined && o.protocol === 77) continue;
    // ip -j prints these as numbers and strings: JSON keeps them apart and readable
    const key = `${dst} ${JSON.stringify(o.metric ?? 0)}`;
    const nh = JSON.stringify(Array.isArray(o.nexthops) ? (o.nexthops as J[]).map((n) => [n.gateway, n.dev]) : [o.gateway ?? '', o.dev ?? '']);
    out.set(key, `${JSON.stringify(o.type ?? 'unicast')} ${nh}`);
  }
  return out;
}

/** How each copy table differs from main (empty when they match): missing, extra and different routes. */
export async function copyDifferences(ns: string, tables = COPY_TABLES, protocol = 78, families: (4 | 6)[] = [4, 6]): Promise<string[]> {
  const out: string[] = [];
  for (const f of families) {
    const main = await routeTexts(ns, f, 'main');
    for (const t of tables) {
      const copy = await routeTexts(ns, f, t, protocol);
      for (const [k, v] of main) if (copy.get(k) !== v) out.push(`table ${t}: ${k} ${copy.has(k) ? `is ${copy.get(k)}, main has ${v}` : 'missing'}`);
      for (const k of copy.keys()) if (!main.has(k)) out.push(`table ${t}: ${k} stale`);
    }
  }
  return out;
}

/** Number of routes of `protocol` in a table (both families). */
export async function countRoutes(ns: string, table: number, protocol: number): Promise<number> {
  let n = 0;
  for (const f of [4, 6]) {
    const r = await run(['ip', `-${f}`, '-j', 'route', 'show', 'table', String(table), 'proto', String(protocol)], { netns: ns });
    if (r.code === 0) n += (JSON.parse(r.stdout || '[]') as unknown[]).length;
  }
  return n;
}

// Everything in a namespace that multihome might touch, as raw kernel JSON,
// to prove "left as it was" and "foreign objects byte-identical".
import { run } from '../../src/kernel/exec.js';

export interface RawSnapshot {
  rules4: string;
  rules6: string;
  routes4: string;
  routes6: string;
  nftTables: string;
  sysctls: Record<string, string>;
}

const SYSCTLS = ['net.ipv4.ip_forward', 'net.ipv6.conf.all.forwarding', 'net.ipv4.conf.all.rp_filter', 'net.ipv4.conf.all.src_valid_mark'];

async function out(netns: string, argv: string[]): Promise<string> {
  const r = await run(argv, { netns });
  return r.code === 0 ? r.stdout : `exit ${r.code}: ${r.stderr}`;
}

export async function rawSnapshot(netns: string, devs: string[] = ['eth0', 'eth1', 'eth4']): Promise<RawSnapshot> {
  const keys = [...SYSCTLS, ...devs.flatMap((d) => [`net.ipv4.conf.${d}.src_valid_mark`, `net.ipv4.conf.${d}.rp_filter`])];
  const [values, rules4, rules6, routes4, routes6, nftTables] = await Promise.all([
    Promise.all(keys.map(async (k) => (await out(netns, ['sysctl', '-n', k])).trim())),
    out(netns, ['ip', '-4', '-j', '-d', 'rule', 'show']),
    out(netns, ['ip', '-6', '-j', '-d', 'rule', 'show']),
    out(netns, ['ip', '-4', '-j', '-d', 'route', 'show', 'table', 'all']),
    out(netns, ['ip', '-6', '-j', '-d', 'route', 'show', 'table', 'all']),
    out(netns, ['nft', '-j', 'list', 'ruleset']),
  ]);
  const sysctls: Record<string, string> = {};
  keys.forEach((k, i) => (sysctls[k] = values[i]!));
  return { rules4, rules6, routes4, routes6, nftTables, sysctls };
}

/**
 * The same, comparable across reloads of the nft table: nft object handles and counter values
 * (which change with every load and every packet) left out.
 */
export async function comparableSnapshot(netns: string, devs?: string[]): Promise<RawSnapshot> {
  const s = await rawSnapshot(netns, devs);
  let nft = s.nftTables;
  try {
    nft = JSON.stringify(JSON.parse(s.nftTables, (k, v: unknown) => (k === 'handle' || k === 'metainfo' ? undefined : k === 'counter' ? {} : v)));
  } catch {
    // an error text: compared as it is
  }
  return { ...s, nftTables: nft };
}

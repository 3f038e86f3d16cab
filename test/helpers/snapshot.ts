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
  const sysctls: Record<string, string> = {};
  for (const k of keys) sysctls[k] = (await out(netns, ['sysctl', '-n', k])).trim();
  return {
    rules4: await out(netns, ['ip', '-4', '-j', '-d', 'rule', 'show']),
    rules6: await out(netns, ['ip', '-6', '-j', '-d', 'rule', 'show']),
    routes4: await out(netns, ['ip', '-4', '-j', '-d', 'route', 'show', 'table', 'all']),
    routes6: await out(netns, ['ip', '-6', '-j', '-d', 'route', 'show', 'table', 'all']),
    nftTables: await out(netns, ['nft', '-j', 'list', 'ruleset']),
    sysctls,
  };
}

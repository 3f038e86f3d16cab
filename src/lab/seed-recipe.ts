// The seed's original recipe (../shared/seed, linux-ip.net), step by step,
// run inside the router namespace: the reference multihome must reproduce.
// Only used to prove the lab and as a baseline for `lab demo`.
import { execInNetns, execInNetnsOk, netnsIp, netnsIpJson, sysctlIn } from '../kernel/netns.js';

interface JsonRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  prefsrc?: string;
  metric?: number;
}

/** `ip route add` argv for a route as `ip -j route show` prints it. */
function routeArgs(r: JsonRoute): string[] {
  const a = [r.dst];
  if (r.gateway) a.push('via', r.gateway);
  if (r.dev) a.push('dev', r.dev);
  if (r.protocol) a.push('proto', r.protocol);
  if (r.scope) a.push('scope', r.scope);
  if (r.prefsrc) a.push('src', r.prefsrc);
  if (r.metric !== undefined) a.push('metric', String(r.metric));
  return a;
}

export interface SeedRecipeOptions {
  /**
   * The recipe assumes loose (or no) reverse-path filtering. Under strict
   * rp_filter the replies of flows routed by the fwmark arrive on eth4 while
   * the unmarked reverse lookup says eth1, and the kernel drops them. When set,
   * switch eth4 to loose mode (the effective value is max(all, eth4)).
   */
  looseRpFilter?: boolean;
}

export async function applySeedRecipe(routerNs: string, opts: SeedRecipeOptions = {}): Promise<void> {
  const ipt = (args: string[]) => execInNetnsOk(routerNs, ['iptables', ...args]);

  // 1) copy main (without its default) to table 4, then the alternate default.
  // The flush fails on a table that does not exist yet: that is "already empty".
  await execInNetns(routerNs, ['ip', 'route', 'flush', 'table', '4']);
  const main = await netnsIpJson<JsonRoute[]>(routerNs, ['route', 'show', 'table', 'main']);
  for (const r of main) {
    if (r.dst !== 'default') await netnsIp(routerNs, ['route', 'add', 'table', '4', ...routeArgs(r)]);
  }
  await netnsIp(routerNs, ['route', 'add', 'table', '4', 'default', 'via', '67.17.28.14']);

  // 2) mark office web traffic; SNAT each uplink to its own address.
  await ipt(['-t', 'mangle', '-A', 'PREROUTING', '-p', 'tcp', '--dport', '80', '-s', '192.168.99.0/24', '-j', 'MARK', '--set-mark', '4']);
  await ipt(['-t', 'mangle', '-A', 'PREROUTING', '-p', 'tcp', '--dport', '443', '-s', '192.168.99.0/24', '-j', 'MARK', '--set-mark', '4']);
  await ipt(['-t', 'nat', '-A', 'POSTROUTING', '-o', 'eth4', '-j', 'SNAT', '--to-source', '67.17.28.12']);
  await ipt(['-t', 'nat', '-A', 'POSTROUTING', '-o', 'eth1', '-j', 'SNAT', '--to-source', '205.254.211.179']);

  // 3) the rule, then flush the cache.
  await netnsIp(routerNs, ['rule', 'add', 'fwmark', '4', 'table', '4']);
  await netnsIp(routerNs, ['route', 'flush', 'cache']);

  // Implied by the recipe (a router forwards); the lab starts with it off.
  await sysctlIn(routerNs, 'net.ipv4.ip_forward', '1');
  if (opts.looseRpFilter) await sysctlIn(routerNs, 'net.ipv4.conf.eth4.rp_filter', '2');
}

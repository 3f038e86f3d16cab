// A config of N uplinks (issue 14: 250 and more) and the namespace that carries them: uplink i is
// UPLINK_PREFIX+i with 10.(i>>6).((i&63)·4).2/30, its gateway .1, and one policy per provider
// sending one /32 to it.
import { runOk } from '../../src/kernel/exec.js';
import { settleLinkLocal } from '../../src/lab/build.js';

export const uplinkOf = (i: number) => ({ gateway: `10.${i >> 6}.${(i & 63) * 4}.1`, address: `10.${i >> 6}.${(i & 63) * 4}.2` });

/** The YAML: `top` lines first, then n providers on `${ifPrefix}1…N`, n policies, `default: isp1`. */
export function manyUplinksConfig(n: number, o: { top?: string; ifPrefix?: string } = {}): string {
  const lines = [o.top ?? '', 'providers:'];
  for (let i = 1; i <= n; i++) lines.push(`  isp${i}: { interface: ${o.ifPrefix ?? 'eth'}${i}, gateway: ${uplinkOf(i).gateway} }`);
  lines.push('policies:');
  for (let i = 1; i <= n; i++) lines.push(`  - { name: p${i}, match: { to: [198.18.${i >> 8}.${i & 255}/32] }, via: isp${i} }`);
  lines.push('default: isp1');
  return lines.join('\n') + '\n';
}

/**
 * n veth pairs from `router` (`${ifPrefix}i`, addressed, up) to `upstream` (`d i`, the gateway's
 * address, up): in three `ip -batch` runs, so 250 uplinks take a second, not a minute;
 * returns once every link has its IPv6 link-local address.
 */
export async function addManyUplinks(router: string, upstream: string, n: number, ifPrefix: string): Promise<void> {
  // As in the lab: no duplicate address detection, so the IPv6 routes of the links settle once
  // they have their link-local addresses (a snapshot taken before must equal one taken after).
  for (const ns of [router, upstream]) await runOk(['sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0'], { netns: ns });
  const idx = Array.from({ length: n }, (_, k) => k + 1);
  await runOk(['ip', '-batch', '-'], {
    netns: router,
    input: idx.map((i) => `link add ${ifPrefix}${i} type veth peer name d${i} netns ${upstream}\n`).join(''),
  });
  await runOk(['ip', '-batch', '-'], { netns: upstream, input: idx.map((i) => `addr add ${uplinkOf(i).gateway}/30 dev d${i}\nlink set d${i} up\n`).join('') });
  await runOk(['ip', '-batch', '-'], {
    netns: router,
    input: idx.map((i) => `addr add ${uplinkOf(i).address}/30 dev ${ifPrefix}${i}\nlink set ${ifPrefix}${i} up\n`).join(''),
  });
  await settleLinkLocal(router);
}

// IPv6 failover in the three ways a LAN reaches the IPv6 internet through two
// uplinks (the dual-stack seed lab, src/lab/seed6.ts), each with isp1's
// upstream cut while its link stays up, timed by new connections every 20 ms
// from the LAN host:
//   - NAT66 (masquerade): the server sees the router's address on the live uplink;
//   - NPTv6: the server sees the LAN host's interface ID under the live uplink's prefix;
//   - prefix per uplink (no NAT): radvd, driven by multihome, deprecates the dead
//     uplink's prefix, and the host's new connections use its address in the live one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runOk } from '../../src/kernel/exec.js';
import { netnsIpJson } from '../../src/kernel/netns.js';
import { nsOf, SEED6_SERVER, SEED6_TOPOLOGY, startConnectLoop, startEchoServer, type LabInstance } from '../../src/lab/index.js';
import { startDaemon, until } from '../helpers/daemon.js';
import { withSeedLab } from '../helpers/lab.js';

const provider = (n: 1 | 2, gw4: string, iface: string, extra: string) => `  isp${n}:
    interface: ${iface}
    gateway: [${gw4}, 2001:db8:${n}::1]
    health: { probe: icmp, targets: [203.0.113.10] }
${extra}`;

const config = (extra1: string, extra2: string, tail = '') => `providers:
${provider(1, '205.254.211.254', 'eth1', extra1)}
${provider(2, '67.17.28.14', 'eth4', extra2)}
groups:
  uplinks: [isp1, isp2]
default: uplinks
${tail}`;

/** Cut isp1's upstream and time when the LAN host's new connections are seen from `after` (a test on the address). */
async function failover(
  t: { diagnostic(s: string): void },
  inst: LabInstance,
  before: (seen: string) => boolean,
  after: (seen: string) => boolean,
  limitMs: number,
): Promise<number> {
  const loop = await startConnectLoop(nsOf(inst, 'lan'), { proto: 'tcp', host: SEED6_SERVER });
  try {
    await until('the LAN host reaches the server by isp1', 10_000, () => loop.sourcesSince(Date.now() - 500).some(before));
    await runOk(['ip', 'link', 'set', 'dev', 'up', 'down'], { netns: nsOf(inst, 'isp1') });
    const cut = Date.now();
    const seen = await (async () => {
      for (;;) {
        const hit = loop.sourcesSince(cut).find(after);
        if (hit) return hit;
        if (Date.now() - cut > limitMs + 3000) return null;
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    assert.ok(seen, `no new connection from the LAN arrived by isp2 within ${limitMs + 3000} ms`);
    const at = loop.firstFrom(seen, cut)! - cut;
    t.diagnostic(`new connections from the LAN arrived as ${seen}, sent ${at} ms after the cut`);
    assert.ok(at <= limitMs, `moved after ${at} ms`);
    return at;
  } finally {
    await loop.stop();
  }
}

test("IPv6 with NAT66 (masquerade) fails over: the server sees the router's address on isp2", async (t) => {
  await withSeedLab(
    t,
    async (router, inst) => {
      await startEchoServer(inst, 'inet');
      const d = await startDaemon(router, config('', ''));
      try {
        await failover(
          t,
          inst,
          (s) => s === '2001:db8:1::2',
          (s) => s === '2001:db8:2::2',
          1500,
        );
      } finally {
        await d.daemon.stop();
      }
    },
    SEED6_TOPOLOGY,
  );
});

test("IPv6 with NPTv6 fails over: the server sees the LAN host's interface ID under isp2's prefix", async (t) => {
  await withSeedLab(
    t,
    async (router, inst) => {
      await startEchoServer(inst, 'inet');
      const npt = (n: number) => `    delegated: 2001:db8:${n}:99::/64\n    snat: { ipv4: masquerade, ipv6: { npt: "fd00:99::/64" } }`;
      const d = await startDaemon(router, config(npt(1), npt(2)));
      try {
        // fd00:99::10 keeps its interface ID (::10) under each uplink's prefix
        await failover(
          t,
          inst,
          (s) => s === '2001:db8:1:99::10',
          (s) => s === '2001:db8:2:99::10',
          1500,
        );
      } finally {
        await d.daemon.stop();
      }
    },
    SEED6_TOPOLOGY,
  );
});

test("IPv6 prefix per uplink (no NAT): radvd deprecates the dead uplink's prefix, the LAN host moves its new connections within 2 s", async (t) => {
  await withSeedLab(
    t,
    async (router, inst) => {
      await startEchoServer(inst, 'inet');
      const lan = nsOf(inst, 'lan');
      // the router's addresses in both delegated prefixes (a DHCPv6-PD client would add them); the host does SLAAC
      for (const n of [1, 2]) await runOk(['ip', '-6', 'addr', 'add', `2001:db8:${n}:99::1/64`, 'dev', 'eth0', 'nodad'], { netns: router });
      for (const [k, v] of [
        ['accept_ra', '1'],
        ['autoconf', '1'],
      ])
        await runOk(['sysctl', '-qw', `net.ipv6.conf.eth0.${k}=${v}`], { netns: lan });
      const routed = (n: number) => `    delegated: 2001:db8:${n}:99::/64\n    snat: { ipv4: masquerade, ipv6: false }`;
      const d = await startDaemon(router, config(routed(1), routed(2), 'ra: { interface: eth0 }\n'));
      try {
        type Addr = { ifname: string; addr_info?: { local: string; family: string; deprecated?: boolean }[] };
        const slaac = async () =>
          ((await netnsIpJson<Addr[]>(lan, ['-6', 'addr', 'show', 'dev', 'eth0'])) ?? [])
            .flatMap((l) => l.addr_info ?? [])
            .filter((a) => /^2001:db8:[12]:99:/.test(a.local));
        await until("the LAN host has an address in each delegated prefix, isp2's deprecated", 15_000, async () => {
          const a = await slaac();
          return (
            a.length === 2 &&
            a.some((x) => x.local.startsWith('2001:db8:2:99:') && x.deprecated) &&
            a.some((x) => x.local.startsWith('2001:db8:1:99:') && !x.deprecated)
          );
        });
        const at = await failover(
          t,
          inst,
          (s) => s.startsWith('2001:db8:1:99:'),
          (s) => s.startsWith('2001:db8:2:99:'),
          2000,
        );
        assert.ok(at <= 2000);
        const after = await slaac();
        assert.ok(after.find((x) => x.local.startsWith('2001:db8:1:99:'))?.deprecated, "isp1's prefix is deprecated on the host");
        assert.ok(
          d.events().some((e) => e.event === 'ra' && JSON.stringify(e.deprecated) === '["isp1"]'),
          'the daemon logged the RA change',
        );
      } finally {
        await d.daemon.stop();
      }
    },
    SEED6_TOPOLOGY,
  );
});

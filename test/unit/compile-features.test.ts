// The pure parts of #11: group member ranking (brownouts, metered, quota,
// failback holds), the minimal-move bucket map against `jhash mod N`, the
// kernel's jhash, the router's own traffic rules, NPTv6 and prefix per uplink,
// radvd's config, quota periods and usage, failback control, jitter.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parseConfig } from '../../src/config/parse.js';
import type { ResolvedConfig } from '../../src/config/assign.js';
import { compile } from '../../src/compile/index.js';
import { bucketMap } from '../../src/compile/buckets.js';
import { activeMembers, allHealthy, type HealthView } from '../../src/compile/groups.js';
import { radvdConfig } from '../../src/compile/radvd.js';
import { FailbackControl } from '../../src/daemon/failback.js';
import { exhausted, periodKey, sampleUsage } from '../../src/daemon/usage.js';
import { jhashBucket, JHASH_SEED } from '../../src/net/jhash.js';
import { parseAddress } from '../../src/net/ip.js';
import { createMachine, observe, snapshot } from '../../src/health/machine.js';
import { ruleText } from '../../src/state/format.js';
import type { SystemFacts } from '../../src/compile/facts.js';
import { formatIssue } from '../../src/errors/index.js';
import { explain } from '../../src/sim/explain.js';
import { cli } from '../helpers/cli.js';
import { repoPath } from '../helpers/paths.js';

const LINKS: SystemFacts['links'] = [
  { name: 'eth0', index: 2, up: true, carrier: true, addresses: [{ family: 4, address: '192.168.99.1', prefixlen: 24, scope: 'global' }] },
  {
    name: 'eth1',
    index: 3,
    up: true,
    carrier: true,
    addresses: [
      { family: 4, address: '205.254.211.179', prefixlen: 24, scope: 'global' },
      { family: 6, address: '2001:db8:1::2', prefixlen: 64, scope: 'global' },
    ],
  },
  {
    name: 'eth4',
    index: 4,
    up: true,
    carrier: true,
    addresses: [
      { family: 4, address: '67.17.28.12', prefixlen: 24, scope: 'global' },
      { family: 6, address: '2001:db8:2::2', prefixlen: 64, scope: 'global' },
    ],
  },
  { name: 'wwan0', index: 5, up: true, carrier: true, addresses: [{ family: 4, address: '192.0.2.2', prefixlen: 24, scope: 'global' }] },
];

function cfgOf(text: string): ResolvedConfig {
  const r = parseConfig(text, 'test.yaml');
  assert.ok(r.ok, r.ok ? '' : r.issues.map(formatIssue).join('\n'));
  return r.config;
}

function issuesOf(text: string): string[] {
  const r = parseConfig(text, 'test.yaml');
  assert.ok(!r.ok, 'expected config errors');
  return r.issues.map((i) => `${i.line}:${i.col} ${i.message}`);
}

const view = (o: Partial<{ down: string[]; degraded: string[]; exhausted: string[]; held: Record<string, string[]> }>): HealthView => ({
  healthy: (n) => !(o.down ?? []).includes(n),
  degraded: (n) => (o.degraded ?? []).includes(n),
  exhausted: (n) => (o.exhausted ?? []).includes(n),
  held: (g, n) => (o.held?.[g] ?? []).includes(n),
});

const THREE = `providers:
  isp1: { interface: eth1, gateway: 205.254.211.254 }
  isp2: { interface: eth4, gateway: 67.17.28.14 }
  lte: { interface: wwan0, gateway: 192.0.2.1, metered: true, quota: { limit: 1GB, per: month, last_resort: true } }
groups:
  voice: { tiers: [isp1, isp2, lte], avoid_degraded: true }
  bulk: [isp1, isp2, lte]
  wired: [{ isp1: 1, isp2: 1, lte: 1 }]
default: bulk
`;

test('members: degraded is second choice only with avoid_degraded; metered only while no unmetered member is up; a used-up quota is last', () => {
  const cfg = cfgOf(THREE);
  const names = (g: string, v: HealthView) => activeMembers(cfg, g, v).map((m) => m.name);
  assert.deepEqual(names('voice', allHealthy), ['isp1']);
  assert.deepEqual(names('voice', view({ degraded: ['isp1'] })), ['isp2'], 'voice leaves a degraded isp1');
  assert.deepEqual(names('bulk', view({ degraded: ['isp1'] })), ['isp1'], 'bulk stays');
  assert.deepEqual(names('voice', view({ degraded: ['isp1', 'isp2'] })), ['isp1'], 'all degraded: the first tier again');
  assert.deepEqual(names('wired', allHealthy), ['isp1', 'isp2'], 'lte is in the same tier but metered');
  assert.deepEqual(names('wired', view({ down: ['isp1', 'isp2'] })), ['lte']);
  assert.deepEqual(names('bulk', view({ down: ['isp1', 'isp2'], exhausted: ['lte'] })), ['lte'], 'used up, but last_resort: true');
  assert.deepEqual(names('voice', view({ held: { voice: ['isp1'] } })), ['isp2'], 'a held member waits');
  assert.deepEqual(
    names('voice', view({ held: { voice: ['isp1'] }, down: ['isp2'] })),
    ['lte'],
    'a hold (or manual failback) is kept even over a metered backup',
  );
  assert.deepEqual(names('voice', view({ held: { voice: ['isp1'] }, down: ['isp2', 'lte'] })), ['isp1'], 'a held member is still used when nothing else is up');
  const noLast = cfgOf(THREE.replace('last_resort: true', 'last_resort: false'));
  assert.deepEqual(
    activeMembers(noLast, 'bulk', view({ down: ['isp1', 'isp2'], exhausted: ['lte'] })),
    [],
    "used up and not a last resort: the group's last resort",
  );
});

test("the bucket map moves only the changed member's buckets; jhash mod N moves most of them (3 → 4 members, 256 buckets)", () => {
  const members = ['isp1', 'isp2', 'isp3', 'isp4'].map((name) => ({ name, weight: 1 }));
  const four = bucketMap(members);
  const three = bucketMap(members.filter((m) => m.name !== 'isp4'));
  const movedHrw = four.filter((m, b) => m !== three[b]).length;
  assert.ok(
    four.every((m, b) => m === 'isp4' || m === three[b]),
    "only isp4's buckets differ",
  );
  assert.equal(movedHrw, four.filter((m) => m === 'isp4').length);
  // the old way: bucket = hash mod N, member = bucket index
  let movedMod = 0;
  for (let h = 0; h < 256 * 64; h++) if (h % 4 !== h % 3) movedMod++;
  const share = movedHrw / 256;
  const modShare = movedMod / (256 * 64);
  assert.ok(share > 0.15 && share < 0.35, `rendezvous moves ~1/4: ${share}`);
  assert.ok(modShare > 0.7, `mod N moves ~3/4: ${modShare}`);
  // weights: a 3:1 split
  const weighted = bucketMap([
    { name: 'a', weight: 3 },
    { name: 'b', weight: 1 },
  ]);
  const a = weighted.filter((m) => m === 'a').length / 256;
  assert.ok(a > 0.65 && a < 0.85, `3:1 → ${a}`);
});

test("jhash is the kernel's: buckets nft chose in a namespace (10.0.0.10 → 133, fd00::10 → 37 of 256)", () => {
  assert.equal(jhashBucket([parseAddress('10.0.0.10')!], 256, JHASH_SEED), 133);
  assert.equal(jhashBucket([parseAddress('fd00::10')!], 256, JHASH_SEED), 37);
});

test("the router's own traffic: iif lo rules after the providers' follow the default's and local policies' uplinks", () => {
  const cfg = cfgOf(`providers:
  isp1: { interface: eth1, gateway: 205.254.211.254 }
  isp2: { interface: eth4, gateway: 67.17.28.14 }
groups:
  uplinks: [isp1, isp2]
default: uplinks
policies:
  - name: dns
    match: { local: true, protocol: udp, dport: 53, to: [198.51.100.0/24, 203.0.113.0/24] }
    via: isp2
`);
  const rules = (facts: Partial<SystemFacts>) =>
    compile(cfg, { links: LINKS, mainRoutes: [], ...facts })
      .rules.filter((r) => r.iif === 'lo')
      .map(ruleText);
  assert.deepEqual(rules({}), [
    '10020: from all iif lo lookup main suppress_prefixlength 0',
    '10021: from all to 198.51.100.0/24 iif lo ipproto 17 dport 53 lookup 101',
    '10022: from all to 203.0.113.0/24 iif lo ipproto 17 dport 53 lookup 101',
    '10023: from all iif lo lookup 100',
  ]);
  assert.deepEqual(rules({ healthy: ['isp2'] }).at(-1), '10023: from all iif lo lookup 101', 'the default follows the group');
  assert.deepEqual(rules({ healthy: [] }).length, 3, 'every member down: main decides (last resort main)');
  assert.ok(
    cfgOf(`${THREE}local_traffic: main\n`) &&
      compile(cfgOf(`${THREE}local_traffic: main\n`), { links: LINKS, mainRoutes: [] }).rules.every((r) => r.iif !== 'lo'),
  );
});

test('config: the new keys refuse what cannot work, with the line and what to write', () => {
  const base = `providers:\n  isp1: { interface: eth1, gateway: [205.254.211.254, 2001:db8:1::1] }\n  isp2: { interface: eth4, gateway: 67.17.28.14 }\ndefault: isp1\n`;
  assert.match(
    issuesOf(`${base}policies:\n  - { name: x, match: { local: true, from: 10.0.0.0/8 }, via: isp2 }\n`).join(),
    /from cannot be matched for the router's own traffic/,
  );
  assert.match(issuesOf(base.replace('gateway: 67.17.28.14', 'gateway: 67.17.28.14, quota: 20GB per month')).join(), /a quota caps a metered provider/);
  assert.match(issuesOf(base.replace('gateway: 67.17.28.14', 'gateway: 67.17.28.14, metered: true, quota: 20 per month')).join(), /"20" is not a size/);
  assert.match(issuesOf(base.replace('gateway: 67.17.28.14', 'gateway: 67.17.28.14, metered: true, quota: 20GB per year')).join(), /"year" is not a period/);
  assert.match(
    issuesOf(`${base}groups:\n  g: { tiers: [isp1], sticky_timeout: 5m }\n`).join(),
    /sticky_timeout keeps a source on its member across connections, but sticky is "connection"/,
  );
  assert.match(issuesOf(`${base}groups:\n  g: { tiers: [isp1], failback: sometimes }\n`).join(), /expected immediate, manual or a hold time/);
  assert.match(
    issuesOf(base.replace('2001:db8:1::1] }', '2001:db8:1::1], snat: { ipv6: { npt: "fd00:99::/64" } } }')).join(),
    /NPTv6 maps the LAN's \/64 to a delegated prefix of the same length/,
  );
  assert.match(issuesOf(base.replace('2001:db8:1::1] }', '2001:db8:1::1], delegated: 10.0.0.0/8 }')).join(), /a delegated prefix is an IPv6 prefix/);
  assert.match(issuesOf(`${base}ra: { interface: eth0 }\n`).join(), /no provider has one/);
  assert.match(
    issuesOf(base.replace('2001:db8:1::1] }', '2001:db8:1::1], health: { targets: [203.0.113.1], jitter: fast } }')).join(),
    /"fast" is not a duration/,
  );
});

test('NPTv6 and prefix per uplink compile to prefix NAT, from-prefix rules and the classification by source', () => {
  const cfg = cfgOf(`providers:
  isp1: { interface: eth1, gateway: [205.254.211.254, 2001:db8:1::1], delegated: 2001:db8:1:99::/64, snat: { ipv6: { npt: "fd00:99::/64" } } }
  isp2: { interface: eth4, gateway: [67.17.28.14, 2001:db8:2::1], delegated: 2001:db8:2:99::/64, snat: { ipv4: masquerade, ipv6: false } }
default: isp1
ra: { interface: eth0 }
`);
  const st = compile(cfg, { links: LINKS, mainRoutes: [] });
  const script = st.nft?.script ?? '';
  assert.match(script, /oifname "eth1" ip6 saddr fd00:99::\/64 snat ip6 prefix to 2001:db8:1:99::\/64/);
  assert.match(script, /iifname "eth1" ip6 daddr 2001:db8:1:99::\/64 dnat ip6 prefix to fd00:99::\/64/);
  assert.match(script, /ip6 saddr 2001:db8:2:99::\/64 jump to_isp2/);
  assert.ok(
    st.rules.some((r) => r.family === 6 && r.from === '2001:db8:2:99::/64' && r.table === 101),
    "isp2's prefix routes by isp2",
  );
  // the simulator: NPTv6 keeps the interface ID
  st.links = LINKS.map((l) =>
    l.name === 'eth0' ? { ...l, addresses: [...l.addresses, { family: 6 as const, address: 'fd00:99::1', prefixlen: 64, scope: 'global' }] } : l,
  );
  const d = explain(st, { family: 6, src: 'fd00:99::1234', dst: '2001:db8:ffff::10', proto: 6, dport: 443, iif: 'eth0' });
  assert.equal(d.snat, '2001:db8:1:99::1234');
  // radvd: isp2's prefix preferred or deprecated
  assert.match(radvdConfig(cfg, ['isp2']), /prefix 2001:db8:2:99::\/64 \{[^}]*AdvPreferredLifetime 1800; # isp2/);
  assert.match(radvdConfig(cfg, []), /AdvPreferredLifetime 0; # isp2/);
  assert.match(radvdConfig(cfg, []), /interface eth0 \{\n\tAdvSendAdvert on;/);
});

test('quota periods and usage: counters that restart count from zero; a new period starts again', () => {
  assert.equal(periodKey('month', new Date(2026, 11, 3)), '2026-12');
  assert.equal(periodKey('day', new Date(2026, 11, 3)), '2026-12-03');
  assert.equal(periodKey('week', new Date(2026, 11, 3)), '2026-W49');
  assert.equal(periodKey('week', new Date(2027, 0, 1)), '2026-W53');
  const cfg = cfgOf(THREE);
  const at = new Date(2026, 11, 3);
  let m = sampleUsage(cfg, { usage: {}, last: {} }, { lte: { bytes: 100 } }, at);
  assert.deepEqual(m.usage.lte, { period: '2026-12', bytes: 0 }, 'the first sample is the baseline');
  assert.equal(
    sampleUsage(cfg, sampleUsage(cfg, { usage: {}, last: {} }, {}, at), { lte: { bytes: 50 } }, at).usage.lte!.bytes,
    50,
    'no table at the first sample: the new one counts from zero',
  );
  m = sampleUsage(cfg, m, { lte: { bytes: 600_000_000 } }, at);
  m = sampleUsage(cfg, m, { lte: { bytes: 500_000_000 } }, at); // the table was replaced: counts from zero
  assert.equal(m.usage.lte!.bytes, 600_000_000 - 100 + 500_000_000);
  assert.deepEqual(exhausted(cfg, m.usage, at), ['lte']);
  assert.deepEqual(exhausted(cfg, m.usage, new Date(2027, 0, 1)), [], 'a new month');
  assert.deepEqual(sampleUsage(cfg, m, { lte: { bytes: 500_000_010 } }, new Date(2027, 0, 1)).usage.lte, { period: '2027-01', bytes: 10 });
});

test('failback control: a hold keeps a returning member second for its time; manual until released', () => {
  const cfg = cfgOf(
    `${THREE}`.replace('bulk: [isp1, isp2, lte]', 'bulk: { tiers: [isp1, isp2], failback: 30s }\n  man: { tiers: [isp1, isp2], failback: manual }'),
  );
  const f = new FailbackControl();
  f.transition(cfg, 'isp1', 'up', 'down', 1000);
  assert.deepEqual(f.held(cfg, 2000), { man: ['isp1'] }, 'down: manual groups remember it; nothing held while it is down for hold groups');
  f.transition(cfg, 'isp1', 'down', 'up', 5000);
  assert.deepEqual(f.held(cfg, 6000), { bulk: ['isp1'], man: ['isp1'] });
  assert.equal(f.nextRelease(cfg, 6000), 35_000);
  assert.deepEqual(f.held(cfg, 35_000), { man: ['isp1'] }, 'the hold is over');
  assert.deepEqual(f.release(cfg, 'man'), ['man']);
  assert.deepEqual(f.held(cfg, 35_000), {});
});

test('jitter: the mean difference of consecutive RTTs, degraded over the threshold and back under 80 % of it', () => {
  let m = createMachine({ interval: 200, timeout: 600, jitter: { degraded: 15 }, window: 10_000 }, 0);
  let t = 0;
  for (let i = 0; i < 40; i++) {
    t += 200;
    const rtt = i % 2 ? 5 : 45; // differences of 40 ms
    m = observe(m, { sentAt: t, at: t + rtt, ok: true, rttMs: rtt }).machine;
  }
  assert.equal(snapshot(m).state, 'degraded');
  assert.equal(Math.round(snapshot(m).jitterMs!), 40);
  for (let i = 0; i < 60; i++) {
    t += 200;
    m = observe(m, { sentAt: t, at: t + 5, ok: true, rttMs: 5 }).machine;
  }
  assert.equal(snapshot(m).state, 'up');
});

test("explain: a packet without --iif is the router's own, routed by the iif lo rules (the seed router's dumps, a local policy)", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mh-own-'));
  for (const f of ['ip-d-rule.json', 'ip-6-rule.json', 'ip-d-route.json', 'ip-addr.json', 'ip-link.json', 'sysctl.txt'])
    fs.copyFileSync(repoPath('test', 'fixtures', 'import', 'seed', f), path.join(dir, f));
  const conf = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mh-own-conf-')), 'multihome.yaml');
  fs.writeFileSync(
    conf,
    'providers:\n  isp1: { interface: eth1, gateway: 205.254.211.254 }\n  isp2: { interface: eth4, gateway: 67.17.28.14 }\ndefault: isp1\npolicies:\n  - { name: dns, match: { local: true, protocol: udp, dport: 53 }, via: isp2 }\n',
  );
  const ask = async (dport: string) => {
    const r = await cli(['explain', '-c', conf, '--state', dir, '--to', '203.0.113.10', '--proto', 'udp', '--dport', dport, '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as { dev: string; snat: string; trace: { text: string }[] };
  };
  const dns = await ask('53');
  assert.equal(dns.dev, 'eth4');
  assert.equal(dns.snat, '67.17.28.12');
  assert.ok(dns.trace.some((x) => /iif lo ipproto 17 dport 53 lookup 101/.test(x.text)));
  const other = await ask('123');
  assert.equal(other.dev, 'eth1');
  assert.ok(other.trace.some((x) => /iif lo lookup 100/.test(x.text)));
});

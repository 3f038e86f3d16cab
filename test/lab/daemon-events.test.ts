// The daemon against the everyday events of a router, on the real kernel of a
// lab namespace, with real packets: the router's own uplink going down and up
// (flows move within 0.3 s of the event, and no packet leaves an uplink with
// another uplink's source), a device deleted and created again, a DHCP-style
// address change, other tools deleting what multihome owns (repaired within a
// second, each repair logged), reloads by CLI and SIGHUP.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { run, runJson, runOk } from '../../src/kernel/exec.js';
import { nftIn, nftJsonIn } from '../../src/kernel/netns.js';
import { nsOf, startEchoServer, startUdpFlow, type LabInstance } from '../../src/lab/index.js';
import { seenFrom, startDaemon, until } from '../helpers/daemon.js';
import { SEED_DAEMON_CONFIG as CONFIG } from '../helpers/seed-fake.js';
import { withSeedLab } from '../helpers/lab.js';

const ISP1 = '205.254.211.179';
const ISP2 = '67.17.28.12';

/**
 * Counters at the internet host for packets that arrive by one uplink with a source that is not
 * that uplink's subnet: a connection of one uplink leaking out of another, or un-NATed LAN traffic.
 */
async function leakCounter(inst: LabInstance): Promise<() => Promise<number>> {
  const inet = nsOf(inst, 'inet');
  await nftIn(
    inet,
    'table inet leaks {\n chain c {\n  type filter hook prerouting priority 0; policy accept;\n  iifname "isp1" ip saddr != 205.254.211.0/24 counter\n  iifname "isp2" ip saddr != 67.17.28.0/24 counter\n }\n}\n',
  );
  return async () => {
    const doc = await nftJsonIn<{ nftables: { rule?: { expr: { counter?: { packets: number } }[] } }[] }>(inet, ['list', 'table', 'inet', 'leaks']);
    return doc.nftables.flatMap((o) => o.rule?.expr ?? []).reduce((n, e) => n + (e.counter?.packets ?? 0), 0);
  };
}

const table = (router: string, t: number) => runJson<{ dst: string; gateway?: string }[]>(['ip', '-j', 'route', 'show', 'table', String(t)], { netns: router });

/**
 * Set eth4 down under a flow that runs by isp2 and return how long after the link went down the
 * flow's first packet arrived by isp1. The link is down, and its netlink event sent, by the time
 * `ip` exits; starting `ip` (inside the namespace, on a busy machine) can take longer than the
 * daemon's whole reaction, so the reaction is measured from the exit (the moved packet may even
 * come before it: a negative time).
 */
async function cutEth4(t: { diagnostic(s: string): void }, router: string, flow: Awaited<ReturnType<typeof startUdpFlow>>): Promise<number> {
  assert.notEqual(await flow.waitFor(ISP2, 0, 3000), null, 'the flow starts on isp2');
  const started = Date.now();
  await runOk(['ip', 'link', 'set', 'dev', 'eth4', 'down'], { netns: router });
  const cut = Date.now();
  const moved = await flow.waitFor(ISP1, started, 3000);
  assert.notEqual(moved, null, 'the existing flow moves to isp1');
  t.diagnostic(`existing UDP flow on isp1 ${moved! - cut} ms after the link went down (\`ip link set\` took ${cut - started} ms)`);
  return moved! - cut;
}

/** Set eth4 up again: isp2's table gets its route back (and, unless told not to wait, new connections return to isp2). */
async function restoreEth4(router: string, inst: LabInstance, waitReturn = true): Promise<void> {
  await runOk(['ip', 'link', 'set', 'dev', 'eth4', 'up'], { netns: router });
  await until("isp2's table has its route again", 3000, async () => (await table(router, 101)).some((r) => r.dst === 'default' && r.gateway === '67.17.28.14'));
  if (waitReturn) await until('new connections return to isp2', 6000, async () => (await seenFrom(inst)) === ISP2);
}

test("the router's uplink set down: the flow and new connections leave by isp1 with its source within 0.3 s of the event; nothing leaks; up: table back, new connections back", async (t) => {
  await withSeedLab(t, async (router, inst) => {
    await startEchoServer(inst, 'inet');
    const leaks = await leakCounter(inst);
    const d = await startDaemon(router, CONFIG);
    let running = d.daemon;
    const times: number[] = [];
    try {
      const flow = await startUdpFlow(inst, { host: '203.0.113.10' });
      try {
        times.push(await cutEth4(t, router, flow));
        assert.equal(await seenFrom(inst), ISP1, 'new connections leave by isp1 with its address');
        const s = await d.status();
        const isp2 = s.providers.find((p) => p.name === 'isp2')!;
        assert.equal(isp2.state, 'down');
        assert.equal(isp2.link, 'eth4 is administratively down');
        assert.deepEqual(
          s.groups.map((g) => ({ name: g.name, active: g.active })),
          [{ name: 'web', active: ['isp1'] }],
        );
        // the link event, not a probe, took isp2 down
        assert.ok(d.events().some((e) => e.event === 'provider' && e.provider === 'isp2' && e.to === 'down' && /^link: /.test(String(e.reason))));
        await restoreEth4(router, inst);
      } finally {
        await flow.stop();
      }
      // Two more cuts, so that one slow moment of this shared machine does not decide the figure:
      // each under a flow of its own (a flow stays on the uplink it moved to) and a daemon started
      // again (flap damping would hold isp2 down after a second outage within 10 s).
      for (let i = 0; i < 2; i++) {
        await running.stop();
        running = d.start();
        await until('the daemon answers again', 10_000, async () => (await d.cli(['status', '--json'])).code === 0);
        const again = await startUdpFlow(inst, { host: '203.0.113.10' });
        try {
          times.push(await cutEth4(t, router, again));
          await restoreEth4(router, inst, false);
        } finally {
          await again.stop();
        }
      }
      // Issue 10: within 0.3 s of the netlink event; the goal, 0.1 s, is what a quiet machine does
      // (BENCHMARKS.md, "The daemon's reaction to everyday events": p95 101 ms over 20 trials).
      const median = [...times].sort((x, y) => x - y)[1]!;
      assert.ok(median <= 300 && Math.max(...times) <= 500, `moved ${times.join(', ')} ms after the link went down (median at most 300, each at most 500)`);
      assert.equal(await leaks(), 0, "no packet left an uplink with another uplink's (or a LAN) source");
    } finally {
      await running.stop();
    }
  });
});

test('a provider device deleted and created again with the same name: down meanwhile, then back with its sysctl and route', async (t) => {
  await withSeedLab(t, async (router, inst) => {
    await startEchoServer(inst, 'inet');
    const d = await startDaemon(router, CONFIG);
    try {
      await until('isp2 carries new connections', 3000, async () => (await seenFrom(inst)) === ISP2);
      await runOk(['ip', 'link', 'del', 'dev', 'eth4'], { netns: router });
      await until('isp2 is down (link)', 2000, async () => (await d.status()).providers.find((p) => p.name === 'isp2')!.link === 'eth4 does not exist');
      assert.equal(await seenFrom(inst), ISP1);
      // the same device again: a veth to isp2 with the same addresses
      await runOk(['ip', '-n', router, 'link', 'add', 'name', 'eth4', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', nsOf(inst, 'isp2')]);
      await runOk(['ip', '-n', nsOf(inst, 'isp2'), 'addr', 'add', '67.17.28.14/24', 'dev', 'eth0']);
      await runOk(['ip', '-n', nsOf(inst, 'isp2'), 'link', 'set', 'dev', 'eth0', 'up']);
      await runOk(['ip', '-n', router, 'addr', 'add', '67.17.28.12/24', 'dev', 'eth4']);
      await runOk(['ip', '-n', router, 'link', 'set', 'dev', 'eth4', 'up']);
      await until('new connections return to isp2', 6000, async () => (await seenFrom(inst)) === ISP2);
      assert.equal((await runOk(['sysctl', '-n', 'net.ipv4.conf.eth4.src_valid_mark'], { netns: router })).trim(), '1', 'the new device got its sysctl');
      assert.deepEqual(
        (await table(router, 101)).map((r) => [r.dst, r.gateway]),
        [['default', '67.17.28.14']],
      );
    } finally {
      await d.daemon.stop();
    }
  });
});

test('a DHCP-style address change on a masquerading uplink: its source rules and probes follow, connections leave with the new address', async (t) => {
  await withSeedLab(t, async (router, inst) => {
    await startEchoServer(inst, 'inet');
    const d = await startDaemon(router, CONFIG.replace('snat: 67.17.28.12, ', ''));
    try {
      await until('isp2 carries new connections', 3000, async () => (await seenFrom(inst)) === ISP2);
      await runOk(['ip', 'addr', 'del', '67.17.28.12/24', 'dev', 'eth4'], { netns: router });
      await runOk(['ip', 'addr', 'add', '67.17.28.99/24', 'dev', 'eth4'], { netns: router });
      await until('the source rule follows the address', 2000, async () =>
        (await runOk(['ip', '-j', 'rule', 'show'], { netns: router })).includes('"src":"67.17.28.99"'),
      );
      await until('new connections leave with the new address', 6000, async () => (await seenFrom(inst)) === '67.17.28.99');
      // the probes moved to the new address: isp2 stays (or is again) up
      await until('isp2 is up', 6000, async () => (await d.status()).providers.find((p) => p.name === 'isp2')!.state === 'up');
      assert.ok(!(await runOk(['ip', '-j', 'rule', 'show'], { netns: router })).includes('"src":"67.17.28.12"'), 'the old address has no rule left');
    } finally {
      await d.daemon.stop();
    }
  });
});

test("drift repaired within a second, each repair logged: nft table deleted, nft flush ruleset, multihome's rules deleted, a provider table flushed", async (t) => {
  await withSeedLab(t, async (router, inst) => {
    await startEchoServer(inst, 'inet');
    const d = await startDaemon(router, CONFIG);
    try {
      await until('isp2 carries new connections', 3000, async () => (await seenFrom(inst)) === ISP2);
      const ourRules = async () =>
        (JSON.parse(await runOk(['ip', '-j', '-N', 'rule', 'show'], { netns: router })) as { protocol?: string }[]).filter((r) => r.protocol === '77').length;
      const rules = await ourRules();
      const hasTable = async () => (await run(['nft', 'list', 'table', 'inet', 'multihome'], { netns: router })).code === 0;
      // each one command (one burst of changes: one repair)
      const cases: [string, string[], string | undefined, () => Promise<boolean>][] = [
        ['nft delete table inet multihome', ['nft', 'delete', 'table', 'inet', 'multihome'], undefined, hasTable],
        ['nft flush ruleset', ['nft', 'flush', 'ruleset'], undefined, hasTable],
        ["ip rule del (two of multihome's)", ['ip', '-batch', '-'], 'rule del pref 10011\nrule del pref 10001\n', async () => (await ourRules()) === rules],
        ['ip route flush table 101', ['ip', 'route', 'flush', 'table', '101'], undefined, async () => (await table(router, 101)).length === 1],
      ];
      for (const [i, [what, cmd, input, repaired]] of cases.entries()) {
        const t0 = Date.now();
        await runOk(cmd, { netns: router, ...(input ? { input } : {}) });
        const ms = await until(`${what}: repaired`, 1000, repaired).then(() => Date.now() - t0);
        t.diagnostic(`${what}: repaired in ${ms} ms`);
        await until(`${what}: logged`, 1000, () => d.events().filter((e) => e.event === 'repair').length === i + 1);
        assert.equal(await seenFrom(inst), ISP2, `${what}: LAN traffic NATed by isp2 again`);
      }
      const s = await d.status();
      assert.equal(s.repairs, 4);
      assert.equal(s.kernel?.nft, 'as applied');
      assert.match(s.lastRepair?.after ?? '', /routes of table 101 changed/);
    } finally {
      await d.daemon.stop();
    }
  });
});

test('reload by CLI and by SIGHUP, with health in the config: the new config runs, probed providers keep their health', async (t) => {
  await withSeedLab(t, async (router, inst) => {
    await startEchoServer(inst, 'inet');
    const d = await startDaemon(router, CONFIG);
    try {
      await until('isp2 carries new connections', 3000, async () => (await seenFrom(inst)) === ISP2);
      const since = (await d.status()).providers.find((p) => p.name === 'isp2')!.since;
      // CLI: the same config (every valid config reloads; this one has health with addresses)
      const r1 = await d.cli(['reload']);
      assert.equal(r1.code, 0, r1.stdout + r1.stderr);
      assert.equal(r1.stdout.trim(), 'Reloaded.');
      // SIGHUP: a policy sends TCP 22 by isp1, whose probe changes (port 80)
      fs.writeFileSync(
        d.cfg,
        `${CONFIG.replace('probe: tcp, port: 22', 'probe: tcp, port: 80')}policies:\n  - { name: ssh-isp1, match: { protocol: tcp, dport: 22 }, via: isp1 }\n`,
      );
      process.kill(d.daemon.pid, 'SIGHUP');
      await until('the new policy runs', 3000, async () => (await seenFrom(inst)) === ISP1);
      assert.equal(await seenFrom(inst, 80), ISP2, 'the rest still by isp2');
      const s = await d.status();
      assert.equal(s.providers.find((p) => p.name === 'isp2')!.since, since, 'isp2 (unchanged) kept its health across both reloads');
      assert.equal(d.events().filter((e) => e.event === 'reloaded').length, 2);
    } finally {
      await d.daemon.stop();
    }
  });
});

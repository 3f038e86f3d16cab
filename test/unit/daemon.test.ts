// The daemon's reactions, as transcripts on the in-memory kernel: links going
// down and up, drift repaired, probes failing over, reloads, one provider's
// refused route not blocking the others. No root; test/lab/daemon*.test.ts
// shows the real kernel agrees.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Daemon } from '../../src/daemon/daemon.js';
import type { HookRunner } from '../../src/daemon/hooks.js';
import type { startRouteCopy } from '../../src/apply/route-copy.js';
import type { LinkState } from '../../src/state/types.js';
import { repoPath } from '../helpers/paths.js';
import { FakeKernel } from '../helpers/fake-kernel.js';
import { applyPrepared, down } from '../../src/apply/session.js';
import { readJournal } from '../../src/apply/statedir.js';
import { fakeTarget, prepFake, SEED_DAEMON_CONFIG, SEED_LINKS, tmpStateDir } from '../helpers/seed-fake.js';
import { fakeProbers, groupTarget, routesOf, startDaemon } from '../helpers/fake-daemon.js';

// The fake prober's rounds are 200 ms apart and time out at 600 ms (test/helpers/fake-daemon.ts):
// the settings they stand for, pinned, so these tests do not follow the defaults (issue 14).
const CONFIG = SEED_DAEMON_CONFIG.replace('probe: icmp, targets', 'probe: icmp, interval: 200ms, timeout: 600ms, down: 3, up: 5, targets');

test('start: applies with every provider up, reports what the kernel holds', async () => {
  const { d, k, kinds } = await startDaemon();
  try {
    assert.deepEqual(routesOf(k), ['100/default via 205.254.211.254', '101/default via 67.17.28.14']);
    assert.equal(groupTarget(k), 'jump to_isp2');
    const s = await d.status();
    assert.deepEqual(
      s.providers.map((p) => [p.name, p.state, p.link, p.routes]),
      [
        ['isp1', 'up', null, { ipv4: 'present' }],
        ['isp2', 'up', null, { ipv4: 'present' }],
      ],
    );
    assert.equal(s.kernel?.nft, 'as applied');
    assert.deepEqual(s.groups, [{ name: 'web', active: ['isp2'], tiers: [[{ name: 'isp2', weight: 1 }], [{ name: 'isp1', weight: 1 }]] }]);
    assert.deepEqual(kinds(), ['applied', 'running']);
  } finally {
    await d.stop();
  }
});

test('a link going down takes its provider down at once: program switched, its connections deleted; back up: route and traffic return', async () => {
  const hooks: Record<string, string>[] = [];
  const runHook: HookRunner = (_argv, env) => {
    hooks.push(env);
    return Promise.resolve({ code: 0, stderr: '' });
  };
  const dir = tmpStateDir();
  const hook = path.join(dir, 'hook.sh');
  fs.writeFileSync(hook, '#!/bin/sh\n', { mode: 0o755 });
  const { d, k, probes, kinds } = await startDaemon(`${CONFIG}hooks: [${hook}]\n`, new FakeKernel(SEED_LINKS), { runHook });
  try {
    k.conntrack.set(2, 7); // isp2's mark (auto-assigned: isp1 1, isp2 2)
    k.transcript();
    k.setLink('eth4', false);
    await d.idle();
    assert.equal(groupTarget(k), 'jump to_isp1', 'new connections go to isp1');
    assert.deepEqual(k.conntrackDeleted, [2], "isp2's connections (mark 2) are deleted, nobody else's");
    assert.deepEqual(
      k.transcript(),
      ['ip -4: add rule 10021 lookup', 'nft-load', 'ip -4: del rule 10021 lookup'],
      "the program and the router's own default switched (the kernel itself took the route away)",
    );
    let s = await d.status();
    const isp2 = s.providers.find((p) => p.name === 'isp2')!;
    assert.equal(isp2.state, 'down');
    assert.equal(isp2.link, 'eth4 is administratively down');
    assert.match(String(isp2.routes.ipv4), /^left out: eth4 is down/);
    assert.deepEqual(
      hooks.map((h) => [h.MULTIHOME_PROVIDER, h.MULTIHOME_FROM, h.MULTIHOME_TO, h.MULTIHOME_REASON]),
      [['isp2', 'up', 'down', 'link: eth4 is administratively down']],
    );

    k.setLink('eth4', true);
    await d.idle();
    assert.deepEqual(routesOf(k), ['100/default via 205.254.211.254', '101/default via 67.17.28.14'], 'its route is back');
    assert.equal(groupTarget(k), 'jump to_isp2', 'and it carries new connections again (its probes never failed)');
    s = await d.status();
    assert.equal(s.providers.find((p) => p.name === 'isp2')!.state, 'up');
    assert.ok(kinds().includes('provider isp2'));
    // probes failing while the link is up: down by the probes, back after 5 good rounds
    probes.rounds('isp2', false, 3);
    await d.idle();
    assert.equal(groupTarget(k), 'jump to_isp1');
    probes.rounds('isp2', true, 5);
    await d.idle();
    assert.equal(groupTarget(k), 'jump to_isp2');
  } finally {
    await d.stop();
  }
});

test('a failover with nothing changed in the kernel since the last apply reads only the nft table before it switches; a kernel event means a full read', async () => {
  const { d, k, probes } = await startDaemon(CONFIG);
  try {
    k.conntrack.set(2, 3);
    k.readLog.length = 0;
    probes.rounds('isp2', false, 3);
    await d.idle();
    assert.equal(groupTarget(k), 'jump to_isp1');
    assert.deepEqual(k.conntrackDeleted, [2]);
    assert.deepEqual(k.readLog.slice(0, 2), ['nft', 'state'], 'the table before the switch, everything after it');
    k.readLog.length = 0;
    k.deleteRules((r) => r.protocol === 77 && r.pref === 10011);
    await d.idle();
    assert.equal(k.readLog[0], 'state', 'after a kernel event the repair reads everything');
    k.readLog.length = 0;
    probes.rounds('isp2', true, 5);
    await d.idle();
    assert.equal(groupTarget(k), 'jump to_isp2');
    assert.equal(k.readLog[0], 'nft', 'and the next decision is quick again');
  } finally {
    await d.stop();
  }
});

test('drift: a flushed table, deleted rules, a deleted nft table are put back and counted as repairs', async () => {
  const { d, k, events } = await startDaemon();
  try {
    const want = JSON.stringify(k.state);
    k.flushTable(101);
    await d.idle();
    k.deleteRules((r) => r.protocol === 77 && r.pref === 10011);
    await d.idle();
    k.deleteNft();
    await d.idle();
    assert.equal(JSON.stringify(k.state), want, 'everything is back');
    const s = await d.status();
    assert.equal(s.repairs, 3);
    assert.deepEqual(
      events.filter((e) => e.event === 'repair').map((e) => [e.repaired, e.after]),
      [
        ['1 route added', 'routes of table 101 changed'],
        ['1 rule added', 'ip rules changed'],
        ['nft table created', 'nftables changed'],
      ],
    );
  } finally {
    await d.stop();
  }
});

test('reload: keeps the health of unchanged providers, resets a changed one, refuses a bad config and keeps running', async () => {
  const { d, k, file, probes } = await startDaemon();
  try {
    probes.rounds('isp2', false, 3);
    await d.idle();
    assert.equal((await d.status()).providers.find((p) => p.name === 'isp2')!.state, 'down');
    // a reload of the same file (health config with addresses: the bug was a BigInt in JSON)
    assert.deepEqual(await d.reload(), { ok: true });
    await d.idle();
    let s = await d.status();
    assert.equal(s.providers.find((p) => p.name === 'isp2')!.state, 'down', 'the reload kept what the probes found');
    assert.deepEqual(probes.started(), ['isp1', 'isp2']);
    // a changed probe for isp2: it starts again from `initial` (up)
    fs.writeFileSync(file, CONFIG.replace('interval: 200ms', 'interval: 300ms'));
    assert.deepEqual(await d.reload(), { ok: true });
    await d.idle();
    s = await d.status();
    assert.equal(s.providers.find((p) => p.name === 'isp2')!.state, 'up');
    assert.equal(groupTarget(k), 'jump to_isp2');
    // a bad one is refused, the running one stays
    fs.writeFileSync(file, `${CONFIG}bogus: 1\n`);
    const r = await d.reload();
    assert.equal(r.ok, false);
    assert.match(r.error ?? '', /unknown key "bogus"/);
    assert.equal(groupTarget(k), 'jump to_isp2');
  } finally {
    await d.stop();
  }
});

test("one provider's trouble does not block the others: a foreign route in its table, a route the kernel refuses", async () => {
  const k = new FakeKernel(SEED_LINKS);
  // another tool's default route where isp2's must go
  k.state.routes.push({
    family: 4,
    table: 101,
    dst: 'default',
    type: 'unicast',
    tos: 0,
    metric: 0,
    protocol: 4,
    scope: 0,
    gateway: '67.17.28.14',
    dev: 'eth4',
    flags: [],
  });
  const { d, events } = await startDaemon(CONFIG, k);
  try {
    assert.ok(k.state.nft, 'the nft program is applied');
    assert.ok(
      k.state.routes.some((r) => r.table === 100 && r.protocol === 77),
      "isp1's route is there",
    );
    assert.equal(groupTarget(k), 'jump to_isp1', 'isp2 is left out of its group');
    assert.ok(events.some((e) => e.event === 'warning' && e.provider === 'isp2' && /not multihome's/.test(String(e.warning))));
    const s = await d.status();
    assert.match(String(s.providers.find((p) => p.name === 'isp2')!.routes.ipv4), /^left out: /);
    // the foreign route goes: the next check puts isp2 back
    k.state.routes = k.state.routes.filter((r) => r.protocol !== 4);
    d.request('test');
    await d.idle();
    assert.equal(groupTarget(k), 'jump to_isp2');
  } finally {
    await d.stop();
  }
});

test('a route the kernel refuses mid-apply (the address went away meanwhile): that provider is left out, the rest applies', async () => {
  const k = new FakeKernel(SEED_LINKS);
  let once = true;
  k.beforeStep = (_n, s) => {
    // between the daemon's read and its write, eth4 loses its address
    if (once && s.kind === 'ip') {
      once = false;
      k.state.links.find((l) => l.name === 'eth4')!.addresses = [];
    }
  };
  const { d, events } = await startDaemon(CONFIG, k);
  try {
    assert.ok(k.state.nft);
    assert.ok(k.state.routes.some((r) => r.table === 100));
    assert.ok(
      events.some((e) => e.event === 'warning' && e.provider === 'isp2' && /Nexthop has invalid gateway/.test(String(e.warning))),
      JSON.stringify(events),
    );
    assert.equal((await d.status()).lastApply?.ok, true);
  } finally {
    await d.stop();
  }
});

test('an address change on a masquerading uplink: its source rules follow, its probes restart from the new address', async () => {
  const masq = CONFIG.replace('snat: 67.17.28.12, ', '');
  const { d, k, probes } = await startDaemon(masq);
  try {
    assert.ok(k.state.rules.some((r) => r.from === '67.17.28.12'));
    const before = probes.started();
    k.setAddresses('eth4', [{ family: 4, address: '67.17.28.99', prefixlen: 24, scope: 'global' }]);
    await d.idle();
    assert.ok(k.state.rules.some((r) => r.from === '67.17.28.99' && r.action === 'lookup'));
    assert.ok(!k.state.rules.some((r) => r.from === '67.17.28.12'));
    assert.deepEqual(probes.started(), before);
  } finally {
    await d.stop();
  }
});

test('a device deleted and created again with the same name: down meanwhile, then its sysctl and route are back', async () => {
  const { d, k } = await startDaemon();
  try {
    k.deleteLink('eth4');
    await d.idle();
    assert.equal((await d.status()).providers.find((p) => p.name === 'isp2')!.link, 'eth4 does not exist');
    assert.equal(groupTarget(k), 'jump to_isp1');
    k.addLink({ name: 'eth4', index: 9, up: true, carrier: true, addresses: [{ family: 4, address: '67.17.28.12', prefixlen: 24, scope: 'global' }] });
    await d.idle();
    assert.equal(k.state.sysctls['net/ipv4/conf/eth4/src_valid_mark'], '1');
    assert.ok(k.state.routes.some((r) => r.table === 101 && r.dev === 'eth4'));
    assert.equal(groupTarget(k), 'jump to_isp2');
  } finally {
    await d.stop();
  }
});

test('a reconcile that fails is reported with its time and retried', async () => {
  const { d, k } = await startDaemon();
  try {
    k.failAt = k.stepCount; // the next step
    k.flushTable(100);
    await d.idle();
    const s = await d.status();
    assert.equal(s.lastApply?.ok, false);
    assert.match(s.lastError?.error ?? '', /injected kernel refusal/);
    assert.ok(s.lastError?.at);
  } finally {
    await d.stop();
  }
});

test('status does not lie: when the kernel refuses the switch of a failover, status shows the group as the kernel still runs it, and the error', async () => {
  const { d, k, probes } = await startDaemon();
  try {
    assert.equal(groupTarget(k), 'jump to_isp2');
    k.failAt = k.stepCount; // the failover's first step is refused
    probes.rounds('isp2', false, 3);
    await d.idle();
    assert.equal(groupTarget(k), 'jump to_isp2', 'the kernel still sends new connections by isp2');
    const s = await d.status();
    assert.equal(s.providers.find((p) => p.name === 'isp2')!.state, 'down', 'what the probes say');
    assert.deepEqual(
      s.groups.map((g) => [g.name, g.active]),
      [['web', ['isp2']]],
      'what the kernel does, not what the daemon wanted',
    );
    assert.equal(s.lastApply?.ok, false);
    assert.match(s.lastError?.error ?? '', /injected kernel refusal/);
  } finally {
    await d.stop();
  }
});

test('a daemon started after an apply was killed part-way completes it from the journal: the kernel as after a clean start, and down leaves nothing', async () => {
  // what a clean start gives
  const ref = await startDaemon();
  const want = JSON.stringify(ref.k.state);
  await ref.d.stop();
  const oneUplink = 'providers:\n  isp1: { interface: eth1, gateway: 205.254.211.254, snat: 205.254.211.179, table: 150 }\ndefault: isp1\n';
  for (const [step, ops] of [
    [0, 0],
    [1, 1],
    [2, 0],
  ] as const) {
    const k = new FakeKernel(SEED_LINKS);
    const empty = JSON.stringify(k.state);
    const stateDir = path.join(tmpStateDir(), 'state');
    const t = fakeTarget(k, stateDir);
    await applyPrepared(prepFake(oneUplink, k), t);
    k.crashAt = k.stepCount + step;
    k.crashAfterOps = ops;
    await assert.rejects(applyPrepared(prepFake(SEED_DAEMON_CONFIG, k), t));
    k.crashAt = null;
    k.dead = false; // a new process: the daemon
    const where = `apply killed at step ${step + 1}${ops ? ` after ${ops} lines` : ''}`;
    assert.ok(readJournal(t.stateDir), `${where}: a journal is left`);
    const { d } = await startDaemon(SEED_DAEMON_CONFIG, k, { stateDir });
    try {
      assert.equal(JSON.stringify(k.state), want, `${where}, then the daemon: the kernel as after a clean start`);
      assert.equal(readJournal(t.stateDir), undefined, `${where}, then the daemon: the journal is done`);
    } finally {
      await d.stop();
    }
    await down(t);
    assert.equal(JSON.stringify(k.state), empty, `${where}, then the daemon, then down: nothing of either config is left`);
  }
});

/** Every kind of config reloads: the golden cases (seed, dual stack, groups, three uplinks, copy) and every probe type. */
test('reload works with every kind of config: each golden config, and health of every probe type', async () => {
  const golden = repoPath('test', 'golden', 'cases');
  const kinds: [string, string, LinkState[]][] = [];
  for (const c of fs.readdirSync(golden).sort()) {
    const facts = JSON.parse(fs.readFileSync(path.join(golden, c, 'facts.json'), 'utf8')) as { links: LinkState[] };
    kinds.push([c, fs.readFileSync(path.join(golden, c, 'config.yaml'), 'utf8'), facts.links]);
  }
  for (const probe of ['icmp', 'tcp, port: 443', 'dns, name: example.com', 'http, path: /', 'https, port: 8443']) {
    kinds.push([`health ${probe}`, CONFIG.replace('probe: icmp', `probe: ${probe}`), SEED_LINKS]);
  }
  const noCopy: typeof startRouteCopy = () =>
    Promise.resolve({
      status: () => ({
        tables: [],
        mainRoutes: { 4: 0, 6: 0 },
        values: 0,
        bytes: 0,
        resyncs: 0,
        lastResync: null,
        driftRepaired: 0,
        eventsApplied: 0,
        writeErrors: 0,
        lastWriteError: null,
        lastLagMs: null,
        foreign: [],
        syncing: false,
      }),
      resync: () => Promise.resolve(),
      stop: () => undefined,
    });
  for (const [name, text, links] of kinds) {
    const dir = tmpStateDir();
    const file = path.join(dir, 'multihome.yaml');
    fs.writeFileSync(file, text);
    const k = new FakeKernel(links);
    const probes = fakeProbers();
    const d = new Daemon({
      target: fakeTarget(k, path.join(dir, 'state')),
      readConfig: () => ({ text: fs.readFileSync(file, 'utf8'), file }),
      log: () => {},
      startProber: probes.start,
      startRouteCopy: noCopy,
      checkEvery: 3_600_000,
    });
    try {
      await d.start();
      await d.idle();
      const before = JSON.stringify(k.state);
      assert.deepEqual(await d.reload(), { ok: true }, `${name}: reload of the same config`);
      await d.idle();
      assert.equal(JSON.stringify(k.state), before, `${name}: the same config changes nothing`);
      assert.equal((await d.status()).lastApply?.ok, true, name);
    } finally {
      await d.stop();
    }
  }
});

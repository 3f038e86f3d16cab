// The daemon's failback control, brownout reaction and quotas, as transcripts
// on the in-memory kernel (no root): a hold keeps the group on the backup until
// it ends, then `failback_flush` deletes the backup's connections; manual
// failback waits for `multihome failback`; a degraded member leaves an
// avoid_degraded group; a metered member's bytes are counted across table
// replaces and restarts, and a used-up quota takes it out.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { FakeKernel } from '../helpers/fake-kernel.js';
import { startDaemon } from '../helpers/fake-daemon.js';
import { SEED_LINKS, tmpStateDir } from '../helpers/seed-fake.js';

const group = (k: FakeKernel) => /chain group_web \{\n\t\t([^\n]*)/.exec(k.nftText ?? '')?.[1];
// the settings the fake prober's rounds stand for (200 ms apart, 600 ms timeout), pinned: these tests do not follow the defaults
const PINNED = 'interval: 200ms, timeout: 600ms, down: 3, up: 5';
const health = `{ probe: icmp, targets: [203.0.113.10], ${PINNED} }`;
const config = (web: string, extra = '', p2 = '') => `providers:
  isp1: { interface: eth1, gateway: 205.254.211.254, snat: 205.254.211.179, health: ${health} }
  isp2: { interface: eth4, gateway: 67.17.28.14, snat: 67.17.28.12, health: ${health}${p2} }
groups:
  web: ${web}
default: web
${extra}`;
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('failback after a hold: the group stays on the backup until the returning member has been up for the hold, then flushes the backup', async () => {
  const { d, k, probes, events } = await startDaemon(config('{ tiers: [isp1, isp2], failback: 400ms, failback_flush: true }'));
  try {
    assert.equal(group(k), 'jump to_isp1');
    probes.rounds('isp1', false, 4);
    await d.idle();
    assert.equal(group(k), 'jump to_isp2', 'failed over');
    k.conntrack.set(2, 7); // connections on isp2 meanwhile
    probes.rounds('isp1', true, 6);
    await d.idle();
    assert.equal(group(k), 'jump to_isp2', 'isp1 is back but held');
    assert.deepEqual(
      (await d.status()).groups.map((g) => g.held),
      [['isp1']],
    );
    await wait(450);
    await d.idle();
    assert.equal(group(k), 'jump to_isp1', 'the hold is over: back to isp1');
    assert.deepEqual(k.conntrackDeleted.slice(-1), [2], "isp2's connections deleted so they come back by isp1");
    assert.ok(events.some((e) => e.event === 'conntrack' && e.provider === 'isp2' && /failback of group web/.test(String(e.why))));
  } finally {
    await d.stop();
  }
});

test('manual failback: the group stays on the backup until `multihome failback` (and says so in status)', async () => {
  const { d, k, probes } = await startDaemon(config('{ tiers: [isp1, isp2], failback: manual }'));
  try {
    probes.rounds('isp1', false, 4);
    await d.idle();
    assert.equal(group(k), 'jump to_isp2');
    probes.rounds('isp1', true, 6);
    await d.idle();
    await wait(100);
    assert.equal(group(k), 'jump to_isp2', 'isp1 is back, but the group waits for the admin');
    assert.deepEqual(
      (await d.status()).groups.map((g) => g.held),
      [['isp1']],
    );
    assert.deepEqual((await d.failbackNow('nope')).ok, false);
    const r = await d.failbackNow('web');
    assert.deepEqual(r, { ok: true, released: ['web'] });
    assert.equal(group(k), 'jump to_isp1');
  } finally {
    await d.stop();
  }
});

test('brownout: a degraded member leaves an avoid_degraded group and returns once its quality is back', async () => {
  const lossy = config('{ tiers: [isp1, isp2], avoid_degraded: true }').replace(
    `isp1: { interface: eth1, gateway: 205.254.211.254, snat: 205.254.211.179, health: ${health} }`,
    `isp1: { interface: eth1, gateway: 205.254.211.254, snat: 205.254.211.179, health: { probe: icmp, targets: [203.0.113.10], latency: 50ms, ${PINNED} } }`,
  );
  const { d, k, probes, events } = await startDaemon(lossy);
  try {
    assert.equal(group(k), 'jump to_isp1');
    // slow answers: latency over 50 ms once enough probes are in
    probes.rounds('isp1', true, 20, 80);
    await d.idle();
    assert.equal(group(k), 'jump to_isp2', 'voice-like traffic leaves the degraded member');
    assert.equal((await d.status()).providers.find((p) => p.name === 'isp1')?.state, 'degraded');
    // back once a whole window (10 s) sent since it became degraded has latency under 80 % of the threshold
    probes.rounds('isp1', true, 60, 1);
    await d.idle();
    assert.equal(group(k), 'jump to_isp1', 'back once latency is under 80 % of the threshold');
    assert.deepEqual(
      events.filter((e) => e.event === 'provider').map((e) => `${String(e.from)}→${String(e.to)}`),
      ['up→degraded', 'degraded→up'],
    );
  } finally {
    await d.stop();
  }
});

test("quota: a metered backup's bytes are counted across table replaces and restarts; once used up it is out of the group", async () => {
  const dir = tmpStateDir();
  const usage = path.join(dir, 'usage.json');
  const cfg = config('[isp1, isp2]', `usage_file: ${usage}\n`, ', metered: true, quota: { limit: 1000, per: month }');
  const k = new FakeKernel(SEED_LINKS);
  const first = await startDaemon(cfg, k);
  try {
    first.probes.rounds('isp1', false, 4);
    await first.d.idle();
    assert.equal(group(k), 'jump to_isp2', 'the metered backup carries the traffic while isp1 is down');
    k.counterValues = { isp2: { packets: 0, bytes: 0 } };
    await first.d.status(); // every read of the counters is a sample; the first one is the baseline
    k.counterValues = { isp2: { packets: 1, bytes: 400 } };
    await first.d.status();
    k.counterValues = { isp2: { packets: 2, bytes: 300 } }; // the table was replaced: counts from zero
    await first.d.status();
    const st = await first.d.status();
    assert.equal(st.providers.find((p) => p.name === 'isp2')?.usage?.bytes, 400 + 300, 'from 0 to 400, then 300 more after the replace');
  } finally {
    await first.d.stop();
  }
  assert.equal((JSON.parse(fs.readFileSync(usage, 'utf8')) as Record<string, { bytes: number }>).isp2?.bytes, 700, 'kept on stop');
  const second = await startDaemon(cfg, k);
  try {
    k.counterValues = { isp2: { packets: 3, bytes: 0 } };
    await second.d.status();
    k.counterValues = { isp2: { packets: 4, bytes: 500 } };
    await second.d.status();
    await second.d.idle();
    const st = await second.d.status();
    const u = st.providers.find((p) => p.name === 'isp2')?.usage;
    assert.equal(u?.bytes, 1200, 'the restart kept what was counted');
    assert.equal(u?.exhausted, true);
    second.probes.rounds('isp1', false, 4);
    await second.d.idle();
    assert.match(group(k) ?? '', /every member is down/, 'used up and not a last resort: the group falls to its last resort');
    assert.ok(second.events.some((e) => e.event === 'quota' && e.provider === 'isp2'));
  } finally {
    await second.d.stop();
  }
});

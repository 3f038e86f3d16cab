// Failback control and metered uplinks in the seed lab, with real traffic:
//   - failback after a hold: new connections stay on isp2 until isp1 has been
//     back for the hold, and `failback_flush` brings a steady flow back too;
//   - a metered member is used only while no unmetered member is up;
//   - a quota: once a metered uplink has carried its quota it is out of its
//     group (its traffic falls to main), across a daemon restart; with
//     `last_resort: true` it is used again when nothing else is.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runOk } from '../../src/kernel/exec.js';
import { spawnInNetns } from '../../src/kernel/netns.js';
import { nsOf, SEED_SERVER, startConnectLoop, startEchoServer, startUdpFlow, type LabInstance } from '../../src/lab/index.js';
import { startDaemon, until } from '../helpers/daemon.js';
import { withSeedLab } from '../helpers/lab.js';

const ISP1 = '205.254.211.179';
const ISP2 = '67.17.28.12';
const HEALTH = `{ probe: icmp, targets: [${SEED_SERVER}] }`;
const providers = (isp2extra = '') => `providers:
  isp1: { interface: eth1, gateway: 205.254.211.254, snat: ${ISP1}, health: ${HEALTH} }
  isp2: { interface: eth4, gateway: 67.17.28.14, snat: ${ISP2}, health: ${HEALTH}${isp2extra} }
`;

async function isp1Upstream(inst: LabInstance, up: boolean): Promise<void> {
  await runOk(['ip', 'link', 'set', 'dev', 'up', up ? 'up' : 'down'], { netns: nsOf(inst, 'isp1') });
  if (up) await runOk(['ip', 'route', 'replace', 'default', 'via', '198.51.100.2', 'dev', 'up'], { netns: nsOf(inst, 'isp1') });
}

test('failback after a 3 s hold: new connections return to isp1 only once it has been up 3 s; failback_flush brings the steady flow back', async (t) => {
  await withSeedLab(t, async (router, inst) => {
    await startEchoServer(inst, 'inet');
    const d = await startDaemon(router, `${providers()}groups:\n  web: { tiers: [isp1, isp2], failback: 3s, failback_flush: true }\ndefault: web\n`);
    const loop = await startConnectLoop(nsOf(inst, 'lan'), { proto: 'tcp', host: SEED_SERVER });
    const flow = await startUdpFlow(inst, { host: SEED_SERVER });
    try {
      await until(
        'isp1 carries the traffic',
        5000,
        () => loop.sourcesSince(Date.now() - 300).includes(ISP1) && flow.sourcesSince(Date.now() - 300).includes(ISP1),
      );
      await isp1Upstream(inst, false);
      const cut = Date.now();
      assert.ok((await loop.waitFor(ISP2, cut, 5000)) !== null, 'failed over');
      assert.ok((await flow.waitFor(ISP2, cut, 5000)) !== null, "the steady flow too (isp1's connections were deleted)");
      await isp1Upstream(inst, true);
      await until('isp1 is up again', 10_000, async () => (await d.status()).providers.find((p) => p.name === 'isp1')?.state === 'up');
      const upAt = Date.parse(
        String(
          d
            .events()
            .filter((e) => e.event === 'provider' && e.provider === 'isp1' && e.to === 'up')
            .pop()?.ts,
        ),
      );
      const back = await loop.waitFor(ISP1, upAt, 8000);
      assert.ok(back !== null, 'new connections never returned to isp1');
      t.diagnostic(`new connections returned to isp1 ${back - upAt} ms after it was up again (hold 3000 ms)`);
      assert.ok(back - upAt >= 2900 && back - upAt <= 4500, `returned after ${back - upAt} ms`);
      const flowBack = await flow.waitFor(ISP1, upAt, 8000);
      assert.ok(flowBack !== null && flowBack - upAt >= 2900, 'the steady flow came back with the failback (its connection was deleted on isp2)');
      await until('the daemon logged the deletion', 3000, () =>
        d.events().some((e) => e.event === 'conntrack' && e.provider === 'isp2' && /failback/.test(String(e.why))),
      );
    } finally {
      await loop.stop();
      await flow.stop();
      await d.daemon.stop();
    }
  });
});

test('a metered member is used only while no unmetered member is up (even in the same tier)', async (t) => {
  await withSeedLab(t, async (router, inst) => {
    await startEchoServer(inst, 'inet');
    const d = await startDaemon(router, `${providers(', metered: true')}groups:\n  web: [{ isp1: 1, isp2: 1 }]\ndefault: web\n`);
    const loop = await startConnectLoop(nsOf(inst, 'lan'), { proto: 'tcp', host: SEED_SERVER });
    try {
      await new Promise((r) => setTimeout(r, 1500));
      const before = loop.sourcesSince(Date.now() - 1000);
      assert.ok(before.length > 20 && before.every((s) => s === ISP1), `only isp1 while it is up: ${[...new Set(before)].join(', ')}`);
      await isp1Upstream(inst, false);
      const cut = Date.now();
      const moved = await loop.waitFor(ISP2, cut, 5000);
      assert.ok(moved !== null, 'the metered uplink takes over');
      t.diagnostic(`metered isp2 took new connections ${moved - cut} ms after isp1's upstream was cut`);
      await isp1Upstream(inst, true);
      const restored = Date.now();
      assert.ok((await loop.waitFor(ISP1, restored, 8000)) !== null, 'back to the unmetered one');
      await new Promise((r) => setTimeout(r, 500));
      const last = loop.firstFrom(ISP1, restored)! + 300;
      assert.ok(
        loop.sourcesSince(last).every((s) => s === ISP1),
        'and only it',
      );
    } finally {
      await loop.stop();
      await d.daemon.stop();
    }
  });
});

/** 400 datagrams of 1200 bytes from one LAN socket to UDP 443 (some 490 kB out). */
const SENDER = `const s = require('node:dgram').createSocket('udp4'); let n = 0; const buf = Buffer.alloc(1200, 120);
const t = setInterval(() => { s.send(buf, 443, '${SEED_SERVER}'); if (++n === 400) { clearInterval(t); setTimeout(() => { console.log('sent'); process.exit(0); }, 200); } }, 2);`;

test('quota: a metered uplink that has carried its quota leaves its group (traffic falls to main), also after a restart; last_resort: true uses it again', async (t) => {
  await withSeedLab(t, async (router, inst) => {
    await startEchoServer(inst, 'inet');
    const cfg = (last: boolean) => (dir: string) =>
      `${providers(`, metered: true, quota: { limit: 300kB, per: day, last_resort: ${last} }`)}groups:\n  lte: [isp2]\ndefault: isp1\npolicies:\n  - { name: bulk-over-lte, match: { protocol: udp, dport: 443 }, via: lte }\nusage_file: ${path.join(dir, 'lib', 'usage.json')}\n`;
    const d = await startDaemon(router, cfg(false));
    const lan = nsOf(inst, 'lan');
    let loop = await startConnectLoop(lan, { proto: 'udp', host: SEED_SERVER, port: 443, everyMs: 100 });
    try {
      await until('UDP 443 goes by isp2 (the lte group)', 5000, () => loop.sourcesSince(Date.now() - 500).includes(ISP2));
      const sender = spawnInNetns(lan, [process.execPath, '-e', SENDER]);
      await sender.waitForOutput('sent', 10_000);
      const sent = Date.now();
      await until('the quota is used up', 10_000, async () => (await d.status()).providers.find((p) => p.name === 'isp2')?.usage?.exhausted === true);
      const st = await d.status();
      const usage = st.providers.find((p) => p.name === 'isp2')!.usage!;
      t.diagnostic(`isp2 counted ${usage.bytes} bytes of its ${usage.limit} quota; exhausted ${Date.now() - sent} ms after the burst`);
      assert.ok(usage.bytes >= 300_000);
      const out = Date.now();
      assert.ok((await loop.waitFor(ISP1, out, 5000)) !== null, 'UDP 443 falls to main (isp1)');
      assert.ok(d.events().some((e) => e.event === 'quota' && e.provider === 'isp2'));

      // a restart: the count is kept (usage_file), so the uplink stays out from the first apply
      await loop.stop();
      await d.daemon.stop();
      assert.ok(fs.existsSync(path.join(d.dir, 'lib', 'usage.json')));
      d.daemon = d.start();
      await until('the restarted daemon answers', 10_000, async () => (await d.cli(['status', '--json'])).code === 0);
      loop = await startConnectLoop(lan, { proto: 'udp', host: SEED_SERVER, port: 443, everyMs: 100 });
      const restarted = Date.now();
      await until('answers after the restart', 5000, () => loop.sourcesSince(restarted).length > 3);
      assert.ok(
        loop.sourcesSince(restarted).every((s) => s === ISP1),
        'still out after the restart',
      );

      // last_resort: true — used up, but the only member of its group: used
      fs.writeFileSync(d.cfg, cfg(true)(d.dir));
      const r = await d.cli(['reload']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.ok((await loop.waitFor(ISP2, Date.now(), 5000)) !== null, 'last_resort: the used-up uplink carries its group again');
    } finally {
      await loop.stop();
      await d.daemon.stop();
    }
  });
});

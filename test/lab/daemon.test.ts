// `multihome run` in the seed lab: a group [isp2, isp1]; isp2's upstream is
// cut while its link stays up → new connections move to isp1 within about a
// second; restored → back to isp2; an invalid config on reload is refused and
// the running one kept; SIGTERM leaves the routing in place.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runOk } from '../../src/kernel/exec.js';
import { nsOf, startEchoServer, SEED_TOPOLOGY } from '../../src/lab/index.js';
import { SEED_DAEMON_CONFIG as CONFIG } from '../helpers/seed-fake.js';
import { withSeedLab } from '../helpers/lab.js';
import { MAIN, seenFrom, startDaemon, until } from '../helpers/daemon.js';
import { run } from '../../src/kernel/exec.js';

test('the daemon fails over a dead upstream (link up) in about a second, fails back, keeps its config on a bad reload', async (t) => {
  await withSeedLab(t, async (router, inst) => {
    await startEchoServer(inst, 'inet');
    // A hook that records every state change it is told about.
    let hookLog = '';
    const { cfg, cli, daemon } = await startDaemon(router, (dir) => {
      const hook = path.join(dir, 'hook.sh');
      hookLog = path.join(dir, 'hook.log');
      fs.writeFileSync(hook, `#!/bin/sh\necho "$MULTIHOME_PROVIDER $MULTIHOME_INTERFACE $MULTIHOME_FROM $MULTIHOME_TO" >> ${hookLog}\n`, { mode: 0o755 });
      return `${CONFIG}hooks: [${hook}]\n`;
    });
    await until('isp2 carries new connections', 3000, async () => (await seenFrom(inst)) === '67.17.28.12');
    const counted = JSON.parse((await cli(['status', '--json'])).stdout) as {
      providers: { name: string; connections: number | null; packets: number | null; bytes: number | null }[];
    };
    const isp2 = counted.providers.find((p) => p.name === 'isp2')!;
    assert.ok((isp2.packets ?? 0) > 0 && (isp2.bytes ?? 0) > 0, `isp2's traffic is counted: ${JSON.stringify(isp2)}`);
    assert.equal(typeof isp2.connections, 'number', 'and its connections');
    assert.match((await cli(['status'])).stdout, /provider +state +since +latency +loss +jitter +last probe +conns +bytes/);

    // Cut isp2's upstream; the router's eth4 stays up.
    await runOk(['ip', 'link', 'set', 'dev', 'up', 'down'], { netns: nsOf(inst, 'isp2') });
    const cut = Date.now();
    await until('new connections move to isp1', 3000, async () => (await seenFrom(inst)) === '205.254.211.179');
    const switched = Date.now() - cut;
    t.diagnostic(`failover observed ${switched} ms after the cut (the defaults: probe every 50 ms, timeout 250 ms, down 5)`);
    assert.ok(switched < 2500, `switched after ${switched} ms`);
    const st = JSON.parse((await cli(['status', '--json'])).stdout) as {
      providers: { name: string; state: string }[];
      groups: { name: string; active: string[] }[];
    };
    assert.deepEqual(
      st.providers.map((p) => [p.name, p.state]),
      [
        ['isp1', 'up'],
        ['isp2', 'down'],
      ],
    );
    assert.deepEqual(
      st.groups.map((g) => ({ name: g.name, active: g.active })),
      [{ name: 'web', active: ['isp1'] }],
    );

    // Restore: back to isp2 after 5 good rounds.
    await runOk(['ip', 'link', 'set', 'dev', 'up', 'up'], { netns: nsOf(inst, 'isp2') });
    const isp2Default = SEED_TOPOLOGY.routes.find((r) => r.role === 'isp2')!.spec;
    await runOk(['ip', 'route', 'replace', ...isp2Default], { netns: nsOf(inst, 'isp2') });
    await until('new connections return to isp2', 5000, async () => (await seenFrom(inst)) === '67.17.28.12');

    await until('the hook heard of both changes', 2000, () => (fs.existsSync(hookLog) ? fs.readFileSync(hookLog, 'utf8') : '').split('\n').length >= 3);
    assert.deepEqual(fs.readFileSync(hookLog, 'utf8').trim().split('\n'), ['isp2 eth4 up down', 'isp2 eth4 down up']);

    // A broken config on reload is refused; the daemon keeps running the old one.
    fs.writeFileSync(cfg, `${CONFIG}bogus: 1\n`);
    const reload = await cli(['reload']);
    assert.equal(reload.code, 1);
    assert.match(reload.stdout, /unknown key "bogus"/);
    assert.equal((await cli(['status', '--json'])).code, 0);
    assert.equal(await seenFrom(inst), '67.17.28.12');

    // SIGTERM: the daemon stops and leaves the routing in place (--on-stop keep).
    await daemon.stop();
    assert.equal((await run(['nft', 'list', 'table', 'inet', 'multihome'], { netns: router })).code, 0, 'the nft table stays');
    assert.equal(await seenFrom(inst), '67.17.28.12');
  });
});

test('a daemon killed with SIGKILL is restarted: it takes over its lock and socket, converges, duplicates nothing', async (t) => {
  await withSeedLab(t, async (router) => {
    // isp1 without health: probed by nobody, shown as up
    const {
      dir,
      cfg,
      cli,
      daemon: first,
      start,
    } = await startDaemon(router, CONFIG.replace(', health: { probe: tcp, port: 22, targets: [203.0.113.10] }', ''));
    const rulesOf77 = async () =>
      (JSON.parse(await runOk(['ip', '-N', '-j', '-d', 'rule', 'show'], { netns: router })) as { protocol?: string }[]).filter((r) => r.protocol === '77')
        .length;

    const rules = await rulesOf77();
    process.kill(first.pid, 'SIGKILL');
    await first.stop(500); // reaps it (keeping the event loop alive while it does)

    const second = start();
    await until('the restarted daemon answers', 5000, async () => (await cli(['status', '--json'])).code === 0);
    assert.equal(await rulesOf77(), rules, 'the same rules, none twice');
    const text = await cli(['status']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /isp1 +up .* none/);
    const plan = await run([process.execPath, MAIN, '--state-dir', path.join(dir, 'plan-state'), 'plan', '-c', cfg], { netns: router });
    assert.match(plan.stdout, /^No changes\./);
    await second.stop();
  });
});

test('an upstream that bounces every second does not make the routing churn every second (flap damping)', async (t) => {
  await withSeedLab(t, async (router, inst) => {
    await startEchoServer(inst, 'inet');
    const { cli, daemon } = await startDaemon(router, CONFIG);
    const isp2 = nsOf(inst, 'isp2');
    const isp2Default = SEED_TOPOLOGY.routes.find((r) => r.role === 'isp2')!.spec;
    const flaps = 10;
    for (let i = 0; i < flaps; i++) {
      await runOk(['ip', 'link', 'set', 'dev', 'up', 'down'], { netns: isp2 });
      await new Promise((r) => setTimeout(r, 1000));
      await runOk(['ip', 'link', 'set', 'dev', 'up', 'up'], { netns: isp2 });
      await runOk(['ip', 'route', 'replace', ...isp2Default], { netns: isp2 });
      // up long enough for the probes to bring it back (`up` 20 rounds of 50 ms: 1 s), so every
      // bounce is a flap the damping sees
      await new Promise((r) => setTimeout(r, 1500));
    }
    const st = JSON.parse((await cli(['status', '--json'])).stdout) as {
      providers: { name: string; state: string; transitions: number; suppressed: boolean }[];
    };
    const p = st.providers.find((x) => x.name === 'isp2')!;
    t.diagnostic(`${flaps} bounces: ${p.transitions} transitions, now ${p.state}${p.suppressed ? ' (held by damping)' : ''}`);
    assert.ok(p.transitions <= 4, `${p.transitions} transitions for ${flaps} bounces`);
    assert.equal(p.state, 'down', 'held down while it keeps bouncing');
    await daemon.stop();
  });
});

test("the router's own link to isp2 cut and restored: connections move to isp1 and back, the route the kernel dropped is put back", async (t) => {
  await withSeedLab(t, async (router, inst) => {
    await startEchoServer(inst, 'inet');
    const { daemon } = await startDaemon(router, CONFIG);
    await until('isp2 carries new connections', 3000, async () => (await seenFrom(inst)) === '67.17.28.12');
    await runOk(['ip', 'link', 'set', 'dev', 'eth4', 'down'], { netns: router });
    await until('new connections move to isp1', 3000, async () => (await seenFrom(inst)) === '205.254.211.179');
    await runOk(['ip', 'link', 'set', 'dev', 'eth4', 'up'], { netns: router });
    await until('new connections return to isp2', 6000, async () => (await seenFrom(inst)) === '67.17.28.12');
    // isp2's table (101: assigned after isp1's 100) lost its route when the link went down
    const t101 = JSON.parse(await runOk(['ip', '-j', 'route', 'show', 'table', '101'], { netns: router })) as { dst: string; gateway?: string }[];
    assert.deepEqual(
      t101.map((r) => [r.dst, r.gateway]),
      [['default', '67.17.28.14']],
      'isp2 table has its default route again',
    );
    await daemon.stop();
  });
});

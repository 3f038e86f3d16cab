// The status page in a real headless browser: Debian's chromium, driven by
// playwright-core, started inside the router's namespace (a wrapper runs it
// with `ip netns exec`; playwright talks to it over a pipe) so it reaches the
// daemon's loopback listener. The test cuts isp2's upstream and waits for the
// page to show isp2 down, the group on isp1 and the event in the history.
// MULTIHOME_SCREENSHOT=FILE saves a screenshot after the failover (how
// docs/status-page.png was made).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { runOk } from '../../src/kernel/exec.js';
import { nsOf, SEED_SERVER, startConnectLoop, startEchoServer } from '../../src/lab/index.js';
import { startDaemon } from '../helpers/daemon.js';
import { withSeedLab } from '../helpers/lab.js';

const CHROMIUM = '/usr/bin/chromium';
const CONFIG = `providers:
  isp1: { interface: eth1, gateway: 205.254.211.254, snat: 205.254.211.179, health: { probe: icmp, targets: [${SEED_SERVER}] } }
  isp2: { interface: eth4, gateway: 67.17.28.14, snat: 67.17.28.12, health: { probe: icmp, targets: [${SEED_SERVER}], jitter: 20ms } }
groups:
  web: { tiers: [isp2, isp1], failback: 30s }
  spread: [{ isp1: 3, isp2: 1 }]
default: web
policies:
  - { name: bulk, match: { protocol: tcp, dport: 80 }, via: spread }
web: { listen: "127.0.0.1:9782" }
`;

test('the status page in Chromium shows an uplink going down and the event, live', async (t) => {
  if (!fs.existsSync(CHROMIUM)) {
    t.skip('needs chromium (Debian package; scripts/setup.sh installs it)');
    return;
  }
  await withSeedLab(t, async (router, inst) => {
    await startEchoServer(inst, 'inet');
    const d = await startDaemon(router, CONFIG);
    // chromium inside the router's namespace
    const wrapper = path.join(d.dir, 'chromium-in-router');
    fs.writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${router} ${CHROMIUM} "$@"\n`, { mode: 0o755 });
    const traffic = await startConnectLoop(nsOf(inst, 'lan'), { proto: 'tcp', host: SEED_SERVER, everyMs: 50 });
    const browser = await chromium.launch({
      executablePath: wrapper,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
      await page.goto('http://127.0.0.1:9782/');
      const state = (p: string) => page.locator(`#providers tr[data-provider="${p}"] td.state`);
      await page.waitForFunction(() => document.querySelectorAll('#providers tbody tr').length === 2, undefined, { timeout: 10_000 });
      assert.equal(await state('isp2').textContent(), 'up');
      assert.equal(await page.locator('#groups tr[data-group="web"] td.active').textContent(), 'isp2');
      assert.match((await page.locator('#groups tr[data-group="spread"]').textContent()) ?? '', /isp1 \(3\), isp2 \(1\)/, 'members and weights');
      await page.waitForSelector('#chart-rtt .uplot', { timeout: 10_000 });

      // let the charts gather a few points, then cut isp2's upstream (its link stays up)
      await new Promise((r) => setTimeout(r, 12_000));
      await runOk(['ip', 'link', 'set', 'dev', 'up', 'down'], { netns: nsOf(inst, 'isp2') });
      const cut = Date.now();
      await page.waitForFunction(() => document.querySelector('#providers tr[data-provider="isp2"] td.state')?.textContent === 'down', undefined, {
        timeout: 6000,
      });
      t.diagnostic(`the page showed isp2 down ${Date.now() - cut} ms after the cut (the page polls every 2 s)`);
      await page.waitForFunction(() => document.querySelector('#groups tr[data-group="web"] td.active')?.textContent === 'isp1', undefined, { timeout: 4000 });
      const event = page.locator('#events tr.event.provider', { hasText: 'provider=isp2 from=up to=down' });
      await event.first().waitFor({ timeout: 4000 });
      assert.ok((await page.locator('#events tr.event.applied').count()) > 0, 'applies are in the history');
      await new Promise((r) => setTimeout(r, 10_500)); // one more history point, after the failover
      const shot = process.env.MULTIHOME_SCREENSHOT;
      if (shot) await page.screenshot({ path: shot, fullPage: true });
    } finally {
      await browser.close();
      await traffic.stop();
      await d.daemon.stop();
    }
  });
});

// `notify: { url }` in the lab: a local HTTP server in the router's namespace
// receives every event as a JSON POST; it answers the first two requests with
// 500, so the webhook's retries are what get the events through, in order.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runOk } from '../../src/kernel/exec.js';
import { spawnInNetns } from '../../src/kernel/netns.js';
import { nsOf, SEED_SERVER } from '../../src/lab/index.js';
import { startDaemon, until } from '../helpers/daemon.js';
import { withSeedLab } from '../helpers/lab.js';

const RECEIVER = (file: string) => `const fs = require('node:fs'); let n = 0;
require('node:http').createServer((req, res) => { let b = ''; req.on('data', (d) => (b += d)); req.on('end', () => {
  n++; if (n <= 2) { res.writeHead(500); res.end(); return; }
  fs.appendFileSync(${JSON.stringify(file)}, JSON.stringify({ n, type: req.headers['content-type'], body: JSON.parse(b) }) + '\\n'); res.end('ok'); }); })
  .listen(9790, '127.0.0.1', () => console.log('ready'));`;

test('the webhook POSTs every event as JSON, retrying through failures', async (t) => {
  await withSeedLab(t, async (router, inst) => {
    const dir = fs.mkdtempSync(path.join('/tmp', 'mh-hook-'));
    const got = path.join(dir, 'got.jsonl');
    const server = spawnInNetns(router, [process.execPath, '-e', RECEIVER(got)]);
    await server.waitForOutput('ready', 5000);
    const d = await startDaemon(
      router,
      `providers:
  isp1: { interface: eth1, gateway: 205.254.211.254, snat: 205.254.211.179, health: { probe: icmp, targets: [${SEED_SERVER}] } }
  isp2: { interface: eth4, gateway: 67.17.28.14, snat: 67.17.28.12, health: { probe: icmp, targets: [${SEED_SERVER}] } }
groups:
  web: [isp2, isp1]
default: web
notify: { url: "http://127.0.0.1:9790/multihome", timeout: 1s, retries: 3 }
`,
    );
    try {
      const received = () =>
        fs.existsSync(got)
          ? fs
              .readFileSync(got, 'utf8')
              .split('\n')
              .filter(Boolean)
              .map((l) => JSON.parse(l) as { n: number; type: string; body: Record<string, unknown> })
          : [];
      // the first event (applied, at start) needed two retries
      await until('the first event arrives after two failed tries', 10_000, () => received().length >= 1);
      assert.equal(received()[0]!.n, 3);
      assert.equal(received()[0]!.type, 'application/json');
      assert.equal(received()[0]!.body.event, 'applied');
      await runOk(['ip', 'link', 'set', 'dev', 'up', 'down'], { netns: nsOf(inst, 'isp2') });
      await until('the state change and the apply it caused arrive', 10_000, () => {
        const k = received().map((r) => r.body.event);
        return k.includes('provider') && k.lastIndexOf('applied') > k.indexOf('provider');
      });
      const kinds = received().map((r) => r.body.event);
      t.diagnostic(`received: ${kinds.join(', ')}`);
      assert.ok(kinds.indexOf('provider') < kinds.lastIndexOf('applied'), 'in the order they happened');
      assert.ok(received().every((r) => typeof r.body.ts === 'string'));
    } finally {
      await d.daemon.stop();
      await server.stop();
    }
  });
});

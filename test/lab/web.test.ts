// The daemon's HTTP endpoint in the seed lab: /metrics scraped every 50 ms
// from inside the router's namespace across a failover — multihome_provider_up
// flips within a probe round of the state change, byte and packet totals never
// go backwards (the nft table is replaced underneath) — and `promtool check
// metrics` (Debian's prometheus package) finds nothing; /api/status is the JSON
// of `status --json`, /api/events has the failover; a remote listener needs
// its token for everything but /metrics; nothing but GET is served.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { run, runOk } from '../../src/kernel/exec.js';
import { execInNetns, spawnInNetns } from '../../src/kernel/netns.js';
import { nsOf, SEED_SERVER, startConnectLoop, startEchoServer } from '../../src/lab/index.js';
import { startDaemon, until } from '../helpers/daemon.js';
import { withSeedLab } from '../helpers/lab.js';

const CONFIG = (web: string) => `providers:
  isp1: { interface: eth1, gateway: 205.254.211.254, snat: 205.254.211.179, health: { probe: icmp, targets: [${SEED_SERVER}] } }
  isp2: { interface: eth4, gateway: 67.17.28.14, snat: 67.17.28.12, health: { probe: icmp, targets: [${SEED_SERVER}] } }
groups:
  web: [isp2, isp1]
default: web
web: ${web}
`;

/** One HTTP request from inside a namespace: status and body. */
async function get(ns: string, url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; body: string }> {
  const script = `fetch(${JSON.stringify(url)}, { method: ${JSON.stringify(method)}, headers: ${JSON.stringify(headers)} }).then(async (r) => console.log(JSON.stringify({ status: r.status, body: await r.text() })), (e) => console.log(JSON.stringify({ status: 0, body: String(e) })))`;
  const r = await execInNetns(ns, [process.execPath, '-e', script], { timeoutMs: 10_000 });
  return JSON.parse(r.stdout.trim()) as { status: number; body: string };
}

/** Scrapes /metrics every 50 ms from inside the namespace; one line per scrape: time and the metrics text, JSON-quoted. */
const SCRAPER = (url: string, file: string) => `const fs = require('node:fs'); const out = fs.openSync(${JSON.stringify(file)}, 'a');
setInterval(() => { const t = Date.now(); fetch(${JSON.stringify(url)}).then((r) => r.text()).then((b) => fs.writeSync(out, JSON.stringify([t, b]) + '\\n'), () => {}); }, 50);
console.log('ready');`;

const value = (text: string, name: string, labels: string): number | null => {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.split(' ').pop()) : null;
};

test('/metrics across a failover: provider_up flips within a probe round, totals never go backwards, promtool is clean; /api/status and /api/events', async (t) => {
  if (spawnSync('which', ['promtool']).status !== 0) {
    t.skip('needs promtool (Debian package prometheus; scripts/setup.sh installs it)');
    return;
  }
  await withSeedLab(t, async (router, inst) => {
    await startEchoServer(inst, 'inet');
    const d = await startDaemon(router, CONFIG('{ listen: "127.0.0.1:9780" }'));
    const log = path.join(d.dir, 'scrapes.log');
    fs.writeFileSync(log, '');
    const scraper = spawnInNetns(router, [process.execPath, '-e', SCRAPER('http://127.0.0.1:9780/metrics', log)]);
    const traffic = await startConnectLoop(nsOf(inst, 'lan'), { proto: 'tcp', host: SEED_SERVER, everyMs: 50 });
    try {
      await scraper.waitForOutput('ready', 5000);
      const scrapes = () =>
        fs
          .readFileSync(log, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as [number, string]);
      await until('a scrape with isp2 up and traffic counted', 15_000, () =>
        scrapes().some(
          ([, b]) =>
            value(b, 'multihome_provider_up', 'provider="isp2"') === 1 &&
            (value(b, 'multihome_provider_bytes_total', 'provider="isp2",direction="out"') ?? 0) > 0,
        ),
      );
      const body = scrapes().pop()![1];
      const check = await run(['promtool', 'check', 'metrics'], { input: body });
      assert.equal(check.code, 0, `promtool: ${check.stdout}${check.stderr}`);
      for (const name of [
        'multihome_provider_state',
        'multihome_provider_rtt_seconds',
        'multihome_provider_probe_rtt_seconds_bucket',
        'multihome_provider_loss_ratio',
        'multihome_provider_jitter_seconds',
        'multihome_provider_transitions_total',
        'multihome_provider_packets_total',
        'multihome_group_active',
        'multihome_apply_total',
        'multihome_drift_repairs_total',
      ]) {
        assert.ok(body.includes(name), `${name} is exported`);
      }
      assert.equal(value(body, 'multihome_group_active', 'group="web",provider="isp2"'), 1);

      // failover
      await runOk(['ip', 'link', 'set', 'dev', 'up', 'down'], { netns: nsOf(inst, 'isp2') });
      await until('isp2 is down', 5000, () => d.events().some((e) => e.event === 'provider' && e.provider === 'isp2' && e.to === 'down'));
      const downAt = Date.parse(String(d.events().find((e) => e.event === 'provider' && e.provider === 'isp2' && e.to === 'down')!.ts));
      await until('a scrape shows it', 3000, () => scrapes().some(([at, b]) => at >= downAt && value(b, 'multihome_provider_up', 'provider="isp2"') === 0));
      const flipped = scrapes().find(([at, b]) => at >= downAt - 1000 && value(b, 'multihome_provider_up', 'provider="isp2"') === 0)![0];
      t.diagnostic(
        `multihome_provider_up{provider="isp2"} was 0 in the scrape started ${flipped - downAt} ms after the state change (scrapes every 50 ms, a probe round 200 ms)`,
      );
      assert.ok(flipped - downAt <= 200, `flipped ${flipped - downAt} ms after the change`);
      await new Promise((r) => setTimeout(r, 6000)); // traffic on isp1 meanwhile, the table replaced, counters sampled again
      const after = scrapes().pop()![1];
      assert.equal(value(after, 'multihome_group_active', 'group="web",provider="isp1"'), 1);
      assert.ok((value(after, 'multihome_provider_transitions_total', 'provider="isp2"') ?? 0) >= 1);
      assert.equal((await run(['promtool', 'check', 'metrics'], { input: after })).code, 0);

      // monotonic: no total ever below an earlier one, for every series of every scrape
      const seen = new Map<string, number>();
      let checked = 0;
      for (const [, b] of scrapes()) {
        for (const l of b.split('\n').filter((x) => /^multihome_provider_(bytes|packets)_total\{/.test(x))) {
          const [series, v] = [l.slice(0, l.lastIndexOf(' ')), Number(l.slice(l.lastIndexOf(' ') + 1))];
          assert.ok(v >= (seen.get(series) ?? 0), `${series} went from ${seen.get(series)} to ${v}`);
          seen.set(series, v);
          checked++;
        }
      }
      t.diagnostic(`${scrapes().length} scrapes, ${checked} total values, none lower than an earlier one`);

      // the API
      const api = JSON.parse((await get(router, 'http://127.0.0.1:9780/api/status')).body) as {
        providers: { name: string; state: string }[];
        groups: { name: string; active: string[] }[];
      };
      const cli = JSON.parse((await d.cli(['status', '--json'])).stdout) as typeof api;
      assert.deepEqual(
        api.providers.map((p) => [p.name, p.state]),
        cli.providers.map((p) => [p.name, p.state]),
      );
      assert.deepEqual(
        api.groups.map((g) => g.active),
        [['isp1']],
      );
      const events = JSON.parse((await get(router, 'http://127.0.0.1:9780/api/events')).body) as { event: string; provider?: string; to?: string }[];
      assert.ok(events.some((e) => e.event === 'provider' && e.provider === 'isp2' && e.to === 'down'));
      assert.equal((await get(router, 'http://127.0.0.1:9780/api/status', {}, 'POST')).status, 405, 'read-only');
      const page = await get(router, 'http://127.0.0.1:9780/');
      assert.ok(page.status === 200 && page.body.includes('<script src="uPlot.js">'));
      assert.equal((await get(router, 'http://127.0.0.1:9780/uPlot.js')).status, 200, 'the charting library is served by the daemon');
    } finally {
      await traffic.stop();
      await scraper.stop();
      await d.daemon.stop();
    }
  });
});

test('a remote listener needs allow_remote and a token for everything but /metrics', async (t) => {
  await withSeedLab(t, async (router) => {
    const d = await startDaemon(router, (dir) => {
      const tokenFile = path.join(dir, 'web.token');
      fs.writeFileSync(tokenFile, 's3cret-token-for-the-lab-1234\n', { mode: 0o600 });
      return CONFIG(`{ listen: "0.0.0.0:9781", allow_remote: true, token_file: ${tokenFile} }`);
    });
    try {
      const url = 'http://192.168.99.1:9781';
      assert.equal((await get(router, `${url}/metrics`)).status, 200, '/metrics without a token');
      assert.equal((await get(router, `${url}/api/status`)).status, 401);
      assert.equal((await get(router, `${url}/api/status`, { authorization: 'Bearer wrong-token-000000000' })).status, 401);
      assert.equal((await get(router, `${url}/api/status`, { authorization: 'Bearer s3cret-token-for-the-lab-1234' })).status, 200);
      assert.equal((await get(router, `${url}/?token=s3cret-token-for-the-lab-1234`)).status, 200);
      // the config refuses a remote listener without allow_remote
      fs.writeFileSync(d.cfg, CONFIG('{ listen: "0.0.0.0:9781" }'));
      const r = await d.cli(['reload']);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /0\.0\.0\.0 is not a loopback address/);
    } finally {
      await d.daemon.stop();
    }
  });
});

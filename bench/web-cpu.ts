// What the HTTP endpoint costs the daemon: `multihome run` with 8 providers at
// the default probe rate and `web:` on, its CPU (from /proc) over alternating
// windows without any client, with a Prometheus-like scraper (GET /metrics
// once a second), and with the status page's polling (/api/status,
// /api/events, /api/history every 2 s), and with a fast scraper (50 scrapes/s)
// — all in the same run, so the difference is what serving costs. At 1/s the
// cost hides in the windows' noise (±0.5 % of a core on a shared VM); the fast
// windows lift it well above that noise, and their CPU above idle divided by
// their scrapes is the cost of one scrape. The clients run in the router's
// namespace and are not counted.
//
//   node dist/bench/web-cpu.js [--providers 8] [--seconds 30] [--rounds 2]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../src/kernel/exec.js';
import { spawnInNetns, type BackgroundProcess } from '../src/kernel/netns.js';
import { buildUplinks, cpuSeconds } from './uplinks-lab.js';
import { arg, machine } from './stats.js';

const N = arg('providers', 8);
const SECONDS = arg('seconds', 30);
const ROUNDS = arg('rounds', 2);
const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
const BASE = 'http://127.0.0.1:9799';

/**
 * A client fetching `paths` every `everyMs` for `seconds`: it prints `go` once its first request
 * was answered and then counts, and `final {"n":…,"bad":…}` when its time is up.
 */
const CLIENT = (paths: string[], everyMs: number, seconds: number) => `let n = 0, bad = 0, counting = false;
await fetch('${BASE}${paths[0]}').then((r) => r.text());
const tick = () => { for (const p of ${JSON.stringify(paths)}) fetch('${BASE}' + p).then((r) => r.text().then(() => { if (counting) { n++; if (!r.ok) bad++; } }), () => { if (counting) bad++; }); };
console.log('go'); counting = true;
const iv = setInterval(tick, ${everyMs});
setTimeout(() => { clearInterval(iv); counting = false; console.log('final ' + JSON.stringify({ n, bad })); process.exit(0); }, ${seconds * 1000});`;

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mh-webcpu-'));
  const lab = await buildUplinks(N, 'web');
  try {
    const cfg = path.join(dir, 'multihome.yaml');
    fs.writeFileSync(
      cfg,
      `providers:\n${lab.providersYaml.join('\n')}\ngroups:\n  all: [${Array.from({ length: N }, (_, i) => `isp${i + 1}`).join(', ')}]\ndefault: all\nweb: { listen: "127.0.0.1:9799" }\n`,
    );
    const state = path.join(dir, 'state');
    const daemon = spawnInNetns(lab.router, [process.execPath, MAIN, '--state-dir', state, 'run', '-c', cfg, '--log-format', 'json']);
    try {
      for (let t = 0; t < 100; t++) {
        if ((await run([process.execPath, MAIN, '--state-dir', state, 'status', '--json'], { netns: lab.router })).code === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await new Promise((r) => setTimeout(r, 15_000)); // settle: JIT, the first history points
      /** the daemon's CPU (% of a core) over one window with this client running (null: none), and the requests it made */
      const windowCpu = async (client: string | null): Promise<{ cpu: number; requests: number }> => {
        const c: BackgroundProcess | null = client ? spawnInNetns(lab.router, [process.execPath, '--input-type=module', '-e', client]) : null;
        try {
          if (c) await c.waitForOutput('go', 10_000);
          const d0 = cpuSeconds(daemon.pid);
          const t0 = Date.now();
          let requests = 0;
          if (c) {
            const final = JSON.parse((await c.waitForOutput('final ', (SECONDS + 10) * 1000)).slice('final '.length)) as { n: number; bad: number };
            if (final.bad > 0) throw new Error(`${final.bad} requests failed`);
            requests = final.n;
          } else await new Promise((r) => setTimeout(r, SECONDS * 1000));
          return { cpu: ((cpuSeconds(daemon.pid) - d0) / ((Date.now() - t0) / 1000)) * 100, requests };
        } finally {
          await c?.stop(500);
        }
      };
      const FAST_MS = 20;
      const kinds = [
        ['idle', null],
        ['metrics', CLIENT(['/metrics'], 1000, SECONDS)],
        ['page', CLIENT(['/api/status', '/api/events', '/api/history'], 2000, SECONDS)],
        // many scrapes per window: their cost stands well above the windows' noise, so the cost of one is measured, not guessed
        ['metricsFast', CLIENT(['/metrics'], FAST_MS, SECONDS)],
      ] as const;
      const results: Record<(typeof kinds)[number][0], { cpu: number; requests: number }[]> = { idle: [], metrics: [], page: [], metricsFast: [] };
      // the order turns each round, so a drift of the daemon's own cost (JIT, GC) hits every kind alike
      for (let r = 0; r < ROUNDS; r++) {
        for (let k = 0; k < kinds.length; k++) {
          const [name, client] = kinds[(k + r) % kinds.length]!;
          results[name].push(await windowCpu(client));
        }
      }
      // the median of the windows: one noisy window (another tenant of the machine) does not move it
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const cpu = (k: keyof typeof results) => median(results[k].map((w) => w.cpu));
      const idle = cpu('idle');
      // CPU-ms of one scrape: a fast window's CPU above the idle median, over its scrapes
      const perScrapeMs = median(results.metricsFast.map((w) => (((w.cpu - idle) / 100) * SECONDS * 1000) / w.requests));
      const out = {
        bench: 'web-cpu',
        command: `node dist/bench/web-cpu.js --providers ${N} --seconds ${SECONDS} --rounds ${ROUNDS}`,
        providers: N,
        idleMedianPercentOfACore: Number(idle.toFixed(3)),
        withScraperMedianPercentOfACore: Number(cpu('metrics').toFixed(3)),
        withPageMedianPercentOfACore: Number(cpu('page').toFixed(3)),
        scraperAddsPercent: Number((cpu('metrics') - idle).toFixed(3)),
        pageAddsPercent: Number((cpu('page') - idle).toFixed(3)),
        fastScrapesPerSecond: Number(median(results.metricsFast.map((w) => w.requests / SECONDS)).toFixed(1)),
        fastMedianPercentOfACore: Number(cpu('metricsFast').toFixed(3)),
        cpuMsPerScrape: Number(perScrapeMs.toFixed(3)),
        // one scrape a second costs perScrapeMs of every 1000 ms
        oneScrapePerSecondAddsPercent: Number((perScrapeMs / 10).toFixed(3)),
        windows: results,
        machine: machine(),
      };
      console.log(
        `${N} providers: daemon ${out.idleMedianPercentOfACore}% of a core idle, ${out.withScraperMedianPercentOfACore}% with /metrics scraped 1/s (+${out.scraperAddsPercent}), ` +
          `${out.withPageMedianPercentOfACore}% with the page polling (+${out.pageAddsPercent}); ${out.fastScrapesPerSecond} scrapes/s: ${out.fastMedianPercentOfACore}%, ` +
          `${out.cpuMsPerScrape} CPU-ms per scrape, so 1 scrape/s adds ${out.oneScrapePerSecondAddsPercent}%`,
      );
      console.log(`JSON ${JSON.stringify(out)}`);
    } finally {
      await daemon.stop();
    }
  } finally {
    await lab.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();

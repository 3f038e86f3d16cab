// What the HTTP endpoint costs the daemon: `multihome run` with 8 providers at
// the default probe rate and `web:` on, its CPU (from /proc) over alternating
// windows without any client, with a Prometheus-like scraper (GET /metrics
// once a second), and with the status page's polling (/api/status,
// /api/events, /api/history every 2 s) — all in the same run, so the
// difference is what serving costs. The clients run in the router's namespace
// and are not counted.
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

/** A client fetching `paths` every `everyMs`; it prints its counts every second. */
const CLIENT = (paths: string[], everyMs: number) => `let n = 0, bad = 0;
setInterval(() => { for (const p of ${JSON.stringify(paths)}) fetch('${BASE}' + p).then((r) => r.text().then(() => { n++; if (!r.ok) bad++; }), () => bad++); }, ${everyMs});
setInterval(() => console.log(JSON.stringify({ n, bad })), 1000); console.log('ready');`;

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mh-webcpu-'));
  const lab = await buildUplinks(N, 'web');
  try {
    const cfg = path.join(dir, 'multihome.yaml');
    fs.writeFileSync(cfg, `providers:\n${lab.providersYaml.join('\n')}\ngroups:\n  all: [${Array.from({ length: N }, (_, i) => `isp${i + 1}`).join(', ')}]\ndefault: all\nweb: { listen: "127.0.0.1:9799" }\n`);
    const state = path.join(dir, 'state');
    const daemon = spawnInNetns(lab.router, [process.execPath, MAIN, '--state-dir', state, 'run', '-c', cfg, '--log-format', 'json']);
    try {
      for (let t = 0; t < 100; t++) {
        if ((await run([process.execPath, MAIN, '--state-dir', state, 'status', '--json'], { netns: lab.router })).code === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await new Promise((r) => setTimeout(r, 15_000)); // settle: JIT, the first history points
      /** the daemon's CPU over one window, with this client running (null: none) */
      const windowCpu = async (client: string | null): Promise<number> => {
        const c: BackgroundProcess | null = client ? spawnInNetns(lab.router, [process.execPath, '-e', client]) : null;
        try {
          if (c) {
            await c.waitForOutput('ready', 5000);
            await c.waitForOutput('"bad":0', 5000); // it is getting answers
          }
          const d0 = cpuSeconds(daemon.pid);
          const t0 = Date.now();
          await new Promise((r) => setTimeout(r, SECONDS * 1000));
          return ((cpuSeconds(daemon.pid) - d0) / ((Date.now() - t0) / 1000)) * 100;
        } finally {
          await c?.stop(500);
        }
      };
      const results: Record<string, number[]> = { idle: [], metrics: [], page: [] };
      const kinds: [keyof typeof results, string | null][] = [
        ['idle', null],
        ['metrics', CLIENT(['/metrics'], 1000)],
        ['page', CLIENT(['/api/status', '/api/events', '/api/history'], 2000)],
      ];
      // the order turns each round, so a drift of the daemon's own cost (JIT, GC) hits every kind alike
      for (let r = 0; r < ROUNDS; r++) {
        for (let k = 0; k < kinds.length; k++) {
          const [name, client] = kinds[(k + r) % kinds.length]!;
          results[name]!.push(await windowCpu(client));
        }
      }
      // the median of the windows: one noisy window (another tenant of the machine) does not move it
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const out = {
        bench: 'web-cpu',
        command: `node dist/bench/web-cpu.js --providers ${N} --seconds ${SECONDS} --rounds ${ROUNDS}`,
        providers: N,
        idleMedianPercentOfACore: Number(median(results.idle!).toFixed(3)),
        withScraperMedianPercentOfACore: Number(median(results.metrics!).toFixed(3)),
        withPageMedianPercentOfACore: Number(median(results.page!).toFixed(3)),
        scraperAddsPercent: Number((median(results.metrics!) - median(results.idle!)).toFixed(3)),
        pageAddsPercent: Number((median(results.page!) - median(results.idle!)).toFixed(3)),
        windows: results,
        machine: machine(),
      };
      console.log(`${N} providers: daemon ${out.idleMedianPercentOfACore}% of a core idle, ${out.withScraperMedianPercentOfACore}% with /metrics scraped 1/s (+${out.scraperAddsPercent}), ${out.withPageMedianPercentOfACore}% with the page polling (+${out.pageAddsPercent})`);
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

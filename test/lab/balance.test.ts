// Load balancing by weight, per new connection, on a real kernel: 400 TCP
// connections from the office LAN through a group { isp1: 3, isp2: 1 } land on
// the uplinks in a 3:1 ratio within a statistically sound band, and with
// `sticky: source` every connection of one source keeps one uplink.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { run } from '../../src/kernel/exec.js';
import { nsOf, startEchoServer } from '../../src/lab/index.js';
import { cli } from '../helpers/cli.js';
import { withSeedLab } from '../helpers/lab.js';

const PROVIDERS = `providers:
  isp1: { interface: eth1, gateway: 205.254.211.254, snat: 205.254.211.179 }
  isp2: { interface: eth4, gateway: 67.17.28.14, snat: 67.17.28.12 }
`;

/** Open `n` TCP connections one after another from `ns`; return the source address the server saw for each. */
async function connections(ns: string, n: number): Promise<string[]> {
  const script = `
    const net = require('node:net');
    (async () => {
      const seen = [];
      for (let i = 0; i < ${n}; i++) {
        seen.push(await new Promise((resolve) => {
          const s = net.connect({ host: '203.0.113.10', port: 22 });
          let buf = '';
          s.setTimeout(2000, () => { s.destroy(); resolve('timeout'); });
          s.on('data', (d) => (buf += d));
          s.on('error', () => resolve('error'));
          s.on('close', () => { try { resolve(JSON.parse(buf.split('\\n')[0]).seen); } catch { resolve('no answer'); } });
        }));
      }
      console.log(JSON.stringify(seen));
    })();`;
  const r = await run([process.execPath, '-e', script], { netns: ns, timeoutMs: 120_000 });
  return JSON.parse(r.stdout) as string[];
}

const count = (list: string[], x: string) => list.filter((s) => s === x).length;

test('balancing 3:1 over 400 new connections lands within ±4.5 standard deviations; sticky per source keeps one uplink', async (t) => {
  await withSeedLab(t, async (router, inst) => {
    const state = fs.mkdtempSync(path.join(os.tmpdir(), 'mh-balance-'));
    await startEchoServer(inst, 'inet');
    const cfg = path.join(state, 'spread.yaml');
    fs.writeFileSync(cfg, `${PROVIDERS}groups:\n  spread: [{ isp1: 3, isp2: 1 }]\ndefault: spread\n`);
    const a = await cli(['apply', '-c', cfg], { netns: router, stateDir: state });
    assert.equal(a.code, 0, a.stderr);

    const n = 400;
    const seen = await connections(nsOf(inst, 'lan'), n);
    const isp1 = count(seen, '205.254.211.179');
    const isp2 = count(seen, '67.17.28.12');
    assert.equal(
      isp1 + isp2,
      n,
      `every connection answered through an uplink: ${JSON.stringify(seen.filter((s) => s !== '205.254.211.179' && s !== '67.17.28.12').slice(0, 5))}`,
    );
    // Binomial(400, 3/4): mean 300, standard deviation 8.66; ±4.5 sd fails by chance about once in 150,000 runs.
    const sd = Math.sqrt(n * 0.75 * 0.25);
    assert.ok(Math.abs(isp1 - 300) <= 4.5 * sd, `isp1 carried ${isp1} of ${n} (expected 300 ± ${(4.5 * sd).toFixed(0)})`);

    fs.writeFileSync(cfg, `${PROVIDERS}groups:\n  spread: { tiers: [{ isp1: 1, isp2: 1 }], sticky: source }\ndefault: spread\n`);
    assert.equal((await cli(['apply', '-c', cfg], { netns: router, stateDir: state })).code, 0);
    const sticky = await connections(nsOf(inst, 'lan'), 40);
    assert.equal(new Set(sticky).size, 1, `one source, one uplink: ${[...new Set(sticky)].join(', ')}`);
    assert.equal((await cli(['down'], { netns: router, stateDir: state })).code, 0);
  });
});

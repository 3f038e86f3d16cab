// Brownouts: a lossy or jittery uplink is `degraded`, not down. A group with
// `avoid_degraded` (the voice policy's) moves its new connections off it; a
// group without (bulk, the default) stays. Loss is emulated with an nft
// `numgen random` drop in isp1's namespace (netem is not available); jitter
// with a userspace HTTP responder that answers isp1's probes after a random
// delay.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runOk } from '../../src/kernel/exec.js';
import { spawnInNetns } from '../../src/kernel/netns.js';
import { nsOf, SEED_SERVER, startConnectLoop, startEchoServer, type LabInstance } from '../../src/lab/index.js';
import { startDaemon } from '../helpers/daemon.js';
import { withSeedLab } from '../helpers/lab.js';

const ISP1 = '205.254.211.179';
const ISP2 = '67.17.28.12';

const config = (health: string) => `providers:
  isp1: { interface: eth1, gateway: 205.254.211.254, snat: ${ISP1}, health: ${health} }
  isp2: { interface: eth4, gateway: 67.17.28.14, snat: ${ISP2}, health: ${health} }
groups:
  voice: { tiers: [isp1, isp2], avoid_degraded: true }
  bulk: [isp1, isp2]
default: bulk
policies:
  - name: voice
    match: { protocol: udp, dport: 443 }
    via: voice
`;

/** Voice (UDP 443) and bulk (TCP 22) connections from the LAN, new ones every 20 ms, while `degrade` runs. */
async function brownout(t: { diagnostic(s: string): void }, inst: LabInstance, degrade: () => Promise<void>, limitMs: number): Promise<void> {
  const lan = nsOf(inst, 'lan');
  const voice = await startConnectLoop(lan, { proto: 'udp', host: SEED_SERVER, port: 443 });
  const bulk = await startConnectLoop(lan, { proto: 'tcp', host: SEED_SERVER, port: 22 });
  try {
    await new Promise((r) => setTimeout(r, 1500));
    const t0 = Date.now() - 1000;
    assert.ok(voice.sourcesSince(t0).length > 0 && voice.sourcesSince(t0).every((s) => s === ISP1), 'voice starts on isp1');
    assert.ok(
      bulk.sourcesSince(t0).every((s) => s === ISP1),
      'bulk starts on isp1',
    );
    await degrade();
    const start = Date.now();
    const moved = await voice.waitFor(ISP2, start, limitMs + 5000);
    assert.ok(moved !== null, 'voice never left isp1');
    t.diagnostic(`voice moved to isp2 ${moved - start} ms after the brownout began`);
    assert.ok(moved - start <= limitMs, `voice moved after ${moved - start} ms`);
    await new Promise((r) => setTimeout(r, 1000));
    const later = moved + 300;
    assert.ok(
      voice.sourcesSince(later).every((s) => s === ISP2),
      `voice stays on isp2: ${voice.sourcesSince(later).join(' ')}`,
    );
    const bulkAfter = bulk.sourcesSince(start);
    assert.ok(bulkAfter.length > 0 && bulkAfter.every((s) => s === ISP1), `bulk stays on isp1: ${[...new Set(bulkAfter)].join(', ')}`);
  } finally {
    await voice.stop();
    await bulk.stop();
  }
}

test('10 % loss on isp1: voice (avoid_degraded) moves to isp2 within 6 s, bulk stays on isp1', async (t) => {
  await withSeedLab(t, async (router, inst) => {
    await startEchoServer(inst, 'inet');
    // A lossy link must be degraded, not taken down by a run of lost probes. What is tested is
    // degraded against down, not the default probe rate: probes every 200 ms with a 600 ms
    // timeout, and down after 8 in a row. The drop (below) takes 10 % of the packets both ways,
    // so a probe is lost with p = 0.19: 5 in a row took isp1 down in about one run in a hundred
    // (0.19⁵ × ~40 rounds); 8 in a row, 0.19⁸ × 40 ≈ 7·10⁻⁵.
    const d = await startDaemon(router, config(`{ probe: icmp, targets: [${SEED_SERVER}], loss: 0.05, down: 8, interval: 200ms, timeout: 600ms }`));
    try {
      await brownout(
        t,
        inst,
        async () => {
          await runOk(['nft', '-f', '-'], {
            netns: nsOf(inst, 'isp1'),
            input: 'table inet loss {\n  chain lossy { type filter hook forward priority 0; numgen random mod 10 == 0 drop; }\n}\n',
          });
        },
        6000,
      );
      const st = await d.status();
      assert.equal(st.providers.find((p) => p.name === 'isp1')?.state, 'degraded');
      assert.deepEqual(
        st.groups.map((g) => [g.name, g.active]),
        [
          ['voice', ['isp2']],
          ['bulk', ['isp1']],
        ],
      );
    } finally {
      await d.daemon.stop();
    }
  });
});

/** An HTTP responder on the internet host: answers isp1's requests after a random 0–80 ms, isp2's at once. */
const RESPONDER = `require('node:http').createServer((req, res) => {
  const late = req.socket.remoteAddress === '${ISP1}' && process.env.JITTER === '1' ? Math.random() * 80 : 0;
  setTimeout(() => res.end('ok'), late);
}).listen(8080, '0.0.0.0', () => console.log('ready'));
process.on('SIGUSR1', () => { process.env.JITTER = '1'; });`;

test('jitter on isp1 (a userspace responder delays its probes 0–80 ms): voice moves to isp2, bulk stays', async (t) => {
  await withSeedLab(t, async (router, inst) => {
    await startEchoServer(inst, 'inet');
    const responder = spawnInNetns(nsOf(inst, 'inet'), [process.execPath, '-e', RESPONDER]);
    await responder.waitForOutput('ready', 5000);
    const d = await startDaemon(router, config(`{ probe: http, port: 8080, targets: [${SEED_SERVER}], jitter: 15ms }`));
    try {
      await brownout(t, inst, () => Promise.resolve(void process.kill(responder.pid, 'SIGUSR1')), 6000).catch((e: unknown) => {
        throw new Error(
          `${String(e)}\n${d
            .events()
            .filter((x) => x.event === 'provider' || x.event === 'applied')
            .map((x) => JSON.stringify(x))
            .join('\n')}`,
        );
      });
      const isp1 = (await d.status()).providers.find((p) => p.name === 'isp1')!;
      assert.equal(isp1.state, 'degraded');
      assert.ok((isp1.jitterMs ?? 0) > 15, `jitter ${isp1.jitterMs} ms`);
    } finally {
      await d.daemon.stop();
      await responder.stop();
    }
  });
});

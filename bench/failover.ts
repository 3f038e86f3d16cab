// Detection-to-switch time of `multihome run`: a steady UDP flow (200 packets/s)
// from the office LAN to the internet host goes out by isp2 (a group
// [isp2, isp1]); isp2's upstream is cut while its link stays up; the time until
// the flow's packets arrive by isp1 is measured at the receiver. N trials with
// multihome's default health settings and, in the same run, M trials with
// settings equal to mwan3's defaults (interval 10 s, timeout 4 s, 5 failures).
// Each trial starts a fresh daemon (flap damping would otherwise hold isp2 down
// between back-to-back outages). Everything runs in lab namespaces it removes.
//
//   node dist/bench/failover.js [--trials 20] [--mwan3-trials 3]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, runOk } from '../src/kernel/exec.js';
import { summary, arg, machine } from './stats.js';
import { spawnInNetns } from '../src/kernel/netns.js';
import { labDown, labUp, nsOf, SEED_TOPOLOGY, startUdpFlow, type LabInstance, type UdpFlow } from '../src/lab/index.js';

const TRIALS = arg('trials', 20);
const MWAN3_TRIALS = arg('mwan3-trials', 3);
const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');

const config = (health: string) => `providers:
  isp1: { interface: eth1, gateway: 205.254.211.254, snat: 205.254.211.179, health: { probe: icmp, targets: [203.0.113.10]${health} } }
  isp2: { interface: eth4, gateway: 67.17.28.14, snat: 67.17.28.12, health: { probe: icmp, targets: [203.0.113.10]${health} } }
groups:
  web: [isp2, isp1]
default: web
`;
const SETTINGS = {
  multihome: '', // the defaults: interval 200ms, timeout 600ms, down 3, up 5
  mwan3: ', interval: 10s, timeout: 4s, down: 5, up: 5',
};

async function until(ms: number, check: () => Promise<boolean> | boolean): Promise<boolean> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

async function trial(inst: LabInstance, dir: string, settings: string, timeoutMs: number): Promise<number> {
  const router = nsOf(inst, 'router');
  const isp2 = nsOf(inst, 'isp2');
  const cfg = path.join(dir, 'multihome.yaml');
  fs.writeFileSync(cfg, config(settings));
  const state = path.join(dir, 'state');
  const daemon = spawnInNetns(router, [process.execPath, MAIN, '--state-dir', state, 'run', '-c', cfg]);
  let flow: UdpFlow | null = null;
  try {
    const ok = await until(10_000, async () => (await run([process.execPath, MAIN, '--state-dir', state, 'status', '--json'], { netns: router })).code === 0);
    if (!ok) throw new Error('the daemon did not start');
    flow = await startUdpFlow(inst, { host: '203.0.113.10' });
    if ((await flow.waitFor('67.17.28.12', 0, 3000)) === null) throw new Error('the flow does not go by isp2');
    await new Promise((r) => setTimeout(r, 300 + Math.random() * 200)); // cut at a random phase of the probes
    const cut = Date.now();
    await runOk(['ip', 'link', 'set', 'dev', 'up', 'down'], { netns: isp2 });
    const at = await flow.waitFor('205.254.211.179', cut, timeoutMs);
    if (at === null) throw new Error(`no switch within ${timeoutMs} ms`);
    return at - cut;
  } finally {
    await flow?.stop();
    await daemon.stop();
    await runOk(['ip', 'link', 'set', 'dev', 'up', 'up'], { netns: isp2 });
    await runOk(['ip', 'route', 'replace', ...SEED_TOPOLOGY.routes.find((r) => r.role === 'isp2')!.spec], { netns: isp2 });
    await run([process.execPath, MAIN, '--netns', router, '--state-dir', state, 'down']);
  }
}


async function main() {
  const inst = await labUp(SEED_TOPOLOGY);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mh-failover-'));
  const stop = () => void labDown(inst).finally(() => process.exit(130));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const results: Record<string, number[]> = { multihome: [], mwan3: [] };
    for (const [name, n, limit] of [['multihome', TRIALS, 5000], ['mwan3', MWAN3_TRIALS, 120_000]] as const) {
      for (let i = 0; i < n; i++) {
        const ms = await trial(inst, dir, SETTINGS[name], limit);
        results[name]!.push(ms);
        process.stderr.write(`${name} trial ${i + 1}/${n}: ${ms} ms\n`);
      }
    }
    const sum = (xs: number[]) => (xs.length ? summary(xs) : null);
    const a = sum(results.multihome!);
    const b = sum(results.mwan3!);
    const out = {
      bench: 'failover',
      command: `node dist/bench/failover.js --trials ${TRIALS} --mwan3-trials ${MWAN3_TRIALS}`,
      flow: 'UDP, 200 packets/s, LAN → internet host; isp2 upstream cut, link up',
      multihomeDefaults: a,
      mwan3Defaults: b,
      ratioP50: a && b ? Number((b.p50 / a.p50).toFixed(1)) : null,
      machine: machine(),
    };
    console.log(`multihome defaults: p50 ${a?.p50} ms, p95 ${a?.p95} ms over ${a?.trials} trials`);
    if (b) console.log(`mwan3 defaults:     p50 ${b.p50} ms, p95 ${b.p95} ms over ${b.trials} trials (ratio p50 ${out.ratioP50}×)`);
    console.log(`JSON ${JSON.stringify(out)}`);
  } finally {
    await labDown(inst);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();

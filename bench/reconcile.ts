// How fast the daemon converges after the events a router sees every day, in
// the seed lab (namespaces it makes and removes), with real packets:
//
//   link-down  the router's isp2 link set down while a UDP flow (200 packets/s,
//              one socket) runs from the LAN by isp2: the time from the command
//              to the flow's first packet arriving by isp1 (with isp1's address).
//   probes     for comparison, in the same run: isp2's upstream cut while its
//              link stays up, so only the probes (default settings) can tell.
//   drift      another tool deletes what multihome owns (the nft table, `nft flush
//              ruleset`, two of its ip rules, its isp2 table's route), in turn:
//              the time until the kernel holds multihome's state again.
//
//   node dist/bench/reconcile.js [--trials 20] [--probe-trials 5] [--drift-trials 20]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, runOk } from '../src/kernel/exec.js';
import { pct, summary, arg, machine } from './stats.js';
import { spawnInNetns } from '../src/kernel/netns.js';
import { labDown, labUp, nsOf, SEED_TOPOLOGY, startEchoServer, startUdpFlow, probe, type LabInstance } from '../src/lab/index.js';

const TRIALS = arg('trials', 20);
const PROBE_TRIALS = arg('probe-trials', 5);
const DRIFT_TRIALS = arg('drift-trials', 20);
const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
const ISP1 = '205.254.211.179';
const ISP2 = '67.17.28.12';

// Probed with the defaults (interval 200 ms, timeout 600 ms, down 3, up 5).
const CONFIG = `providers:
  isp1: { interface: eth1, gateway: 205.254.211.254, snat: 205.254.211.179, health: { probe: icmp, targets: [203.0.113.10] } }
  isp2: { interface: eth4, gateway: 67.17.28.14, snat: 67.17.28.12, health: { probe: icmp, targets: [203.0.113.10] } }
groups:
  web: [isp2, isp1]
default: web
`;

async function until(ms: number, check: () => Promise<boolean> | boolean, every = 5): Promise<boolean> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, every));
  }
  return false;
}

async function seen(inst: LabInstance): Promise<string> {
  const r = await probe(nsOf(inst, 'lan'), { proto: 'tcp', host: '203.0.113.10', port: 22, timeoutMs: 1000 });
  return 'seen' in r ? r.seen : r.error;
}

/** A flow from the LAN by isp2 (a new socket each time: a connection the groups put on isp2). */
async function flowOnIsp2(inst: LabInstance) {
  if (!(await until(60_000, async () => (await seen(inst)) === ISP2, 100))) throw new Error('new connections do not go by isp2');
  const flow = await startUdpFlow(inst, { host: '203.0.113.10' });
  if ((await flow.waitFor(ISP2, 0, 3000)) === null) throw new Error('the flow does not go by isp2');
  return flow;
}

async function linkDownTrial(inst: LabInstance): Promise<number> {
  const router = nsOf(inst, 'router');
  const flow = await flowOnIsp2(inst);
  try {
    await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
    const cut = Date.now();
    await runOk(['ip', 'link', 'set', 'dev', 'eth4', 'down'], { netns: router });
    const at = await flow.waitFor(ISP1, cut, 5000);
    if (at === null) throw new Error('the flow did not move to isp1');
    return at - cut;
  } finally {
    await flow.stop();
    await runOk(['ip', 'link', 'set', 'dev', 'eth4', 'up'], { netns: router });
  }
}

async function probeTrial(inst: LabInstance): Promise<number> {
  const isp2 = nsOf(inst, 'isp2');
  const flow = await flowOnIsp2(inst);
  try {
    await new Promise((r) => setTimeout(r, 300 + Math.random() * 200));
    const cut = Date.now();
    await runOk(['ip', 'link', 'set', 'dev', 'up', 'down'], { netns: isp2 });
    const at = await flow.waitFor(ISP1, cut, 10_000);
    if (at === null) throw new Error('the flow did not move to isp1');
    return at - cut;
  } finally {
    await flow.stop();
    await runOk(['ip', 'link', 'set', 'dev', 'up', 'up'], { netns: isp2 });
    await runOk(['ip', 'route', 'replace', ...SEED_TOPOLOGY.routes.find((r) => r.role === 'isp2')!.spec], { netns: isp2 });
  }
}

type Drift = { name: string; argv: string[]; input?: string; repaired: (router: string) => Promise<boolean> };

async function main() {
  const inst = await labUp(SEED_TOPOLOGY);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mh-reconcile-'));
  const stop = () => void labDown(inst).finally(() => process.exit(130));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const router = nsOf(inst, 'router');
  const cfg = path.join(dir, 'multihome.yaml');
  const state = path.join(dir, 'state');
  fs.writeFileSync(cfg, CONFIG);
  await startEchoServer(inst, 'inet');
  const daemon = spawnInNetns(router, [process.execPath, MAIN, '--state-dir', state, 'run', '-c', cfg, '--log-format', 'json'], {
    stderrTo: path.join(dir, 'daemon.log'),
  });
  try {
    if (!(await until(10_000, async () => (await run([process.execPath, MAIN, '--state-dir', state, 'status', '--json'], { netns: router })).code === 0, 100)))
      throw new Error('the daemon did not start');
    const linkDown: number[] = [];
    for (let i = 0; i < TRIALS; i++) {
      linkDown.push(await linkDownTrial(inst));
      process.stderr.write(`link-down trial ${i + 1}/${TRIALS}: ${linkDown.at(-1)} ms\n`);
    }
    const ours = async () =>
      (JSON.parse(await runOk(['ip', '-j', '-N', 'rule', 'show'], { netns: router })) as { protocol?: string }[]).filter((r) => r.protocol === '77').length;
    const rules = await ours();
    const hasTable = async () => (await run(['nft', 'list', 'table', 'inet', 'multihome'], { netns: router })).code === 0;
    const drifts: Drift[] = [
      { name: 'nft delete table', argv: ['nft', 'delete', 'table', 'inet', 'multihome'], repaired: hasTable },
      { name: 'nft flush ruleset', argv: ['nft', 'flush', 'ruleset'], repaired: hasTable },
      {
        name: 'ip rule del ×2',
        argv: ['ip', '-batch', '-'],
        input: 'rule del pref 10011\nrule del pref 10001\n',
        repaired: async () => (await ours()) === rules,
      },
      {
        name: 'ip route flush table',
        argv: ['ip', 'route', 'flush', 'table', '101'],
        repaired: async () => (await runOk(['ip', 'route', 'show', 'table', '101'], { netns: router })).includes('default'),
      },
    ];
    const drift: number[] = [];
    const byKind: Record<string, number[]> = {};
    if (!(await until(60_000, async () => (await seen(inst)) === ISP2, 100))) throw new Error('isp2 is not back');
    for (let i = 0; i < DRIFT_TRIALS; i++) {
      const d = drifts[i % drifts.length]!;
      await new Promise((r) => setTimeout(r, 200));
      const t0 = Date.now();
      await runOk(d.argv, { netns: router, ...(d.input ? { input: d.input } : {}) });
      if (!(await until(5000, () => d.repaired(router), 2))) throw new Error(`${d.name}: not repaired within 5 s`);
      const ms = Date.now() - t0;
      drift.push(ms);
      (byKind[d.name] ??= []).push(ms);
      process.stderr.write(`drift trial ${i + 1}/${DRIFT_TRIALS} (${d.name}): ${ms} ms\n`);
    }
    const probes: number[] = [];
    for (let i = 0; i < PROBE_TRIALS; i++) {
      probes.push(await probeTrial(inst));
      process.stderr.write(`probe trial ${i + 1}/${PROBE_TRIALS}: ${probes.at(-1)} ms\n`);
      // one outage after another within seconds is a flapping uplink: let the damping's penalty decay
      if (i < PROBE_TRIALS - 1) await new Promise((r) => setTimeout(r, 12_000));
    }
    // the daemon logs a repair after its read-back, a moment after the kernel holds the state again
    const logged = () =>
      fs
        .readFileSync(path.join(dir, 'daemon.log'), 'utf8')
        .split('\n')
        .filter((l) => l.includes('"event":"repair"')).length;
    await until(2000, () => logged() >= DRIFT_TRIALS, 20);
    const repairs = logged();
    if (repairs !== DRIFT_TRIALS) process.stderr.write(fs.readFileSync(path.join(dir, 'daemon.log'), 'utf8').split('\n').slice(-40).join('\n'));
    const a = summary(linkDown);
    const b = probes.length ? summary(probes) : null;
    const c = summary(drift);
    const out = {
      bench: 'reconcile',
      command: `node dist/bench/reconcile.js --trials ${TRIALS} --probe-trials ${PROBE_TRIALS} --drift-trials ${DRIFT_TRIALS}`,
      linkDownToOtherUplink: a,
      probeDetectedOutage: b,
      ratioP50: b ? Number((b.p50 / a.p50).toFixed(1)) : null,
      driftToRepaired: c,
      driftByKind: Object.fromEntries(Object.entries(byKind).map(([k, xs]) => [k, { p50: pct(xs, 50), max: Math.max(...xs) }])),
      repairsLogged: repairs,
      machine: machine(),
    };
    console.log(`link down → flow on the other uplink: p50 ${a.p50} ms, p95 ${a.p95} ms (${a.trials} trials)`);
    if (b)
      console.log(`upstream cut, probes only:            p50 ${b.p50} ms, p95 ${b.p95} ms (${b.trials} trials); link events ${out.ratioP50}× faster at p50`);
    console.log(`drift → repaired:                     p50 ${c.p50} ms, p95 ${c.p95} ms (${c.trials} trials, ${repairs} repairs logged)`);
    console.log(`JSON ${JSON.stringify(out)}`);
  } finally {
    await daemon.stop();
    await run([process.execPath, MAIN, '--netns', router, '--state-dir', state, 'down']);
    await labDown(inst);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();

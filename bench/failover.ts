// Detection-to-switch time of `multihome run`: a steady UDP flow (200 packets/s)
// from the office LAN to the internet host goes out by isp2 (a group
// [isp2, isp1]); isp2's upstream is cut while its link stays up; the time until
// the flow's packets arrive by isp1 is measured at the receiver. N trials with
// multihome's default health settings and, in the same run, M trials with
// settings equal to mwan3's defaults (interval 10 s, timeout 4 s, 5 failures).
// Each trial starts a fresh daemon (flap damping would otherwise hold isp2 down
// between back-to-back outages). Everything runs in lab namespaces it removes.
//
// Meanwhile, in a lab of its own (bench/uplinks-lab.ts, 2 uplinks), the soak: `multihome run`
// with the default health settings for --soak-minutes (default 30), isp1 healthy but lossy and
// jittery — 5 % of the echo requests dropped by an nft `numgen random` rule in its namespace,
// the rest answered after 25 ± 20 ms (uniform) by a userspace responder (a Python raw socket:
// the kernel has no netem here, and Node has no raw sockets) — counting isp1's down
// transitions, the false failovers. isp2 is clean, the control.
//
//   node dist/bench/failover.js [--trials 20] [--mwan3-trials 3] [--soak-minutes 30]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, runOk } from '../src/kernel/exec.js';
import { summary, arg, machine } from './stats.js';
import { spawnInNetns, type BackgroundProcess } from '../src/kernel/netns.js';
import { buildUplinks } from './uplinks-lab.js';
import { labDown, labUp, nsOf, SEED_TOPOLOGY, startUdpFlow, type LabInstance, type UdpFlow } from '../src/lab/index.js';

const TRIALS = arg('trials', 20);
const MWAN3_TRIALS = arg('mwan3-trials', 3);
const SOAK_MINUTES = arg('soak-minutes', 30);
const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');

const config = (health: string) => `providers:
  isp1: { interface: eth1, gateway: 205.254.211.254, snat: 205.254.211.179, health: { probe: icmp, targets: [203.0.113.10]${health} } }
  isp2: { interface: eth4, gateway: 67.17.28.14, snat: 67.17.28.12, health: { probe: icmp, targets: [203.0.113.10]${health} } }
groups:
  web: [isp2, isp1]
default: web
`;
const SETTINGS = {
  multihome: '', // the defaults: interval 50ms, timeout 250ms, down 5, up 20
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

/** When the daemon's log (JSON lines on stderr) says `provider` went down, in epoch ms; null when it does not. */
function downAt(log: string, provider: string): number | null {
  for (const line of fs.readFileSync(log, 'utf8').split('\n')) {
    if (!line.includes('"event":"provider"') || !line.includes(`"provider":"${provider}"`) || !line.includes('"to":"down"')) continue;
    return Date.parse((JSON.parse(line) as { ts: string }).ts);
  }
  return null;
}

/**
 * One trial: ms from the cut to the first packet by isp1 (`switched`), and to the daemon's log
 * line saying isp2 is down (`detected`): the rest is the reconcile.
 */
async function trial(inst: LabInstance, dir: string, settings: string, timeoutMs: number): Promise<{ switched: number; detected: number | null }> {
  const router = nsOf(inst, 'router');
  const isp2 = nsOf(inst, 'isp2');
  const cfg = path.join(dir, 'multihome.yaml');
  fs.writeFileSync(cfg, config(settings));
  const state = path.join(dir, 'state');
  const log = path.join(dir, 'daemon.log');
  fs.rmSync(log, { force: true });
  const daemon = spawnInNetns(router, [process.execPath, MAIN, '--state-dir', state, 'run', '-c', cfg, '--log-format', 'json'], { stderrTo: log });
  let flow: UdpFlow | null = null;
  try {
    const ok = await until(10_000, async () => (await run([process.execPath, MAIN, '--state-dir', state, 'status', '--json'], { netns: router })).code === 0);
    if (!ok) throw new Error(`the daemon did not start: ${fs.readFileSync(log, 'utf8').trim().split('\n').slice(-3).join('\n')}`);
    flow = await startUdpFlow(inst, { host: '203.0.113.10' });
    if ((await flow.waitFor('67.17.28.12', 0, 3000)) === null) throw new Error('the flow does not go by isp2');
    await new Promise((r) => setTimeout(r, 300 + Math.random() * 200)); // cut at a random phase of the probes
    const cut = Date.now();
    await runOk(['ip', 'link', 'set', 'dev', 'up', 'down'], { netns: isp2 });
    const at = await flow.waitFor('205.254.211.179', cut, timeoutMs);
    if (at === null) throw new Error(`no switch within ${timeoutMs} ms`);
    const down = downAt(log, 'isp2');
    return { switched: at - cut, detected: down === null ? null : down - cut };
  } finally {
    await flow?.stop();
    await daemon.stop();
    await runOk(['ip', 'link', 'set', 'dev', 'up', 'up'], { netns: isp2 });
    await runOk(['ip', 'route', 'replace', ...SEED_TOPOLOGY.routes.find((r) => r.role === 'isp2')!.spec], { netns: isp2 });
    await run([process.execPath, MAIN, '--netns', router, '--state-dir', state, 'down']);
  }
}

// Echo replies after 25 ± 20 ms: the kernel's own are off (icmp_echo_ignore_all) and a raw
// socket answers each request itself, on a heap of due times.
const RESPONDER = String.raw`
import heapq, random, select, socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
def csum(b):
    if len(b) % 2: b += b'\0'
    t = sum(struct.unpack('!%dH' % (len(b) // 2), b)); t = (t >> 16) + (t & 0xffff); t += t >> 16
    return ~t & 0xffff
due = []
print('ready', flush=True)
while True:
    wait = max(0.0, due[0][0] - __import__('time').monotonic()) if due else None
    if select.select([s], [], [], wait)[0]:
        pkt, (src, _) = s.recvfrom(65535)
        icmp = pkt[(pkt[0] & 15) * 4:]
        if icmp[0] == 8:
            body = b'\0\0\0\0' + icmp[4:]
            reply = b'\0\0' + struct.pack('!H', csum(body)) + icmp[4:]
            heapq.heappush(due, (__import__('time').monotonic() + random.uniform(0.005, 0.045), src, reply))
    now = __import__('time').monotonic()
    while due and due[0][0] <= now:
        _, dst, reply = heapq.heappop(due)
        s.sendto(reply, (dst, 0))
`;

interface Soak {
  /** resolves with the soak's figures once it has run its minutes */
  done: Promise<{ minutes: number; falseFailovers: number; controlDown: number; isp1: unknown }>;
  /** stop early (the trials failed, or a signal): the lab is removed */
  abort(): Promise<void>;
}

/** The soak (see the header): its own lab, removed at the end whatever happens. */
async function startSoak(minutes: number): Promise<Soak> {
  const lab = await buildUplinks(2, 'soak');
  const p1 = lab.router.replace(/-r$/, '-p1');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mh-soak-'));
  const log = path.join(dir, 'daemon.log');
  let responder: BackgroundProcess | null = null;
  let daemon: BackgroundProcess | null = null;
  let cleaned: Promise<void> | null = null;
  const cleanup = () => (cleaned ??= removeAll());
  const removeAll = async () => {
    await daemon?.stop();
    await responder?.stop();
    await lab.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await runOk(['sysctl', '-qw', 'net.ipv4.icmp_echo_ignore_all=1'], { netns: p1 });
    await runOk(['nft', '-f', '-'], {
      netns: p1,
      input: 'table inet soak {\n  chain in { type filter hook input priority 0; icmp type echo-request numgen random mod 100 < 5 drop; }\n}\n',
    });
    responder = spawnInNetns(p1, ['python3', '-c', RESPONDER]);
    await responder.waitForOutput('ready', 5000);
    const cfg = path.join(dir, 'multihome.yaml');
    fs.writeFileSync(cfg, `providers:\n${lab.providersYaml.join('\n')}\ngroups:\n  all: [isp1, isp2]\ndefault: all\n`);
    daemon = spawnInNetns(lab.router, [process.execPath, MAIN, '--state-dir', path.join(dir, 'state'), 'run', '-c', cfg], { stderrTo: log });
  } catch (e) {
    await cleanup();
    throw e;
  }
  const done = (async () => {
    try {
      await new Promise((r) => setTimeout(r, minutes * 60_000));
      const status = await run([process.execPath, MAIN, '--state-dir', path.join(dir, 'state'), 'status', '--json'], { netns: lab.router });
      const isp1 = (JSON.parse(status.stdout) as { providers: { name: string }[] }).providers.find((p) => p.name === 'isp1');
      const downs = (name: string) =>
        fs
          .readFileSync(log, 'utf8')
          .split('\n')
          .filter((l) => l.includes('"event":"provider"') && l.includes(`"provider":"${name}"`) && l.includes('"to":"down"')).length;
      return { minutes, falseFailovers: downs('isp1'), controlDown: downs('isp2'), isp1 };
    } finally {
      await cleanup();
    }
  })();
  return { done, abort: cleanup };
}

async function main() {
  const soak = SOAK_MINUTES > 0 ? await startSoak(SOAK_MINUTES) : null;
  const inst = await labUp(SEED_TOPOLOGY).catch(async (e: unknown) => {
    await soak?.abort();
    throw e;
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mh-failover-'));
  const stop = () => void Promise.allSettled([labDown(inst), soak?.abort()]).finally(() => process.exit(130));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const results: Record<string, number[]> = { multihome: [], mwan3: [] };
    const detections: Record<string, number[]> = { multihome: [], mwan3: [] };
    const rests: number[] = [];
    for (const [name, n, limit] of [
      ['multihome', TRIALS, 5000],
      ['mwan3', MWAN3_TRIALS, 120_000],
    ] as const) {
      for (let i = 0; i < n; i++) {
        const { switched, detected } = await trial(inst, dir, SETTINGS[name], limit);
        results[name]!.push(switched);
        if (detected !== null) detections[name]!.push(detected);
        if (detected !== null && name === 'multihome') rests.push(switched - detected);
        process.stderr.write(`${name} trial ${i + 1}/${n}: ${switched} ms (isp2 down in the log after ${detected ?? '?'} ms)\n`);
      }
    }
    await labDown(inst);
    const soaked = soak ? await soak.done : null;
    const sum = (xs: number[]) => (xs.length ? summary(xs) : null);
    const a = sum(results.multihome!);
    const b = sum(results.mwan3!);
    const out = {
      bench: 'failover',
      command: `node dist/bench/failover.js --trials ${TRIALS} --mwan3-trials ${MWAN3_TRIALS} --soak-minutes ${SOAK_MINUTES}`,
      flow: 'UDP, 200 packets/s, LAN → internet host; isp2 upstream cut, link up',
      multihomeDefaults: a,
      multihomeDetection: sum(detections.multihome!),
      /** per trial: switch minus detection, the reconcile and the flow's next packet */
      multihomeReconcile: sum(rests),
      mwan3Defaults: b,
      ratioP50: a && b ? Number((b.p50 / a.p50).toFixed(1)) : null,
      soak: soaked,
      machine: machine(),
    };
    console.log(`multihome defaults: p50 ${a?.p50} ms, p95 ${a?.p95} ms over ${a?.trials} trials`);
    console.log(
      `  of which detection p50 ${out.multihomeDetection?.p50} ms, p95 ${out.multihomeDetection?.p95}; the rest p50 ${out.multihomeReconcile?.p50}, p95 ${out.multihomeReconcile?.p95}`,
    );
    if (b) console.log(`mwan3 defaults:     p50 ${b.p50} ms, p95 ${b.p95} ms over ${b.trials} trials (ratio p50 ${out.ratioP50}×)`);
    if (soaked)
      console.log(
        `soak: ${soaked.minutes} min, 5 % loss + 25 ± 20 ms on isp1: ${soaked.falseFailovers} false failovers (isp2, clean: ${soaked.controlDown} down)`,
      );
    console.log(`JSON ${JSON.stringify(out)}`);
  } finally {
    await labDown(inst);
    await soak?.abort();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();

// The data path with multihome's program in it, side by side with routing
// alone and with the seed's iptables way (issue 14): LAN host → router →
// provider → server, all in lab namespaces (dataplane-lab.ts). For each router
// configuration (dataplane-configs.ts): forwarded TCP throughput with iperf3,
// 1 and 8 streams, and new TCP connections per second (conn-rate-child.ts).
// Each configuration gets a lab of its own, all standing at once; their
// windows of SECONDS take turns (per kind, the order turning each round), and
// each configuration is reported as the median over rounds of its ratio to
// the baseline (a) of the same round — this is a shared 2-core VM, where only
// figures taken side by side compare. The labs are removed at the end, also on
// failure or SIGINT.
//
//   node dist/bench/dataplane.js [--seconds 2] [--rounds 12]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execInNetnsOk, netnsIpJson, spawnInNetns } from '../src/kernel/netns.js';
import { labDown, labUp, nsOf, type LabInstance } from '../src/lab/index.js';
import { CONFIGS, writeConfigFiles, type ConfigKey, type RouterConfig } from './dataplane-configs.js';
import { DATAPLANE_TOPOLOGY, SERVER, UPLINKS } from './dataplane-lab.js';
import { DESTINATIONS, policyLists, SOURCES } from './dataplane-policies.js';
import { arg, machine, summary } from './stats.js';

const SECONDS = arg('seconds', 2);
const ROUNDS = arg('rounds', 12);
const CONCURRENCY = 32;
// the seed's policy matches TCP 80/443 from the LAN: both measured flows take it under (b)
const IPERF_PORT = 443;
const CONN_PORT = 80;
const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'conn-rate-child.js');

/** Where the measured flows must leave under each configuration: a wrong path would measure something else. */
const EXPECTED_UPLINK: Record<ConfigKey, string> = { a: 'eth1', n: 'eth1', b: 'eth4', c: UPLINKS.at(-1)!.dev, d: UPLINKS.at(-1)!.dev, e: UPLINKS.at(-1)!.dev };

type Kind = 'stream1' | 'streams8' | 'connPerSecond';
const KINDS: Kind[] = ['stream1', 'streams8', 'connPerSecond'];

async function iperf(lan: string, streams: number): Promise<number> {
  // no --omit: slow start on a veth path is over within milliseconds, and a shorter window pairs closer in time
  const out = await execInNetnsOk(lan, ['iperf3', '-c', SERVER, '-p', String(IPERF_PORT), '-t', String(SECONDS), '-P', String(streams), '-J'], {
    timeoutMs: (SECONDS + 30) * 1000,
  });
  const j = JSON.parse(out) as { end: { sum_received: { bits_per_second: number } } };
  return j.end.sum_received.bits_per_second / 1e9;
}

async function connRate(lan: string): Promise<number> {
  const out = await execInNetnsOk(lan, [process.execPath, CHILD, 'client', SERVER, String(CONN_PORT), String(SECONDS), String(CONCURRENCY)], {
    timeoutMs: (SECONDS + 30) * 1000,
  });
  const j = JSON.parse(out.trim()) as { connections: number; errors: number; seconds: number };
  if (j.errors > j.connections / 100) throw new Error(`connection rate: ${j.errors} failed of ${j.connections + j.errors}`);
  return j.connections / j.seconds;
}

/** One window: Gbit/s received by the server, or new connections per second. */
const windowOf = (lan: string, kind: Kind): Promise<number> => (kind === 'connPerSecond' ? connRate(lan) : iperf(lan, kind === 'stream1' ? 1 : 8));

async function busiestUplink(router: string): Promise<string> {
  const links = await netnsIpJson<{ ifname: string; stats64?: { tx: { bytes: number } } }[]>(router, ['-s', 'link', 'show']);
  const ups = links.filter((l) => UPLINKS.some((u) => u.dev === l.ifname));
  return ups.reduce((a, b) => ((b.stats64?.tx.bytes ?? 0) > (a.stats64?.tx.bytes ?? 0) ? b : a)).ifname;
}

/** A configuration set up on a lab of its own, with iperf3 and the connection server listening. */
interface Rig {
  cfg: RouterConfig;
  lan: string;
  router: string;
}

const labs: LabInstance[] = [];

async function rigUp(cfg: RouterConfig, dir: string): Promise<Rig> {
  const inst = await labUp(DATAPLANE_TOPOLOGY);
  labs.push(inst);
  try {
    const [lan, router, server] = ['lan', 'router', 'server'].map((r) => nsOf(inst, r)) as [string, string, string];
    await cfg.setup(router, dir);
    // --forceflush: iperf3 block-buffers a pipe, and its "listening" line would never come
    const iperfd = spawnInNetns(server, ['iperf3', '-s', '-p', String(IPERF_PORT), '--forceflush']);
    await iperfd.waitForOutput('Server listening', 10_000);
    const connd = spawnInNetns(server, [process.execPath, CHILD, 'server', String(CONN_PORT)]);
    await connd.waitForOutput('ready', 10_000);
    return { cfg, lan, router };
  } catch (e) {
    // a configuration left out must not keep its lab standing through the whole run
    labs.splice(labs.indexOf(inst), 1);
    await labDown(inst);
    throw e;
  }
}

/** A flowtable needs CONFIG_NF_FLOW_TABLE: a kernel without it refuses the table ("No such file or directory"), and (e) is left out. */
const unsupported = (e: unknown): string | null => {
  const m = e instanceof Error ? e.message : String(e);
  if (!/flowtable|Operation not supported|No such file or directory/.test(m)) return null;
  const said = /Error: (.*)/.exec(m)?.[1] ?? m;
  return `this kernel has no nft flowtables (CONFIG_NF_FLOW_TABLE); nft said: ${said}`;
};

const fixed = (x: number, d: number) => Number(x.toFixed(d));

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mh-dataplane-'));
  const downAll = async () => {
    for (const inst of labs.splice(0)) await labDown(inst); // ends iperf3 and the servers with the namespaces
  };
  const stop = () => void downAll().finally(() => process.exit(130));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const skipped = new Map<ConfigKey, string>();
  try {
    writeConfigFiles(dir, policyLists());
    // every configuration on a lab of its own, all standing at once: their windows can then take
    // turns every few seconds, so a change in the machine's load hits every configuration alike
    const rigs: Rig[] = [];
    for (const cfg of CONFIGS) {
      try {
        rigs.push(await rigUp(cfg, dir));
      } catch (e) {
        const why = cfg.key === 'e' ? unsupported(e) : null;
        if (why === null) throw e;
        skipped.set(cfg.key, why);
        process.stderr.write(`(${cfg.key}) left out: ${why}\n`);
      }
    }
    const perKind = () => ({ stream1: [] as number[], streams8: [] as number[], connPerSecond: [] as number[] });
    const samples = new Map(rigs.map((g) => [g.cfg.key, perKind()]));
    const ratios = new Map(rigs.map((g) => [g.cfg.key, perKind()]));
    // against the NAT floor too: what multihome adds to what any NAT router pays
    const toNat = new Map(rigs.map((g) => [g.cfg.key, perKind()]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const kind of KINDS) {
        const round = new Map<ConfigKey, number>();
        // the order turns each round: none is always first after another's load
        for (let k = 0; k < rigs.length; k++) {
          const g = rigs[(k + r) % rigs.length]!;
          round.set(g.cfg.key, await windowOf(g.lan, kind));
        }
        for (const [key, x] of round) {
          samples.get(key)![kind].push(x);
          ratios.get(key)![kind].push(x / round.get('a')!);
          if (round.has('n')) toNat.get(key)![kind].push(x / round.get('n')!);
        }
        process.stderr.write(`round ${r + 1}/${ROUNDS} ${kind}: ${[...round].map(([k, x]) => `(${k}) ${x.toFixed(2)}`).join('  ')}\n`);
      }
    }
    for (const g of rigs) {
      const uplink = await busiestUplink(g.router);
      if (uplink !== EXPECTED_UPLINK[g.cfg.key]) throw new Error(`(${g.cfg.key}): the flows left by ${uplink}, not ${EXPECTED_UPLINK[g.cfg.key]}`);
    }
    const median = (xs: number[]) => summary(xs).p50;
    const results = rigs.map(({ cfg }) => {
      const xs = samples.get(cfg.key)!;
      const q = ratios.get(cfg.key)!;
      return {
        key: cfg.key,
        label: cfg.label,
        gbps1: fixed(median(xs.stream1), 2),
        gbps8: fixed(median(xs.streams8), 2),
        connPerSecond: Math.round(median(xs.connPerSecond)),
        ratio1: fixed(median(q.stream1), 3),
        ratio8: fixed(median(q.streams8), 3),
        ratioConn: fixed(median(q.connPerSecond), 3),
        // the same ratios against the NAT floor (n) of the same round
        toNat: Object.fromEntries(KINDS.map((k) => [k, fixed(median(toNat.get(cfg.key)![k]), 3)])),
        // the spread of the per-round ratios: how far one round can be off on this machine
        ratioConnRange: [fixed(Math.min(...q.connPerSecond), 3), fixed(Math.max(...q.connPerSecond), 3)],
        samples: {
          stream1: xs.stream1.map((x) => fixed(x, 3)),
          streams8: xs.streams8.map((x) => fixed(x, 3)),
          connPerSecond: xs.connPerSecond.map(Math.round),
        },
      };
    });
    for (const x of results) {
      const nat = `against (n): ${x.toNat.stream1}× / ${x.toNat.streams8}× / ${x.toNat.connPerSecond}×`;
      console.log(
        `(${x.key}) ${x.label}: 1 stream ${x.gbps1} Gbit/s (${x.ratio1}×), 8 streams ${x.gbps8} Gbit/s (${x.ratio8}×), ${x.connPerSecond} conn/s (${x.ratioConn}×); ${nat}`,
      );
    }
    for (const [key, why] of skipped) console.log(`(${key}) left out: ${why}`);
    const c = results.find((x) => x.key === 'c');
    const out = {
      bench: 'dataplane',
      command: `node dist/bench/dataplane.js --seconds ${SECONDS} --rounds ${ROUNDS}`,
      seconds: SECONDS,
      rounds: ROUNDS,
      concurrency: CONCURRENCY,
      prefixes: { destinations: DESTINATIONS, sources: SOURCES },
      goal: c ? { throughput: Math.min(c.ratio1, c.ratio8) >= 0.95, connections: c.ratioConn >= 0.9 } : null,
      results,
      skipped: Object.fromEntries(skipped),
      machine: machine(),
    };
    console.log(`JSON ${JSON.stringify(out)}`);
  } finally {
    await downAll();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();

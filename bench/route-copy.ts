// Issue 5's benchmarks, one run, one machine, in a lab namespace it removes:
//   1. N routes in main (default 1,000,000) copied into 2 provider tables:
//      `multihome routes sync` (batched netlink) against `ip -batch` adding the
//      same routes to the same tables; and the seed's per-route shell loop on a
//      2,000-route sample, for the record;
//   2. the daemon following bursts of 10,000 route changes in main: lag from
//      the end of the burst (`ip -batch` exits) until the copy of its last route
//      is in (or, for deletes, gone from) the second table, which the daemon
//      writes last — polled with `ip route show` every few ms; p50/p95 over the trials;
//   3. the daemon's peak memory (VmHWM) holding main × 2 tables.
//
//   node dist/bench/route-copy.js [--routes 1000000] [--bursts 10]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, runOk } from '../src/kernel/exec.js';
import { spawnInNetns } from '../src/kernel/netns.js';
import { copyLabUp, countRoutes, routeBatch } from '../src/lab/copy-lab.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg('routes', 1_000_000);
const BURSTS = arg('bursts', 10);
const here = path.dirname(fileURLToPath(import.meta.url));
const MAIN = path.resolve(here, '..', 'src', 'cli', 'main.js');

const secs = async (f: () => Promise<unknown>) => {
  const t0 = process.hrtime.bigint();
  await f();
  return Number(process.hrtime.bigint() - t0) / 1e9;
};
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;
function vmHwmMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const lab = await copyLabUp('rcb', 'copy: { check: 600s }\n');
const ns = lab.router;
const file = (name: string, text: string) => {
  const p = path.join(lab.dir, name);
  fs.writeFileSync(p, text);
  return p;
};
try {
  console.log(`loading ${N} routes into main…`);
  await runOk(['ip', '-4', '-batch', file('main.batch', routeBatch(N, 'add'))], { netns: ns });

  // 1a. iproute2's batch mode: the same routes into tables 100 and 101
  const ipBatchFile = file('tables.batch', routeBatch(N, 'add', '10.1.0.1', 100) + routeBatch(N, 'add', '10.1.0.1', 101));
  const ipBatchS = await secs(() => runOk(['ip', '-4', '-batch', ipBatchFile], { netns: ns }));
  console.log(`ip -batch: ${2 * N} routes in ${ipBatchS.toFixed(2)} s`);
  for (const t of [100, 101]) await runOk(['ip', '-4', 'route', 'flush', 'table', String(t)], { netns: ns });

  // 1b. multihome: dump main, write both tables (batched netlink)
  let syncOut = '';
  const mhS = await secs(async () => {
    syncOut = (await runOk([process.execPath, MAIN, 'routes', 'sync', '-c', lab.config, '--json'], { netns: ns }));
  });
  const sync = JSON.parse(syncOut) as { lastResync: { added: number } };
  console.log(`multihome routes sync: ${sync.lastResync.added} routes in ${mhS.toFixed(2)} s (ratio ${(mhS / ipBatchS).toFixed(2)})`);
  const copied = await countRoutes(ns, 100, 78);

  // 1c. the seed's loop (one `ip` per route) on a 2,000-route sample of main
  const sample = file('seed-loop.sh', `ip route show table main | grep -v '^default' | head -n 2000 | while read ROUTE; do ip route add table 4 $ROUTE; done\n`);
  const seedS = await secs(() => runOk(['sh', sample], { netns: ns }));
  const seedRate = 2000 / seedS;

  // 2 + 3. the daemon with main × 2 tables: bursts of 10,000 changes, its peak memory
  const daemon = spawnInNetns(ns, [process.execPath, MAIN, '--state-dir', path.join(lab.dir, 'state'), 'run', '-c', lab.config]);
  const lags: number[] = [];
  let peakMb = 0;
  try {
    for (let t = 0; t < 600; t++) {
      if ((await run([process.execPath, MAIN, '--state-dir', path.join(lab.dir, 'state'), 'status', '--json'], { netns: ns })).code === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    peakMb = vmHwmMb(daemon.pid);
    for (let b = 0; b < BURSTS; b++) {
      const verb = b % 2 === 0 ? 'add' : 'del';
      const burst = file('burst.batch', routeBatch(10_000, verb, '10.2.0.1', undefined, N));
      const last = routeBatch(1, 'add', '10.2.0.1', undefined, N + 9_999).split(' ')[2]!;
      const t0 = performance.now();
      await runOk(['ip', '-4', '-batch', burst], { netns: ns });
      const end = performance.now();
      let lagMs = NaN;
      for (;;) {
        const r = await runOk(['ip', '-4', '-j', 'route', 'show', 'table', '101', last], { netns: ns });
        const present = (JSON.parse(r || '[]') as unknown[]).length > 0;
        if (present === (verb === 'add')) {
          lagMs = performance.now() - end;
          break;
        }
        if (performance.now() - end > 60_000) throw new Error(`burst ${b}: ${last} not ${verb === 'add' ? 'copied' : 'removed'} in a minute`);
      }
      const r = { lagMs, burstMs: end - t0 };
      lags.push(r.lagMs);
      console.log(`burst ${b + 1}/${BURSTS} (10,000 ${verb}s in ${r.burstMs.toFixed(0)} ms): tables matched ${r.lagMs.toFixed(1)} ms after the burst`);
    }
    peakMb = Math.max(peakMb, vmHwmMb(daemon.pid));
  } finally {
    await daemon.stop();
  }
  const out = {
    bench: 'route-copy',
    command: `node dist/bench/route-copy.js --routes ${N} --bursts ${BURSTS}`,
    routes: N,
    tables: 2,
    copiedPerTable: copied,
    ipBatchSeconds: Number(ipBatchS.toFixed(2)),
    multihomeSeconds: Number(mhS.toFixed(2)),
    ratio: Number((mhS / ipBatchS).toFixed(3)),
    seedLoopRoutesPerSecond: Number(seedRate.toFixed(0)),
    seedLoopHoursFor2xN: Number(((2 * N) / seedRate / 3600).toFixed(2)),
    lagMs: { trials: lags.length, p50: Number(pct(lags, 50).toFixed(1)), p95: Number(pct(lags, 95).toFixed(1)), max: Number(Math.max(...lags).toFixed(1)) },
    daemonPeakRssMb: Number(peakMb.toFixed(0)),
    machine: { nproc: os.cpus().length, node: process.version, cpu: os.cpus()[0]?.model.trim(), kernel: os.release() },
  };
  console.log(`copy ${N} × 2: multihome ${out.multihomeSeconds} s, ip -batch ${out.ipBatchSeconds} s → ratio ${out.ratio}; seed loop ${out.seedLoopRoutesPerSecond} routes/s (${out.seedLoopHoursFor2xN} h for ${2 * N})`);
  console.log(`lag after a 10,000-change burst: p50 ${out.lagMs.p50} ms, p95 ${out.lagMs.p95} ms; daemon peak RSS ${out.daemonPeakRssMb} MB`);
  console.log(`JSON ${JSON.stringify(out)}`);
} finally {
  await lab.down();
}

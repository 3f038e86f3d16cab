// Issue 5's benchmarks, one run, one machine, in a lab namespace it removes:
//   1. N routes in main (default 1,000,000) copied into 2 provider tables:
//      `multihome routes sync` (batched netlink) against `ip -batch` adding the
//      same routes to the same tables; and the seed's per-route shell loop on a
//      2,000-route sample, for the record;
//   2. the daemon following bursts of 10,000 route changes in main: lag from
//      the end of the burst (`ip -batch` exits) until both tables hold the
//      burst's routes (or, for deletes, none), seen by a probe of its own that
//      asks the kernel every millisecond (route-watch-child.ts); p50/p95 over the trials; the
//      same for single changes (one route added, then deleted); and in the end
//      the tables compared with main in full;
//   3. the daemon's peak memory (VmHWM) holding main × 2 tables.
//
//   node dist/bench/route-copy.js [--routes 1000000] [--bursts 20] [--singles 20]
import { pct, arg, machine } from './stats.js';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, runOk } from '../src/kernel/exec.js';
import { spawnInNetns } from '../src/kernel/netns.js';
import { copyDifferences, copyLabUp, countRoutes, routeBatch } from '../src/lab/copy-lab.js';

const N = arg('routes', 1_000_000);
const BURSTS = arg('bursts', 20);
const SINGLES = arg('singles', 20);
const here = path.dirname(fileURLToPath(import.meta.url));
const MAIN = path.resolve(here, '..', 'src', 'cli', 'main.js');
const WATCH = path.join(here, 'route-watch-child.js');
/** marks of the probe's lookups (plus the table number), far from what the lab config uses */
const PROBE_MARK = 0x7e570000;

const secs = async (f: () => Promise<unknown>) => {
  const t0 = process.hrtime.bigint();
  await f();
  return Number(process.hrtime.bigint() - t0) / 1e9;
};
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
    syncOut = await runOk([process.execPath, MAIN, 'routes', 'sync', '-c', lab.config, '--json'], { netns: ns });
  });
  const sync = JSON.parse(syncOut) as { lastResync: { added: number } };
  console.log(`multihome routes sync: ${sync.lastResync.added} routes in ${mhS.toFixed(2)} s (ratio ${(mhS / ipBatchS).toFixed(2)})`);
  const copied = await countRoutes(ns, 100, 78);

  // 1c. the seed's loop (one `ip` per route) on a 2,000-route sample of main
  const sample = file(
    'seed-loop.sh',
    `ip route show table main | grep -v '^default' | head -n 2000 | while read ROUTE; do ip route add table 4 $ROUTE; done\n`,
  );
  const seedS = await secs(() => runOk(['sh', sample], { netns: ns }));
  const seedRate = 2000 / seedS;

  // 2 + 3. the daemon with main × 2 tables: bursts of 10,000 changes, its peak memory
  const daemon = spawnInNetns(ns, [process.execPath, MAIN, '--state-dir', path.join(lab.dir, 'state'), 'run', '-c', lab.config, '--log-format', 'json']);
  const lags: number[] = [];
  const singleLags: number[] = [];
  let peakMb = 0;
  try {
    for (let t = 0; t < 600; t++) {
      if ((await run([process.execPath, MAIN, '--state-dir', path.join(lab.dir, 'state'), 'status', '--json'], { netns: ns })).code === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    peakMb = vmHwmMb(daemon.pid);
    // the probe: a route-event listener of its own that says when both tables hold all of
    // the burst's routes, or none of them (route-watch-child.ts); no dumps, no polling
    // the probe's lookups go to one copy table each, by mark (route-watch-child.ts)
    const probeTables: string[] = [];
    for (const t of lab.tables) {
      const mark = PROBE_MARK + t;
      await runOk(['ip', 'rule', 'add', 'pref', '1', 'fwmark', String(mark), 'lookup', String(t)], { netns: ns });
      probeTables.push(`${t}:${mark}`);
    }
    const watcher = spawnInNetns(ns, [process.execPath, WATCH, String(N), '10000', ...probeTables]);
    try {
      await watcher.waitForOutput('ready', 10_000);
      const seen = { full: 0, empty: 0 };
      for (let b = 0; b < BURSTS; b++) {
        const verb = b % 2 === 0 ? 'add' : 'del';
        const state = verb === 'add' ? 'full' : 'empty';
        const burst = file('burst.batch', routeBatch(10_000, verb, '10.2.0.1', undefined, N));
        const t0 = process.hrtime.bigint();
        await runOk(['ip', '-4', '-batch', burst], { netns: ns });
        const end = process.hrtime.bigint();
        const line = await watcher.waitForOutput(`${state}#${++seen[state]} `, 60_000);
        const at = BigInt(line.split(' ')[1]!);
        // the copier may finish before `ip` has exited: that is no lag at all
        const lagMs = Math.max(0, Number(at - end) / 1e6);
        const burstMs = Number(end - t0) / 1e6;
        lags.push(lagMs);
        console.log(`burst ${b + 1}/${BURSTS} (10,000 ${verb}s in ${burstMs.toFixed(0)} ms): tables matched ${lagMs.toFixed(1)} ms after the burst`);
      }
      // single changes: one route added, then deleted, each followed the same way
      const single = spawnInNetns(ns, [process.execPath, WATCH, String(N + 20_000), '1', ...probeTables]);
      try {
        await single.waitForOutput('ready', 10_000);
        const [add, del] = (['add', 'del'] as const).map((v) =>
          routeBatch(1, v, '10.2.0.1', undefined, N + 20_000)
            .trim()
            .replace(/^route /, '')
            .split(' '),
        );
        for (let i = 0; i < SINGLES; i++) {
          const verb = i % 2 === 0 ? 'add' : 'del';
          const state = verb === 'add' ? 'full' : 'empty';
          // from before `ip` starts (its exit can come after the copies are in): an upper bound
          const end = process.hrtime.bigint();
          await runOk(['ip', '-4', 'route', ...(verb === 'add' ? add! : del!)], { netns: ns });
          const line = await single.waitForOutput(`${state}#${Math.floor(i / 2) + 1} `, 10_000);
          singleLags.push(Math.max(0, Number(BigInt(line.split(' ')[1]!) - end) / 1e6));
        }
      } finally {
        await single.stop();
      }
      // and in the end the tables compared with main in full
      const diff = await copyDifferences(ns, lab.tables, 78, [4]);
      if (diff.length > 0) throw new Error(`the tables differ from main after the bursts: ${diff.length} differences, e.g. ${diff.slice(0, 3).join('; ')}`);
    } finally {
      await watcher.stop();
    }
    peakMb = Math.max(peakMb, vmHwmMb(daemon.pid));
  } finally {
    await daemon.stop();
  }
  const out = {
    bench: 'route-copy',
    command: `node dist/bench/route-copy.js --routes ${N} --bursts ${BURSTS} --singles ${SINGLES}`,
    routes: N,
    tables: 2,
    copiedPerTable: copied,
    ipBatchSeconds: Number(ipBatchS.toFixed(2)),
    multihomeSeconds: Number(mhS.toFixed(2)),
    ratio: Number((mhS / ipBatchS).toFixed(3)),
    seedLoopRoutesPerSecond: Number(seedRate.toFixed(0)),
    seedLoopHoursFor2xN: Number(((2 * N) / seedRate / 3600).toFixed(2)),
    singleLagMs: {
      trials: singleLags.length,
      p50: Number(pct(singleLags, 50).toFixed(1)),
      p95: Number(pct(singleLags, 95).toFixed(1)),
      max: Number(Math.max(...singleLags).toFixed(1)),
    },
    lagMs: { trials: lags.length, p50: Number(pct(lags, 50).toFixed(1)), p95: Number(pct(lags, 95).toFixed(1)), max: Number(Math.max(...lags).toFixed(1)) },
    daemonPeakRssMb: Number(peakMb.toFixed(0)),
    machine: machine(),
  };
  console.log(
    `copy ${N} × 2: multihome ${out.multihomeSeconds} s, ip -batch ${out.ipBatchSeconds} s → ratio ${out.ratio}; seed loop ${out.seedLoopRoutesPerSecond} routes/s (${out.seedLoopHoursFor2xN} h for ${2 * N})`,
  );
  console.log(
    `lag after a 10,000-change burst: p50 ${out.lagMs.p50} ms, p95 ${out.lagMs.p95} ms; after a single change: p50 ${out.singleLagMs.p50} ms, p95 ${out.singleLagMs.p95} ms; daemon peak RSS ${out.daemonPeakRssMb} MB`,
  );
  console.log(`JSON ${JSON.stringify(out)}`);
} finally {
  await lab.down();
}

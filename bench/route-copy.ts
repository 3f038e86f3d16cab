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
//   node dist/bench/route-copy.js [--routes 1000000] [--bursts 20] [--singles 20] [--compare 1]
//                                 [--starts 2] [--rehearsal-first 1]
// --compare 0 leaves out step 1's comparisons (`ip -batch`, the seed's loop): the
// tables are still filled by `multihome routes sync`, as the daemon finds them.
//
// Steps 2 and 3 run for each of --starts daemon starts, with the copier's rehearsal
// (src/routecopy/warmup.ts) and without it in turn, so that both are measured in the
// same run on the same tables; each start waits until the copier is in sync. The first
// burst after each start is reported on its own (it was the slowest: see BENCHMARKS.md),
// and counted in p50/p95 like every other. --bursts and --singles should be even (adds
// and deletes in turn: each start begins with the same main).
import { pct, arg, machine } from './stats.js';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, runOk } from '../src/kernel/exec.js';
import { spawnInNetns, type BackgroundProcess } from '../src/kernel/netns.js';
import { REHEARSAL_ENV } from '../src/apply/route-copy.js';
import { copyDifferences, copyLabUp, countRoutes, routeBatch } from '../src/lab/copy-lab.js';

const N = arg('routes', 1_000_000);
const BURSTS = arg('bursts', 20);
const SINGLES = arg('singles', 20);
const COMPARE = arg('compare', 1) !== 0;
/** daemon starts, with the rehearsal and without it in turn (the first with it unless --rehearsal-first 0) */
const STARTS = arg('starts', 2);
const REHEARSAL_FIRST = arg('rehearsal-first', 1) !== 0;
/** a million routes take `ip` longer than exec's default 60 s on a busy machine */
const BIG = 1_200_000;
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
  await runOk(['ip', '-4', '-batch', file('main.batch', routeBatch(N, 'add'))], { netns: ns, timeoutMs: BIG });

  // 1a. iproute2's batch mode: the same routes into tables 100 and 101
  let ipBatchS = NaN;
  if (COMPARE) {
    const ipBatchFile = file('tables.batch', routeBatch(N, 'add', '10.1.0.1', 100) + routeBatch(N, 'add', '10.1.0.1', 101));
    ipBatchS = await secs(() => runOk(['ip', '-4', '-batch', ipBatchFile], { netns: ns, timeoutMs: BIG }));
    console.log(`ip -batch: ${2 * N} routes in ${ipBatchS.toFixed(2)} s`);
    for (const t of [100, 101]) await runOk(['ip', '-4', 'route', 'flush', 'table', String(t)], { netns: ns, timeoutMs: BIG });
  }

  // 1b. multihome: dump main, write both tables (batched netlink)
  let syncOut = '';
  const mhS = await secs(async () => {
    syncOut = await runOk([process.execPath, MAIN, 'routes', 'sync', '-c', lab.config, '--json'], { netns: ns, timeoutMs: BIG });
  });
  const sync = JSON.parse(syncOut) as { lastResync: { added: number } };
  console.log(`multihome routes sync: ${sync.lastResync.added} routes in ${mhS.toFixed(2)} s (ratio ${(mhS / ipBatchS).toFixed(2)})`);
  const copied = await countRoutes(ns, 100, 78);

  // 1c. the seed's loop (one `ip` per route) on a 2,000-route sample of main
  let seedRate = NaN;
  if (COMPARE) {
    const sample = file(
      'seed-loop.sh',
      `ip route show table main | grep -v '^default' | head -n 2000 | while read ROUTE; do ip route add table 4 $ROUTE; done\n`,
    );
    seedRate = 2000 / (await secs(() => runOk(['sh', sample], { netns: ns, timeoutMs: BIG })));
  }

  // 2 + 3. the daemon with main × 2 tables, started STARTS times, with and without the
  // rehearsal in turn: bursts of 10,000 changes, single changes, its peak memory
  const probeTables: string[] = [];
  for (const t of lab.tables) {
    const mark = PROBE_MARK + t;
    await runOk(['ip', 'rule', 'add', 'pref', '1', 'fwmark', String(mark), 'lookup', String(t)], { netns: ns });
    probeTables.push(`${t}:${mark}`);
  }
  const starts: Start[] = [];
  for (let s = 0; s < STARTS; s++) {
    const rehearsal = REHEARSAL_FIRST ? s % 2 === 0 : s % 2 === 1;
    console.log(`daemon start ${s + 1}/${STARTS}, ${rehearsal ? 'with' : 'without'} the rehearsal`);
    starts.push(await oneStart(rehearsal, probeTables));
  }
  // and in the end the tables compared with main in full
  const diff = await copyDifferences(ns, lab.tables, 78, [4]);
  if (diff.length > 0) throw new Error(`the tables differ from main after the bursts: ${diff.length} differences, e.g. ${diff.slice(0, 3).join('; ')}`);
  const byRehearsal = (r: boolean) => {
    const mine = starts.filter((x) => x.rehearsal === r);
    if (mine.length === 0) return null;
    return {
      starts: mine.length,
      /** the first burst after each start */
      firstBurstLagMs: mine.map((x) => Number(x.lags[0]!.toFixed(1))),
      firstBursts: lagSummary(mine.map((x) => x.lags[0]!)),
      laterBursts: lagSummary(mine.flatMap((x) => x.lags.slice(1))),
      /** every burst of every start, the first ones included */
      allBursts: lagSummary(mine.flatMap((x) => x.lags)),
      /** p95 over each start's bursts, its first included: the figure of issue 5 */
      p95PerStart: mine.map((x) => Number(pct(x.lags, 95).toFixed(1))),
      singleLagMs: lagSummary(mine.flatMap((x) => x.singleLags)),
      daemonPeakRssMb: Number(Math.max(...mine.map((x) => x.peakMb)).toFixed(0)),
      daemonStartS: mine.map((x) => Number(x.startS.toFixed(1))),
    };
  };
  const out = {
    bench: 'route-copy',
    command: `node dist/bench/route-copy.js --routes ${N} --bursts ${BURSTS} --singles ${SINGLES} --starts ${STARTS}${COMPARE ? '' : ' --compare 0'}${REHEARSAL_FIRST ? '' : ' --rehearsal-first 0'}`,
    routes: N,
    tables: 2,
    copiedPerTable: copied,
    ipBatchSeconds: Number(ipBatchS.toFixed(2)),
    multihomeSeconds: Number(mhS.toFixed(2)),
    ratio: Number((mhS / ipBatchS).toFixed(3)),
    seedLoopRoutesPerSecond: Number(seedRate.toFixed(0)),
    seedLoopHoursFor2xN: Number(((2 * N) / seedRate / 3600).toFixed(2)),
    withRehearsal: byRehearsal(true),
    withoutRehearsal: byRehearsal(false),
    order: starts.map((x) => (x.rehearsal ? 'with' : 'without')),
    machine: machine(),
  };
  console.log(
    `copy ${N} × 2: multihome ${out.multihomeSeconds} s, ip -batch ${out.ipBatchSeconds} s → ratio ${out.ratio}; seed loop ${out.seedLoopRoutesPerSecond} routes/s (${out.seedLoopHoursFor2xN} h for ${2 * N})`,
  );
  for (const [name, r] of [
    ['with the rehearsal', out.withRehearsal],
    ['without the rehearsal', out.withoutRehearsal],
  ] as const) {
    if (!r) continue;
    console.log(
      `${name}, ${r.starts} starts: first burst ${r.firstBurstLagMs.join(' / ')} ms (p95 ${r.firstBursts.p95}); later bursts p50 ${r.laterBursts.p50} ms, p95 ${r.laterBursts.p95} ms; all bursts p95 ${r.allBursts.p95} ms (per start ${r.p95PerStart.join(' / ')}); single change p50 ${r.singleLagMs.p50} ms, p95 ${r.singleLagMs.p95} ms; daemon peak RSS ${r.daemonPeakRssMb} MB`,
    );
  }
  console.log(`JSON ${JSON.stringify(out)}`);
} finally {
  await lab.down();
}

function lagSummary(xs: number[]) {
  return { trials: xs.length, p50: Number(pct(xs, 50).toFixed(1)), p95: Number(pct(xs, 95).toFixed(1)), max: Number(Math.max(...xs).toFixed(1)) };
}

interface Start {
  rehearsal: boolean;
  /** after each burst, in order: the first one is the first after the start */
  lags: number[];
  singleLags: number[];
  peakMb: number;
  /** from spawning the daemon to its copier being in sync (resync and rehearsal) */
  startS: number;
}

/** The daemon started (the rehearsal on or off), once in sync: BURSTS bursts, SINGLES single changes, its peak memory. */
async function oneStart(rehearsal: boolean, probeTables: string[]): Promise<Start> {
  const stateDir = path.join(lab.dir, 'state');
  const t0 = process.hrtime.bigint();
  // the daemon's environment is the bench's (spawnInNetns): see REHEARSAL_ENV in src/apply/route-copy.ts
  process.env[REHEARSAL_ENV] = rehearsal ? '1' : '0';
  const daemon = spawnInNetns(ns, [process.execPath, MAIN, '--state-dir', stateDir, 'run', '-c', lab.config, '--log-format', 'json']);
  try {
    // in sync: the copier is started (its first resync and the rehearsal done) and idle
    for (let t = 0; ; t++) {
      if (t === 1500) throw new Error('the daemon did not start its route copier in 5 minutes');
      const r = await run([process.execPath, MAIN, '--state-dir', stateDir, 'status', '--json'], { netns: ns });
      const copy = r.code === 0 ? (JSON.parse(r.stdout) as { copy?: { syncing: boolean; lastResync: unknown } | null }).copy : null;
      if (copy && !copy.syncing && copy.lastResync) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    const startS = Number(process.hrtime.bigint() - t0) / 1e9;
    // the probe: a route-event listener of its own that says when both tables hold all of
    // the burst's routes, or none of them (route-watch-child.ts); no dumps, no polling
    const lags = await withProbe([N, 10_000], probeTables, async (probe) => {
      const out: number[] = [];
      for (let b = 0; b < BURSTS; b++) {
        const verb = b % 2 === 0 ? 'add' : 'del';
        const burst = file('burst.batch', routeBatch(10_000, verb, '10.2.0.1', undefined, N));
        const b0 = process.hrtime.bigint();
        await runOk(['ip', '-4', '-batch', burst], { netns: ns });
        const end = process.hrtime.bigint();
        const line = await probe.waitForOutput(`${verb === 'add' ? 'full' : 'empty'}#${Math.floor(b / 2) + 1} `, 60_000);
        // the copier may finish before `ip` has exited: that is no lag at all
        out.push(Math.max(0, Number(BigInt(line.split(' ')[1]!) - end) / 1e6));
        console.log(
          `burst ${b + 1}/${BURSTS} (10,000 ${verb}s in ${(Number(end - b0) / 1e6).toFixed(0)} ms): tables matched ${out.at(-1)!.toFixed(1)} ms after the burst`,
        );
      }
      return out;
    });
    // single changes: one route added, then deleted, each followed the same way
    const singleLags = await withProbe([N + 20_000, 1], probeTables, async (probe) => {
      const [add, del] = (['add', 'del'] as const).map((v) =>
        routeBatch(1, v, '10.2.0.1', undefined, N + 20_000)
          .trim()
          .replace(/^route /, '')
          .split(' '),
      );
      const out: number[] = [];
      for (let i = 0; i < SINGLES; i++) {
        const verb = i % 2 === 0 ? 'add' : 'del';
        // from before `ip` starts (its exit can come after the copies are in): an upper bound
        const end = process.hrtime.bigint();
        await runOk(['ip', '-4', 'route', ...(verb === 'add' ? add! : del!)], { netns: ns });
        const line = await probe.waitForOutput(`${verb === 'add' ? 'full' : 'empty'}#${Math.floor(i / 2) + 1} `, 10_000);
        out.push(Math.max(0, Number(BigInt(line.split(' ')[1]!) - end) / 1e6));
      }
      return out;
    });
    return { rehearsal, lags, singleLags, peakMb: vmHwmMb(daemon.pid), startS };
  } finally {
    await daemon.stop();
  }
}

/** The lag probe (route-watch-child.ts) for `count` routes from index `first`, while `f` runs. */
async function withProbe<T>([first, count]: [number, number], probeTables: string[], f: (probe: BackgroundProcess) => Promise<T>): Promise<T> {
  const probe = spawnInNetns(ns, [process.execPath, WATCH, String(first), String(count), ...probeTables]);
  try {
    await probe.waitForOutput('ready', 10_000);
    return await f(probe);
  } finally {
    await probe.stop();
  }
}

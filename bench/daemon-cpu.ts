// CPU used by `multihome run` with 8 providers at the default probe rate
// (ICMP every 200 ms to one target per provider), measured from /proc over a
// steady window: the daemon itself, and the daemon with its ping processes; then, in the same
// run, the floor: a bare Node process reading the same pings (bench/ping-floor.ts).
// A router namespace with 8 uplinks (veth to 8 provider namespaces whose
// gateway answers the probes) is built here and always removed.
//
// RSS is the daemon's VmRSS at the end of the window. --interval MS probes at that interval
// instead of the default (50 ms), to compare rates in one run.
//
//   node dist/bench/daemon-cpu.js [--providers 8] [--seconds 30] [--interval MS] [--settle S] [--profile DIR]
// --profile writes a V8 CPU profile of the daemon into DIR (open it in Chrome DevTools).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../src/kernel/exec.js';
import { netnsPids, spawnInNetns } from '../src/kernel/netns.js';
import { buildUplinks, cpuSeconds } from './uplinks-lab.js';
import { arg, machine } from './stats.js';

const N = arg('providers', 8);
const SECONDS = arg('seconds', 30);
const INTERVAL = arg('interval', 0); // 0: the default
// seconds between the daemon answering `status` and the window: its start-up (module loading, the
// first apply, the heap growing to its working size, the JIT) must not count as steady state
const SETTLE = arg('settle', 3);
const TIMEOUT = INTERVAL ? Math.max(250, 3 * INTERVAL) : 250;
const RATE = 1000 / (INTERVAL || 50);

/** Context switches so far (voluntary + not): how often the process woke up. */
function switches(pid: number): number {
  const st = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return [...st.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)$/gm)].reduce((s, m) => s + Number(m[1]), 0);
}

/** The daemon's resident set, MB. */
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}
const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
const FLOOR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'ping-floor.js');

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mh-cpu-'));
  const lab = await buildUplinks(N, 'cpu');
  const R = lab.router;
  const providers = INTERVAL
    ? lab.providersYaml.map((l) => l.replace('probe: icmp,', `probe: icmp, interval: ${INTERVAL}ms, timeout: ${TIMEOUT}ms,`))
    : lab.providersYaml;
  try {
    const cfg = path.join(dir, 'multihome.yaml');
    fs.writeFileSync(
      cfg,
      `providers:\n${providers.join('\n')}\ngroups:\n  all: [${Array.from({ length: N }, (_, i) => `isp${i + 1}`).join(', ')}]\ndefault: all\n`,
    );
    const pi = process.argv.indexOf('--profile');
    const prof = pi > 0 ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.argv[pi + 1]!)}`] : [];
    const daemon = spawnInNetns(R, [process.execPath, ...prof, MAIN, '--state-dir', path.join(dir, 'state'), 'run', '-c', cfg]);
    try {
      // let it start and settle (JIT, first probes)
      for (let t = 0; t < 100; t++) {
        if ((await run([process.execPath, MAIN, '--state-dir', path.join(dir, 'state'), 'status', '--json'], { netns: R })).code === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await new Promise((r) => setTimeout(r, SETTLE * 1000));
      const pings = (await netnsPids(R)).filter((p) => p !== daemon.pid);
      const d0 = cpuSeconds(daemon.pid);
      const w0 = switches(daemon.pid);
      const p0 = pings.reduce((s, p) => s + cpuSeconds(p), 0);
      const t0 = Date.now();
      await new Promise((r) => setTimeout(r, SECONDS * 1000));
      const wall = (Date.now() - t0) / 1000;
      const d = (cpuSeconds(daemon.pid) - d0) / wall;
      const withPings = d + (pings.reduce((s, p) => s + cpuSeconds(p), 0) - p0) / wall;
      const rss = rssMb(daemon.pid);
      const wakeups = (switches(daemon.pid) - w0) / wall;
      const status = JSON.parse((await run([process.execPath, MAIN, '--state-dir', path.join(dir, 'state'), 'status', '--json'], { netns: R })).stdout) as {
        providers: { state: string }[];
      };
      await daemon.stop();
      const daemonPct = d * 100;
      const withPingsPct = withPings * 100;

      // The floors, same namespace, same pings: what reading them costs before any daemon logic,
      // as the daemon ran them before issue 14 (a line per reply, read as it comes), as it reads
      // them now (the same lines in batches) and quiet (ping-floor.ts --quiet: a line per miss and
      // a summary a second). Each with its ping processes.
      const floorOf = async (mode: boolean | string[]): Promise<{ reader: number; withPings: number }> => {
        const floor = spawnInNetns(R, [
          process.execPath,
          FLOOR,
          ...(Array.isArray(mode) ? mode : mode ? ['--quiet'] : []),
          String(INTERVAL || 50),
          String(TIMEOUT),
          ...Array.from({ length: N }, (_, i) => `10.${i + 1}.0.2=10.${i + 1}.0.1`),
        ]);
        try {
          await new Promise((r) => setTimeout(r, 3000));
          const kids = (await netnsPids(R)).filter((p) => p !== floor.pid);
          const f0 = cpuSeconds(floor.pid);
          const k0 = kids.reduce((s, p) => s + cpuSeconds(p), 0);
          const t1 = Date.now();
          await new Promise((r) => setTimeout(r, SECONDS * 1000));
          const w = (Date.now() - t1) / 1000;
          const reader = ((cpuSeconds(floor.pid) - f0) / w) * 100;
          return { reader, withPings: reader + ((kids.reduce((s, p) => s + cpuSeconds(p), 0) - k0) / w) * 100 };
        } finally {
          await floor.stop();
        }
      };
      const lineFloor = await floorOf(false);
      const quietFloor = await floorOf(true);
      // the daemon's reader: a line per reply, read in batches every timeout − interval (kernel/ping.ts)
      const batchMs = Math.min(250, Math.max(25, TIMEOUT - (INTERVAL || 50)));
      const batchFloor = await floorOf(['--batch', String(batchMs)]);
      const floorPct = lineFloor.reader;
      const out = {
        bench: 'daemon-cpu',
        command: `node dist/bench/daemon-cpu.js --providers ${N} --seconds ${SECONDS}${INTERVAL ? ` --interval ${INTERVAL}` : ''}${SETTLE !== 3 ? ` --settle ${SETTLE}` : ''}`,
        providers: N,
        probesPerSecond: N * RATE,
        up: status.providers.filter((p) => p.state === 'up').length,
        daemonCpuPercentOfACore: Number(daemonPct.toFixed(2)),
        withPingProcessesPercentOfACore: Number(withPingsPct.toFixed(2)),
        pingProcesses: pings.length,
        floorPercentOfACore: Number(floorPct.toFixed(2)),
        floorWithPingsPercentOfACore: Number(lineFloor.withPings.toFixed(2)),
        batchMs,
        batchFloorPercentOfACore: Number(batchFloor.reader.toFixed(2)),
        quietFloorPercentOfACore: Number(quietFloor.reader.toFixed(2)),
        quietFloorWithPingsPercentOfACore: Number(quietFloor.withPings.toFixed(2)),
        rssMb: rss,
        daemonWakeupsPerSecond: Math.round(wakeups),
        daemonOverFloor: Number((daemonPct / floorPct).toFixed(2)),
        machine: machine(),
      };
      console.log(
        `${N} providers, ${N * RATE} probes/s: daemon ${out.daemonCpuPercentOfACore}% of a core, ${rss} MB RSS, ${out.daemonWakeupsPerSecond} wake-ups/s; with its ${pings.length} ping processes ${out.withPingProcessesPercentOfACore}% (${out.up}/${N} up)`,
      );
      console.log(
        `floor (bare Node reading the same ${N} pings, same run): ${out.floorPercentOfACore}% (${out.floorWithPingsPercentOfACore}% with the pings) → daemon/floor ${out.daemonOverFloor}×`,
      );
      console.log(`batched floor (the same lines read every ${batchMs} ms, as the daemon reads them): ${out.batchFloorPercentOfACore}%`);
      console.log(
        `quiet floor (ping -q -O: a line per miss, a SIGQUIT summary a second): ${out.quietFloorPercentOfACore}% (${out.quietFloorWithPingsPercentOfACore}% with the pings)`,
      );
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

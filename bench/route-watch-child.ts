// The lag probe of bench/route-copy.ts, in a process of its own inside the lab
// namespace. Every POLL_MS it asks the kernel, as a packet would (a FIB lookup,
// `ip route get fibmatch`, no dump: a million-route table costs it nothing),
// whether the last route of the burst is in each copy table, and once it is (or
// is gone), whether the first and the middle one are too. The bench steers the
// lookups into one table each with `ip rule … fwmark MARK lookup TABLE` rules. The copier writes in the order main
// changed, the last route last, so the probe sees the burst copied when its last
// route is in; the bench compares the tables with main in full at the end.
//
// It prints a line the moment every table holds all the sampled routes
// ("full#K <ns>") or none of them ("empty#K <ns>"), <ns> being process.hrtime
// (CLOCK_MONOTONIC, the same clock in every process), and "ready" once started.
//
//   node route-watch-child.js FIRST COUNT TABLE:MARK...
// The burst's routes are routeBatch's /24s from index FIRST (src/lab/copy-lab.ts).
import { RouteLookup } from '../src/kernel/rtnetlink.js';

const POLL_MS = 1;
const [firstArg, countArg, ...tableArgs] = process.argv.slice(2);
const first = Number(firstArg);
const count = Number(countArg);
const tables = tableArgs.map((t) => t.split(':').map(Number) as [number, number]);
const dstOf = (i: number) => new Uint8Array([100 + (i >>> 16), (i >>> 8) & 255, i & 255, 1]); // an address inside the /24
const last = dstOf(first + count - 1);
const others = [...new Set([first, first + Math.floor(count / 2)])].filter((i) => i !== first + count - 1).map(dstOf);

const lookup = new RouteLookup();
let full = 0;
let empty = 0;
let was: 'full' | 'empty' | 'between' | null = null;

/** Whether each table's route for `dst` is the burst's /24 (not a default or main's route). */
const inTables = (dst: Uint8Array) =>
  Promise.all(
    tables.map(async ([table, mark]) => {
      const r = await lookup.match(dst, mark);
      return r !== null && r.table === table && r.len === 24 && r.dst[0] === dst[0] && r.dst[1] === dst[1] && r.dst[2] === dst[2];
    }),
  );

async function state(): Promise<'full' | 'empty' | 'between'> {
  // the last route decides (its lookups are all a poll costs); the others confirm
  const found = await inTables(last);
  if (found.some((f) => f !== found[0])) return 'between';
  for (const dst of others) if ((await inTables(dst)).some((f) => f !== found[0])) return 'between';
  return found[0] ? 'full' : 'empty';
}

async function poll(): Promise<void> {
  const now = await state();
  if (now !== was && now !== 'between' && was !== null) {
    const k = now === 'full' ? ++full : ++empty;
    process.stdout.write(`${now}#${k} ${process.hrtime.bigint()}\n`);
  }
  was = now;
  setTimeout(() => void poll(), POLL_MS);
}

await poll();
process.stdout.write('ready\n');

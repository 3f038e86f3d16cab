// Part of bench/route-copy.ts, run inside the lab namespace: listens to route
// events, runs one burst of route changes in main (`ip -batch FILE`), and
// reports when the burst's last change reached main and when its copies had
// reached both provider tables (events of tables 100 and 101 with the copy
// protocol 78): the lag the daemon adds.
//
//   node dist/bench/lag-watcher.js BATCH_FILE EXPECTED_CHANGES
import { spawn } from 'node:child_process';
import { followRoutes } from '../src/kernel/rtnetlink.js';
import { messages, RTM } from '../src/routecopy/codec.js';

const [file, expectedText] = process.argv.slice(2);
const expected = Number(expectedText);
let mainSeen = 0;
let mainLast = 0;
const copies = new Map<number, number>([
  [100, 0],
  [101, 0],
]);
let copiesLast = 0;
const t0 = performance.now();
let done: () => void;
const finished = new Promise<void>((r) => (done = r));
const ev = followRoutes(
  (buf) => {
    const now = performance.now();
    // header bytes only (table, protocol): this listener must drain its socket faster than the
    // burst and its copies fill it
    for (const m of messages(buf)) {
      if (m.type !== RTM.NEWROUTE && m.type !== RTM.DELROUTE) continue;
      const table = buf[m.off + 16 + 4]!;
      if (table === 254) {
        mainSeen++;
        mainLast = now;
      } else if (buf[m.off + 16 + 5] === 78 && copies.has(table)) {
        copies.set(table, copies.get(table)! + 1);
        copiesLast = now;
      }
    }
    if (mainSeen >= expected && [...copies.values()].every((c) => c >= expected)) done();
  },
  (why) => {
    console.error(why);
    process.exit(1);
  },
);
const ip = spawn('ip', ['-4', '-batch', file!], { stdio: 'inherit' });
const timeout = setTimeout(() => {
  console.error(`timeout: main ${mainSeen}, copies ${[...copies.values()].join('/')} of ${expected}`);
  process.exit(1);
}, 60_000);
await finished;
clearTimeout(timeout);
await new Promise((r) => ip.on('exit', r));
ev.close();
console.log(JSON.stringify({ burstMs: mainLast - t0, lagMs: copiesLast - mainLast }));
process.exit(0);

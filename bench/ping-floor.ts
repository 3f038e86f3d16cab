// The floor for the daemon-cpu benchmark: a bare Node process that runs the same ping
// processes the daemon would (one per target, same options) and only splits their output into
// lines and matches them — no health machine, no daemon. Started by bench/daemon-cpu.ts inside
// its router namespace; runs until killed.
//
// With --quiet, the design a lighter prober could have (issue 14): `ping -q -O` prints nothing
// for an answered probe and one "no answer yet for icmp_seq=N" line for each probe still
// unanswered when the next one goes out, and on SIGQUIT a summary on stderr ("9/9 packets,
// 0% loss, min/avg/ewma/max = …"). The reader wakes for misses and for one summary a second per
// ping, instead of for every reply.
//
// With --batch MS, the reader the daemon has now: the same lines as without, written into a
// FIFO and read every MS by src/kernel/batched-lines.ts instead of as each one comes.
//
//   node dist/bench/ping-floor.js [--quiet | --batch MS] INTERVAL_MS TIMEOUT_MS SOURCE=TARGET...
import { spawn, type ChildProcess } from 'node:child_process';
import { openBatchedLines } from '../src/kernel/batched-lines.js';

const args = process.argv.slice(2);
const quiet = args[0] === '--quiet';
const batchMs = args[0] === '--batch' ? Number(args[1]) : 0;
const [interval, timeout, ...pairs] = quiet ? args.slice(1) : batchMs ? args.slice(2) : args;
const REPLY = /^\[(\d+\.\d+)\] \d+ bytes from \S+ icmp_seq=(\d+) .*time=([\d.]+) ms/;
const MISS = /^(?:\[[\d.]+\] )?no answer yet for icmp_seq=(\d+)/;
const SUMMARY = /^(\d+)\/(\d+) packets, (\d+)% loss/;
let lines = 0;
let misses = 0;
let summaries = 0;

/** Calls `onLine` for each whole line of `stream`. */
function eachLine(stream: NodeJS.ReadableStream & { setEncoding(e: BufferEncoding): unknown }, onLine: (line: string) => void): void {
  let partial = '';
  stream.setEncoding('latin1');
  stream.on('data', (chunk: string) => {
    let text = partial + chunk;
    let nl: number;
    while ((nl = text.indexOf('\n')) >= 0) {
      onLine(text.slice(0, nl));
      text = text.slice(nl + 1);
    }
    partial = text;
  });
}

const children: ChildProcess[] = [];
for (const pair of pairs) {
  if (batchMs) {
    // the daemon's own reader (src/kernel/batched-lines.ts), at the period given
    const [source, target] = pair.split('=');
    const reader = await openBatchedLines(batchMs, (l) => {
      if (REPLY.exec(l)) lines++;
      else if (MISS.exec(l)) misses++;
    });
    const child = spawn('ping', ['-n', '-D', '-O', '-i', String(Number(interval) / 1000), '-W', String(Number(timeout) / 1000), '-I', source!, target!], {
      stdio: ['ignore', reader.writeFd, 'pipe'],
    });
    reader.childStarted();
    children.push(child);
    continue;
  }
  const [source, target] = pair.split('=');
  const opts = quiet ? ['-q', '-O'] : ['-D', '-O'];
  const child = spawn('ping', ['-n', ...opts, '-i', String(Number(interval) / 1000), '-W', String(Number(timeout) / 1000), '-I', source!, target!], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  eachLine(child.stdout, (l) => {
    if (REPLY.exec(l)) lines++;
    else if (MISS.exec(l)) misses++;
  });
  eachLine(child.stderr, (l) => {
    if (SUMMARY.exec(l)) summaries++;
  });
}
if (quiet) setInterval(() => children.forEach((c) => c.kill('SIGQUIT')), 1000);
process.on('SIGTERM', () => {
  console.log(JSON.stringify({ lines, misses, summaries }));
  process.exit(0);
});

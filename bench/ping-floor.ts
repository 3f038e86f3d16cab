// The floor for the daemon-cpu benchmark: a bare Node process that runs the same ping
// processes the daemon would (one per target, same options) and only splits their output into
// lines and matches them — no health machine, no daemon. Started by bench/daemon-cpu.ts inside
// its router namespace; runs until killed.
//
//   node dist/bench/ping-floor.js INTERVAL_MS TIMEOUT_MS SOURCE=TARGET...
import { spawn } from 'node:child_process';

const [interval, timeout, ...pairs] = process.argv.slice(2);
const REPLY = /^\[(\d+\.\d+)\] \d+ bytes from \S+ icmp_seq=(\d+) .*time=([\d.]+) ms/;
let lines = 0;
for (const pair of pairs) {
  const [source, target] = pair.split('=');
  const child = spawn('ping', ['-n', '-D', '-O', '-i', String(Number(interval) / 1000), '-W', String(Number(timeout) / 1000), '-I', source!, target!], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let partial = '';
  child.stdout.setEncoding('latin1');
  child.stdout.on('data', (chunk: string) => {
    let text = partial + chunk;
    let nl: number;
    while ((nl = text.indexOf('\n')) >= 0) {
      if (REPLY.exec(text.slice(0, nl))) lines++;
      text = text.slice(nl + 1);
    }
    partial = text;
  });
  child.stderr.resume();
}
process.on('SIGTERM', () => {
  console.log(JSON.stringify({ lines }));
  process.exit(0);
});

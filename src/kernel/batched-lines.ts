// Lines a child process writes, read in batches on a timer instead of as they come.
//
// Why: reading a `ping` line per reply through a child's stdout stream costs a wake-up, a
// read and a trip through Node's stream machinery per line; at the default probe rate (20
// replies a second per target) that reading was most of the daemon's CPU (BENCHMARKS.md,
// "Daemon CPU"). Here the child writes into a FIFO whose read end is non-blocking and is read
// with plain read(2) calls, every `periodMs` for all readers of that period at once, and on
// demand (`flush`) when a consumer must know everything the child has said so far (the
// pinger before it reports a timeout, the daemon before it lets time pass in the health
// machines). Each line keeps the time the child stamped on it, so a batch delivers the same
// results, in the same order, only later.
//
// A FIFO because Node cannot create an anonymous pipe whose read end it reads with read(2):
// a child's `pipe` stdio is a stream that starts reading at once. The FIFO is created in a
// private temporary directory and unlinked as soon as both ends are open; the descriptors
// keep it alive, and nothing else can open it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runOk } from './exec.js';

export interface BatchedLines {
  /** the write end, to hand to the child as its stdout; closed here by `childStarted` */
  readonly writeFd: number;
  /** call once the child is spawned: closes this process's copy of the write end (so the read end sees EOF when the child exits) */
  childStarted(): void;
  /** read everything waiting now, synchronously, handing each whole line to `onLine` */
  flush(): void;
  /** stop reading and close the read end; no lines after this */
  close(): void;
}

/** Readers by period: one timer per period reads them all. */
const byPeriod = new Map<number, { timer: NodeJS.Timeout; readers: Set<BatchedLines> }>();

function register(periodMs: number, r: BatchedLines): void {
  let g = byPeriod.get(periodMs);
  if (!g) {
    const readers = new Set<BatchedLines>();
    // unref: reading keeps nothing alive by itself (the child's exit and its owner do)
    g = { timer: setInterval(() => readers.forEach((x) => x.flush()), periodMs).unref(), readers };
    byPeriod.set(periodMs, g);
  }
  g.readers.add(r);
}

function unregister(periodMs: number, r: BatchedLines): void {
  const g = byPeriod.get(periodMs);
  if (!g?.readers.delete(r) || g.readers.size > 0) return;
  clearInterval(g.timer);
  byPeriod.delete(periodMs);
}

/** A FIFO whose lines reach `onLine` every `periodMs` and at every `flush()`. */
export async function openBatchedLines(periodMs: number, onLine: (line: string) => void): Promise<BatchedLines> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'multihome-lines-'));
  const file = path.join(dir, 'fifo');
  let readFd: number;
  let writeFd: number;
  try {
    await runOk(['mkfifo', '-m', '600', file]);
    // The read end first, non-blocking (it opens without a writer); then the write end, which
    // opens at once because a reader exists. Blocking for the child: a full pipe (64 KiB,
    // a thousand lines) makes it wait rather than lose lines.
    readFd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    writeFd = fs.openSync(file, fs.constants.O_WRONLY);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const buf = Buffer.allocUnsafe(16384);
  let partial = '';
  let open = true;
  let writeOpen = true;
  const r: BatchedLines = {
    writeFd,
    childStarted() {
      if (!writeOpen) return;
      writeOpen = false;
      fs.closeSync(writeFd);
    },
    flush() {
      while (open) {
        let n: number;
        try {
          n = fs.readSync(readFd, buf, 0, buf.length, null);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return; // nothing more for now
          // Anything else (it would be thrown from a timer, ending the daemon) ends the reading
          // like EOF: the child's exit is what its owner reports.
          r.close();
          return;
        }
        if (n === 0) {
          // EOF: the child (every writer) is gone; its exit is reported by the caller
          if (!writeOpen) r.close();
          return;
        }
        let text = partial + buf.toString('latin1', 0, n);
        let nl: number;
        while ((nl = text.indexOf('\n')) >= 0) {
          onLine(text.slice(0, nl));
          text = text.slice(nl + 1);
        }
        partial = text;
        // A short read emptied the pipe: another read would only fail with EAGAIN (an
        // exception, with its stack, per reader per batch); what comes meanwhile waits for the next.
        if (n < buf.length) return;
      }
    },
    close() {
      if (!open) return;
      open = false;
      unregister(periodMs, r);
      fs.closeSync(readFd);
      r.childStarted();
    },
  };
  register(periodMs, r);
  return r;
}

// ICMP echo probes through one uplink. Node cannot send ICMP without a raw
// socket, so this runs iputils `ping` (one long-running process per target),
// bound with -I to the uplink's source address, and turns its lines into
// probe results. Parsing ping's output is fine here: it is a probe result, not
// kernel state.
//
// The lines are read in batches (batched-lines.ts), every `batchMs`: by default
// timeout − interval (at most 250 ms), so a "no answer yet" line is read before
// its probe's timeout and a timeout is never reported late. Before it reports a
// timeout the pinger reads what ping has written so far, so an answer that came
// in meanwhile is never mistaken for silence; every result carries ping's own
// time stamp, so a batch is the same results in the same order, only later.
//
//   -n no DNS · -D epoch timestamp per line · -O report unanswered probes ·
//   -i interval · -W timeout (both in seconds)
import { spawn, type ChildProcess } from 'node:child_process';
import { openBatchedLines, type BatchedLines } from './batched-lines.js';
import { nsArgv } from './exec.js';

export interface PingResult {
  /** epoch ms the result became known */
  at: number;
  ok: boolean;
  seq: number;
  /** epoch ms the echo request was sent */
  sentAt: number;
  rttMs?: number;
  error?: string;
}

export interface PingOptions {
  target: string;
  source: string;
  intervalMs: number;
  timeoutMs: number;
  onResult: (r: PingResult) => void;
  /** run inside this named network namespace */
  netns?: string;
  /** how often ping's lines are read; default timeout − interval, within 25–250 ms */
  batchMs?: number;
}

export interface Pinger {
  /** read what ping has written so far and report its results now (the daemon does, before it lets time pass) */
  flush(): void;
  /** the exit code and stderr once ping ends (e.g. the source address does not exist) */
  readonly exited: Promise<{ code: number; stderr: string }>;
  /** end ping (SIGTERM, then SIGKILL) and drop pending timeouts; no results after this resolves */
  stop(): Promise<void>;
}

const REPLY = /^\[(\d+\.\d+)\] \d+ bytes from \S+ icmp_seq=(\d+) .*time=([\d.]+) ms/;
const NO_ANSWER = /^\[(\d+\.\d+)\] no answer yet for icmp_seq=(\d+)/;
// An ICMP error instead of a reply (e.g. "Destination Net Unreachable" from the provider's router).
const ERROR = /^\[(\d+\.\d+)\] From \S+ icmp_seq=(\d+) (.+)$/;

const secs = (ms: number) => (ms / 1000).toFixed(3);

export function startPing(o: PingOptions): Pinger {
  const argv = nsArgv(['ping', '-n', '-D', '-O', '-i', secs(o.intervalMs), '-W', secs(o.timeoutMs), '-I', o.source, o.target], o.netns);
  const batchMs = o.batchMs ?? Math.min(250, Math.max(25, o.timeoutMs - o.intervalMs));
  let stopped = false;
  let stderr = '';
  let child: ChildProcess | null = null;
  let lines: BatchedLines | null = null;
  // Sequence numbers already reported (ok or failed), so a probe counts once,
  // except that a reply arriving after its timeout is still reported as ok
  // (the machine lets a late answer count as good).
  const reported = new Set<number>();
  // "no answer yet" comes one interval after the send, usually well before the
  // timeout: the failure is only reported when the timeout really expires.
  const pending = new Map<number, NodeJS.Timeout>();

  const emit = (r: PingResult) => {
    if (stopped) return;
    reported.add(r.seq);
    if (reported.size > 1024) reported.delete(reported.values().next().value!);
    o.onResult(r);
  };
  const settle = (seq: number) => {
    clearTimeout(pending.get(seq));
    pending.delete(seq);
  };

  function onLine(line: string): void {
    let m: RegExpMatchArray | null;
    if ((m = REPLY.exec(line))) {
      const at = Number(m[1]) * 1000;
      const seq = Number(m[2]);
      const rttMs = Number(m[3]);
      settle(seq);
      emit({ at, ok: true, seq, sentAt: at - rttMs, rttMs });
    } else if ((m = ERROR.exec(line))) {
      const at = Number(m[1]) * 1000;
      const seq = Number(m[2]);
      settle(seq);
      // The send time is not printed; an error comes back about as fast as a reply would.
      if (!reported.has(seq)) emit({ at, ok: false, seq, sentAt: at, error: m[3]!.trim() });
    } else if ((m = NO_ANSWER.exec(line))) {
      const seq = Number(m[2]);
      if (reported.has(seq) || pending.has(seq)) return;
      const sentAt = Number(m[1]) * 1000 - o.intervalMs;
      const deadline = sentAt + o.timeoutMs;
      const fire = () => {
        pending.delete(seq);
        lines?.flush(); // an answer written since the last read settles it
        if (!reported.has(seq)) emit({ at: Math.max(deadline, Date.now()), ok: false, seq, sentAt, error: `no reply within ${o.timeoutMs} ms` });
      };
      pending.set(seq, setTimeout(fire, Math.max(0, deadline - Date.now())));
    }
  }

  const exited = (async (): Promise<{ code: number; stderr: string }> => {
    try {
      lines = await openBatchedLines(batchMs, onLine);
    } catch (e) {
      return { code: 127, stderr: `cannot read ping's output: ${e instanceof Error ? e.message : String(e)}` };
    }
    if (stopped) {
      lines.close();
      return { code: 143, stderr: '' };
    }
    const c = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', lines.writeFd, 'pipe'] });
    child = c;
    lines.childStarted();
    c.stderr!.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    return new Promise((resolve) => {
      c.on('error', (e) => resolve({ code: 127, stderr: e.message }));
      c.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stderr: stderr.trim() }));
    }).then((r) => {
      lines?.flush(); // its last lines
      lines?.close();
      return r as { code: number; stderr: string };
    });
  })();

  return {
    exited,
    flush() {
      lines?.flush();
    },
    async stop() {
      stopped = true;
      for (const t of pending.values()) clearTimeout(t);
      pending.clear();
      lines?.close();
      const c = child;
      if (c && c.exitCode === null && c.signalCode === null) {
        c.kill('SIGTERM');
        const late = setTimeout(() => c.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(late);
      } else await exited;
    },
  };
}

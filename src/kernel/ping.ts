// ICMP echo probes through one uplink. Node cannot send ICMP without a raw
// socket, so this runs iputils `ping` (one long-running process per target),
// bound with -I to the uplink's source address, and turns its lines into
// probe results as they arrive. Parsing ping's output is fine here: it is a
// probe result, not kernel state.
//
//   -n no DNS · -D epoch timestamp per line · -O report unanswered probes ·
//   -i interval · -W timeout (both in seconds)
import { spawn } from 'node:child_process';
import { InternalError } from '../errors/index.js';
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
}

export interface Pinger {
  readonly pid: number;
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
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new InternalError(`cannot start ${argv.join(' ')}`);
  let stopped = false;
  let stderr = '';
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

  // Lines split by hand: readline's machinery is most of the cost of a ping line, and the
  // daemon reads several of these a second per provider.
  let partial = '';
  child.stdout.setEncoding('latin1');
  child.stdout.on('data', (chunk: string) => {
    let text = partial + chunk;
    let nl: number;
    while ((nl = text.indexOf('\n')) >= 0) {
      onLine(text.slice(0, nl));
      text = text.slice(nl + 1);
    }
    partial = text;
  });
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
        if (!reported.has(seq)) emit({ at: Math.max(deadline, Date.now()), ok: false, seq, sentAt, error: `no reply within ${o.timeoutMs} ms` });
      };
      pending.set(seq, setTimeout(fire, Math.max(0, deadline - Date.now())));
    }
  }
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));

  const exited = new Promise<{ code: number; stderr: string }>((resolve) => {
    child.on('error', (e) => resolve({ code: 127, stderr: e.message }));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stderr: stderr.trim() }));
  });

  return {
    pid: child.pid,
    exited,
    async stop() {
      stopped = true;
      for (const t of pending.values()) clearTimeout(t);
      pending.clear();
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const late = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(late);
    },
  };
}

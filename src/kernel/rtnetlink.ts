// rtnetlink sockets for the route copier (the `netlink` package gives the raw
// AF_NETLINK socket; the messages are encoded and decoded in
// src/routecopy/codec.ts). Sockets live in this process's network namespace:
// whatever uses this module runs inside the namespace it manages (the daemon
// does; `multihome routes sync` is started there with `ip netns exec`).
//
// Three uses, three sockets, so one's traffic never blocks another's:
//   - dumps (RTM_GETROUTE with NLM_F_DUMP, read as the kernel streams them);
//   - writes: many route messages per datagram, no per-message acknowledgement
//     (the kernel reports failures anyway), an ACK asked for on the last message
//     of each datagram only: when it arrives, every message before it has been
//     handled and its error, if any, has arrived;
//   - events: the route multicast groups. When the kernel cannot queue an event
//     (the receive buffer is full) the socket reports ENOBUFS: events were lost
//     and the caller must resynchronise.
import os from 'node:os';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { startListenerChild } from './listener-child.js';
import { decodeRoute, dumpRequest, errorOf, lookupRequest, messages, NLM_F, NLMSG, RTM, RTNLGRP, type DecodedRoute } from '../routecopy/codec.js';

// The package is CommonJS with a native addon; its types describe this much of it.
interface RawSocket {
  on(event: 'message' | 'truncatedMessage', cb: (msg: Buffer) => void): void;
  on(event: 'error', cb: (err: Error & { code?: string; errno?: number }) => void): void;
  send(msg: Uint8Array, options?: object, callback?: (error?: Error) => void): void;
  addMembership(group: number): void;
  setRecvBufferSize(n: number): void;
  setSendBufferSize(n: number): void;
  getRecvBufferSize(): number;
  ref(): void;
  unref(): void;
  close(): void;
}
const require = createRequire(import.meta.url);
const { RawNetlinkSocket } = require('netlink') as { RawNetlinkSocket: new (protocol: number, options?: object) => RawSocket };
const NETLINK_ROUTE = 0;

/** Receive buffer asked for (the kernel caps it at 2 × net.core.rmem_max). */
const RECV_BUFFER = 8 << 20;

/**
 * The addon calls listeners from native code, where an exception ends the process
 * (std::terminate): every listener goes through this, which hands a throw to `onThrow`.
 */
function guard<A extends unknown[]>(fn: (...a: A) => void, onThrow: (e: unknown) => void): (...a: A) => void {
  return (...a: A) => {
    try {
      fn(...a);
    } catch (e) {
      onThrow(e);
    }
  };
}
const report = (where: string) => (e: unknown) => process.emitWarning(`${where}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);

/** Nice value of the route event listener process (see followRoutesIsolated). */
const LISTENER_NICE = -10;

/**
 * Largest event datagram read whole: a route event is one message, 60 to a few hundred
 * bytes (2 KiB holds a route with some 60 IPv6 nexthops); the addon clears a buffer of
 * this size for every read, so larger costs time on every event.
 */
const EVENT_BUFFER = 2 << 10;

/**
 * `eventBuffer`: read datagrams into buffers of this size, one recvmsg each, instead
 * of peeking at every datagram's size first (two system calls per event); a longer
 * datagram arrives cut short, as a 'truncatedMessage'.
 */
function open(recv = RECV_BUFFER, eventBuffer = 0, protocol = NETLINK_ROUTE): RawSocket {
  const s = new RawNetlinkSocket(protocol, eventBuffer ? { messagePeeking: false, msgBufferSize: eventBuffer } : {});
  try {
    s.setRecvBufferSize(recv);
    s.setSendBufferSize(1 << 20);
  } catch {
    // capped by rmem_max/wmem_max: the kernel keeps the largest size allowed
  }
  return s;
}

class NetlinkError extends Error {
  constructor(
    message: string,
    readonly errno: number,
  ) {
    super(message);
  }
}

/**
 * Dump every route of `family` (all tables), handing each route message to `onRoute`
 * as (datagram, offset). Resolves when the dump is complete; `interrupted` when the
 * kernel flagged it as changed while it ran (NLM_F_DUMP_INTR: the caller's event
 * stream covers the changes).
 */
export function dumpRoutes(family: 4 | 6, onRoute: (buf: Buffer, off: number) => void): Promise<{ messages: number; interrupted: boolean }> {
  const s = open();
  const seq = (Date.now() & 0x7fffffff) >>> 0;
  let count = 0;
  let interrupted = false;
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      s.close();
      if (err) reject(err);
      else resolve({ messages: count, interrupted });
    };
    s.on('error', (e) => done(new NetlinkError(`route dump: ${e.message}`, e.errno ?? 0)));
    s.on(
      'message',
      guard(
        (buf: Buffer) => {
          for (const m of messages(buf)) {
            if (m.seq !== seq) continue;
            if (m.flags & NLM_F.DUMP_INTR) interrupted = true;
            if (m.type === NLMSG.DONE) return done();
            if (m.type === NLMSG.ERROR) {
              const { errno } = errorOf(buf, m.off);
              return done(new NetlinkError(`route dump failed: errno ${errno}`, errno));
            }
            if (m.type === RTM.NEWROUTE) {
              count++;
              onRoute(buf, m.off);
            }
          }
        },
        (e) => done(e instanceof Error ? e : new Error(String(e))),
      ),
    );
    s.send(dumpRequest(family, seq), {}, (e) => e && done(e));
  });
}

export interface WriteError {
  seq: number;
  errno: number;
}

/**
 * Writes route messages in the datagrams it is given (the engine's DATAGRAM, 64 KiB: well under the send buffer). `send` takes a
 * datagram whose last message asks for an ACK (its sequence number given) and
 * resolves once that ACK is in, with the errors of the datagram's messages.
 */
export class RouteWriter {
  private s: RawSocket | null = null;
  private readonly waiting = new Map<number, { resolve: (e: WriteError[]) => void; reject: (e: Error) => void }>();
  private collected: WriteError[] = [];

  /** The socket, opened on first use and again after a failure. */
  private socket(): RawSocket {
    if (this.s) return this.s;
    const s = open();
    s.on(
      'message',
      guard((buf: Buffer) => {
        for (const m of messages(buf)) {
          if (m.type !== NLMSG.ERROR) continue;
          const { errno, seq } = errorOf(buf, m.off);
          const w = this.waiting.get(seq);
          if (w) {
            this.waiting.delete(seq);
            if (errno !== 0) this.collected.push({ seq, errno });
            const errs = this.collected;
            this.collected = [];
            w.resolve(errs);
          } else if (errno !== 0) this.collected.push({ seq, errno });
        }
      }, report('route writer')),
    );
    s.on('error', (e) => {
      // ENOBUFS: acknowledgements or error reports were dropped. What was in flight is
      // unknown: those sends fail (the caller resynchronises) and the next one gets a new socket.
      const failed = new NetlinkError(`route writes: ${e.message}`, e.errno ?? 0);
      for (const w of this.waiting.values()) w.reject(failed);
      this.waiting.clear();
      this.collected = [];
      if (this.s === s) this.s = null;
      s.close();
    });
    this.s = s;
    return s;
  }

  /** Send one datagram of messages; `ackSeq` is the sequence number of its last message, which carries NLM_F_ACK. */
  send(datagram: Buffer, ackSeq: number): Promise<WriteError[]> {
    const s = this.socket();
    return new Promise((resolve, reject) => {
      this.waiting.set(ackSeq, { resolve, reject });
      s.send(datagram, {}, (e) => {
        if (!e) return;
        this.waiting.delete(ackSeq);
        reject(new NetlinkError(`route writes: ${e.message}`, (e as { errno?: number }).errno ?? 0));
      });
    });
  }

  close(): void {
    this.s?.close();
    this.s = null;
  }
}

/**
 * Route lookups as the kernel makes them for a packet (`ip route get fibmatch`), one
 * socket for many: `match` resolves with the route that matched (null when the packet
 * has no route: the kernel answers ENETUNREACH or similar).
 */
export class RouteLookup {
  private readonly s = open(1 << 20);
  private readonly waiting = new Map<number, (r: DecodedRoute | null) => void>();
  private seq = 1;

  constructor() {
    this.s.on(
      'message',
      guard((buf: Buffer) => {
        for (const m of messages(buf)) {
          const done = this.waiting.get(m.seq);
          if (!done) continue;
          this.waiting.delete(m.seq);
          done(m.type === RTM.NEWROUTE ? decodeRoute(buf, m.off) : null);
        }
      }, report('route lookup')),
    );
    this.s.on('error', () => {
      for (const done of this.waiting.values()) done(null);
      this.waiting.clear();
    });
  }

  match(dst: Uint8Array, mark = 0): Promise<DecodedRoute | null> {
    const seq = this.seq++ & 0x7fffffff;
    return new Promise((resolve) => {
      this.waiting.set(seq, resolve);
      this.s.send(lookupRequest(dst, mark, seq), {}, (e) => {
        if (e && this.waiting.delete(seq)) resolve(null);
      });
    });
  }

  close(): void {
    this.s.close();
  }
}

export interface RouteEvents {
  close(): void;
  /** the receive buffer the kernel granted, in bytes */
  readonly recvBuffer: number;
}

/**
 * Follow route and link changes: each datagram goes to `onDatagram` (RTM_NEWROUTE /
 * RTM_DELROUTE of both families, RTM_NEWLINK / RTM_DELLINK); `onOverflow` when events were lost.
 */
export function followRoutes(onDatagram: (buf: Buffer) => void, onOverflow: (why: string) => void, o: { batchReads?: boolean } = {}): RouteEvents {
  // a device going down takes its routes away without a route event each: links too
  const s = subscribe(
    NETLINK_ROUTE,
    [RTNLGRP.LINK, RTNLGRP.IPV4_ROUTE, RTNLGRP.IPV6_ROUTE],
    { recv: RECV_BUFFER, eventBuffer: EVENT_BUFFER, batchReads: o.batchReads ?? false, what: 'route events' },
    onDatagram,
    onOverflow,
  );
  return {
    close: () => s.close(),
    recvBuffer: s.getRecvBufferSize(),
  };
}

/**
 * Largest rtnetlink event the daemon's kernel event listener reads whole (its links,
 * addresses and rules too: a link event is about 1.5 KB, without the VF lists only a dump
 * carries); a longer one counts as lost.
 */
const KERNEL_EVENT_BUFFER = 8 << 10;

/**
 * Listen to multicast `groups` of a netlink `protocol` (NETLINK_ROUTE, NETLINK_NETFILTER):
 * each datagram to `onDatagram`; `onOverflow` when events were lost (the kernel reports
 * ENOBUFS, after which the addon may end the process: use it in a process of its own).
 * rtnetlink is read as the route copier's listener reads it (a large buffer, batched
 * reads without a peek each): its route groups bring every route event of a burst, the
 * copier's echoes included, and with a 1 MB buffer read one event at a time the listener
 * fell behind and was restarted in most bursts of 10,000 changes (bench/route-copy.ts).
 * nftables events, few and of any size, are read whole, one at a time.
 */
export function listen(protocol: number, groups: number[], onDatagram: (buf: Buffer) => void, onOverflow: (why: string) => void): { close(): void } {
  const o =
    protocol === NETLINK_ROUTE
      ? { recv: RECV_BUFFER, eventBuffer: KERNEL_EVENT_BUFFER, batchReads: true, what: 'events' }
      : { recv: 1 << 20, eventBuffer: 0, batchReads: false, what: 'events' };
  const s = subscribe(protocol, groups, o, onDatagram, onOverflow);
  return { close: () => s.close() };
}

interface Subscription {
  recv: number;
  /** read into buffers of this size (see open); 0: peek at each datagram's size */
  eventBuffer: number;
  /** see batchReads: only in a process that does nothing but listen */
  batchReads: boolean;
  /** what the events are, in the reasons given to onOverflow */
  what: string;
}

/** A socket of `protocol` subscribed to `groups`; a datagram cut short or dropped by the kernel is `onOverflow`. */
function subscribe(protocol: number, groups: number[], o: Subscription, onDatagram: (buf: Buffer) => void, onOverflow: (why: string) => void): RawSocket {
  const s = open(o.recv, o.eventBuffer, protocol);
  for (const g of groups) s.addMembership(g);
  const afterReads = o.batchReads ? batchReads() : () => {};
  s.on(
    'message',
    guard((buf: Buffer) => {
      afterReads();
      onDatagram(buf);
    }, report(o.what)),
  );
  // an event longer than the buffer (a route with very many nexthops) was cut: treat it as lost
  s.on('truncatedMessage', () => onOverflow(`${o.what}: one longer than ${o.eventBuffer} bytes`));
  s.on('error', (e) => onOverflow(e.code === 'ENOBUFS' || e.errno === 105 ? `the kernel dropped ${o.what} (receive buffer full)` : `${o.what}: ${e.message}`));
  return s;
}

/** How long a listener sleeps, at most, between reads while events trickle in. */
const READ_PAUSE_MS = 1;
const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** The `netlink` addon reads up to 32 datagrams each time the socket wakes it (binding.cc, Recvmsg). */
const ADDON_READS_PER_WAKE = 32;

/**
 * While a burst of route changes runs, the kernel makes an event every few
 * microseconds and each one wakes the listener: a wake, one read, back to sleep
 * (measured: about 10 µs of CPU per event, most of it in the kernel). Here, after
 * each turn of the event loop that read only a few events, the thread sleeps
 * READ_PAUSE_MS so that the next turn reads many at once. Only for a process that
 * does nothing but listen (it blocks the thread); the receive buffer holds some
 * thousands of events, far more than a millisecond brings.
 */
function batchReads(): () => void {
  let read = 0;
  const turn = () => {
    // after the poll phase: `read` events came in this turn of the loop. The addon reads
    // at most ADDON_READS_PER_WAKE per wake: fewer means the socket is empty for now
    if (read < ADDON_READS_PER_WAKE) Atomics.wait(sleeper, 0, 0, READ_PAUSE_MS);
    read = 0;
  };
  return () => {
    if (read++ === 0) setImmediate(turn);
  };
}

/**
 * Route and link events from a listener process of its own (route-events-child.ts):
 * resolves once it is subscribed. `onEchoes` hears how many echoes of the copier's
 * own writes (routes of `copyProtocol`) the listener has read and dropped. `onEnd`
 * when it ended without being closed (the kernel dropped events and the addon ended
 * it, or it crashed): events may have been lost.
 */
export function followRoutesIsolated(
  copyProtocol: number,
  onDatagram: (buf: Buffer) => void,
  onEnd: (why: string) => void,
  onEchoes: (count: number) => void = () => {},
): Promise<{ close(): void }> {
  const script = fileURLToPath(new URL('./route-events-child.js', import.meta.url));
  return startListenerChild(
    'the route event listener',
    [script, String(copyProtocol)],
    (closed) => {
      let pending: Buffer = Buffer.alloc(0);
      return {
        onData(chunk, ready) {
          pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
          let off = 0;
          while (pending.length - off >= 4) {
            const len = pending.readUInt32LE(off);
            if (pending.length - off - 4 < len) break;
            if (len === 0) ready();
            else if (closed()) {
              // nothing more for a closed listener
            } else if (len === 4) onEchoes(pending.readUInt32LE(off + 4));
            else onDatagram(pending.subarray(off + 4, off + 4 + len));
            off += 4 + len;
          }
          pending = pending.subarray(off);
        },
      };
    },
    onEnd,
    (child) => {
      // The listener must drain the socket even while the CPUs are busy with the very route
      // changes it reports (a burst: the kernel inserting them, the copier writing copies), or
      // the kernel drops events and a full resync follows: it runs ahead of ordinary processes.
      // Lowering the nice value takes privilege (CAP_SYS_NICE); without it, it runs at the default.
      try {
        if (child.pid !== undefined) os.setPriority(child.pid, LISTENER_NICE);
      } catch {
        // not permitted: the default priority
      }
    },
  );
}

// The route event listener, in a process of its own: the `netlink` addon ends
// the process when the kernel reports that events were dropped (ENOBUFS on a
// full receive buffer), so the listener is kept apart from the daemon, which
// sees it end, restarts it and resynchronises. It only reads and forwards
// (frames on stdout: a uint32 LE length, then the datagram), so it drains the
// socket much faster than the daemon would; the echoes of the copier's own
// writes (routes of the copy protocol) are dropped here, and it reads in
// batches (followRoutes' batchReads), which halves its CPU time in a burst.
//
// stdout is written through a socket of our own, not process.stdout: Node makes
// process.stdout a blocking pipe, so a busy daemon (the pipe full at 64 KiB)
// would stop this process from reading the netlink socket and the kernel would
// drop events. Here what the daemon has not read yet waits in memory, up to
// BACKLOG; past that the listener ends and the daemon resynchronises, as on ENOBUFS.
//
//   node route-events-child.js COPY_PROTOCOL
// A zero-length frame says the subscription is in place; a 4-byte frame holds
// the number of echoes read (and dropped) since the last such frame, which lets
// the daemon pace its writes to what this listener keeps up with.
import { childOutput } from './child-output.js';
import { followRoutes } from './rtnetlink.js';
import { messageType, nextMessage, NLMSG_HDRLEN, RT_TABLE_MAIN, RTM } from '../routecopy/codec.js';
import { rehearsalEvents } from '../routecopy/warmup.js';

const copyProtocol = Number(process.argv[2]);
const BACKLOG = 256 << 20;
const out = childOutput();
out.on('error', () => process.exit(0)); // the parent is gone
// Frames are gathered for FLUSH_MS and written together: during a burst the kernel
// makes an event every few microseconds and the socket wakes this process for almost
// each one; a write per wake would double the system calls.
const FLUSH_MS = 1;
let gathered: Buffer[] = [];
let bytes = 0;
/** echoes dropped since the last report */
let echoes = 0;
let scheduled = false;
const flush = () => {
  scheduled = false;
  if (echoes > 0) {
    // a 4-byte frame (route datagrams are never that short): how many echoes were read
    const report = Buffer.allocUnsafe(8);
    report.writeUInt32LE(4, 0);
    report.writeUInt32LE(echoes, 4);
    gathered.push(report);
    bytes += 8;
    echoes = 0;
  }
  const chunk = gathered.length === 1 ? gathered[0]! : Buffer.concat(gathered, bytes);
  gathered = [];
  bytes = 0;
  out.write(chunk);
  if (out.writableLength > BACKLOG) {
    process.stderr.write(`the daemon fell ${out.writableLength >> 20} MiB of route events behind\n`);
    process.exit(75);
  }
};
const schedule = () => {
  if (!scheduled) setTimeout(flush, FLUSH_MS);
  scheduled = true;
};
const frame = (buf: Buffer) => {
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32LE(buf.length, 0);
  schedule();
  gathered.push(head);
  bytes += 4;
  if (buf.length) {
    gathered.push(buf);
    bytes += buf.length;
  }
};

/** The number of messages in the datagram when every one is a route of the copy protocol (the copier's echoes), else 0. */
function echoesIn(buf: Buffer): number {
  let n = 0;
  for (let off = 0, next; (next = nextMessage(buf, off)) > 0; off = next) {
    const type = messageType(buf, off);
    if ((type !== RTM.NEWROUTE && type !== RTM.DELROUTE) || buf[off + NLMSG_HDRLEN + 5] !== copyProtocol) return 0;
    n++;
  }
  return n;
}

const onEvent = (buf: Buffer) => {
  const n = echoesIn(buf);
  if (n === 0) frame(buf);
  else {
    echoes += n;
    schedule();
  }
};
// The per-event paths warmed before the first burst (see routecopy/warmup.ts): synthetic
// events of main (framed) and echoes of the copies (counted) of adds and deletes, then
// forgotten, so none reaches the daemon.
for (const protocol of [copyProtocol, copyProtocol === 3 ? 4 : 3]) {
  const rehearsal = rehearsalEvents(String.fromCharCode(1, 0, 0, 0), () => true, { table: RT_TABLE_MAIN, protocol });
  for (const b of [...rehearsal.adds, ...rehearsal.deletes]) onEvent(b);
  gathered = [];
  bytes = 0;
  echoes = 0;
}
followRoutes(
  onEvent,
  (why) => {
    process.stderr.write(`${why}\n`);
    process.exit(75);
  },
  { batchReads: true },
);
frame(Buffer.alloc(0));
process.stdin.resume();
process.stdin.on('end', () => process.exit(0)); // the parent is gone

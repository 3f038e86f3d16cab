// The route event listener, in a process of its own: the `netlink` addon ends
// the process when the kernel reports that events were dropped (ENOBUFS on a
// full receive buffer), so the listener is kept apart from the daemon, which
// sees it end, restarts it and resynchronises. It only reads and forwards
// (frames on stdout: a uint32 LE length, then the datagram), so it drains the
// socket much faster than the daemon would; the echoes of the copier's own
// writes (routes of the copy protocol) are dropped here.
//
//   node route-events-child.js COPY_PROTOCOL
// A zero-length frame says the subscription is in place.
import { followRoutes } from './rtnetlink.js';
import { messages, RTM } from '../routecopy/codec.js';

const copyProtocol = Number(process.argv[2]);
const frame = (buf: Buffer) => {
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32LE(buf.length, 0);
  process.stdout.write(head);
  if (buf.length) process.stdout.write(buf);
};

/** Whether every message of the datagram is a route of the copy protocol (the copier's echo). */
function onlyEchoes(buf: Buffer): boolean {
  for (const m of messages(buf)) {
    if ((m.type !== RTM.NEWROUTE && m.type !== RTM.DELROUTE) || buf[m.off + 16 + 5] !== copyProtocol) return false;
  }
  return true;
}

followRoutes(
  (buf) => {
    if (!onlyEchoes(buf)) frame(buf);
  },
  (why) => {
    process.stderr.write(`${why}\n`);
    process.exit(75);
  },
);
frame(Buffer.alloc(0));
process.stdin.resume();
process.stdin.on('end', () => process.exit(0)); // the parent is gone

// The daemon's kernel event listener, in a process of its own (like
// route-events-child.ts: the `netlink` addon ends the process when the kernel
// reports lost events, and the daemon must survive that). It listens to link,
// address, rule and route changes (rtnetlink) and to every nftables change
// (nfnetlink), sums up what changed over 1 ms (event-codec.ts) and writes one
// JSON line per batch on stdout. The daemon reconciles on each line; when this
// process ends, it starts a new one and reconciles in full.
//
//   node kernel-events-child.js TABLES SKIP_PROTOCOL
// TABLES: comma-separated route tables whose changes matter (the providers');
// SKIP_PROTOCOL: route changes of this protocol are not reported (the route copier's own).
// The first line is {"ready":true}, once both subscriptions are in place.
import { childOutput } from './child-output.js';
import { addRtnetlink, batchIsEmpty, emptyBatch, GROUPS, NETLINK_NETFILTER, NFNLGRP_NFTABLES } from './event-codec.js';
import { listen } from './rtnetlink.js';

const tables = new Set((process.argv[2] ?? '').split(',').filter(Boolean).map(Number));
const skip = process.argv[3] ? Number(process.argv[3]) : undefined;

const out = childOutput();
out.on('error', () => process.exit(0)); // the daemon is gone

let batch = emptyBatch();
let scheduled = false;
const flush = () => {
  scheduled = false;
  if (batchIsEmpty(batch)) return;
  out.write(JSON.stringify(batch) + '\n');
  batch = emptyBatch();
};
const later = () => {
  if (!scheduled) setTimeout(flush, 1);
  scheduled = true;
};
const lost = (why: string) => {
  process.stderr.write(`${why}\n`);
  process.exit(75);
};

listen(
  0,
  Object.values(GROUPS),
  (buf) => {
    addRtnetlink(buf, batch, tables, skip);
    later();
  },
  lost,
);
listen(
  NETLINK_NETFILTER,
  [NFNLGRP_NFTABLES],
  () => {
    batch.nft = true;
    later();
  },
  lost,
);
out.write(JSON.stringify({ ready: true }) + '\n');
process.stdin.resume();
process.stdin.on('end', () => process.exit(0)); // the daemon is gone

// Kernel change notifications, summed up for the daemon: which links changed
// (up, carrier, gone), whether addresses or rules changed, which of the
// watched route tables changed, whether nftables changed. Pure decoding of
// rtnetlink and nfnetlink datagrams (the listener is kernel-events-child.ts).
import { messages, NLMSG_HDRLEN } from '../routecopy/codec.js';

interface LinkEvent {
  index: number;
  name?: string;
  up: boolean;
  carrier: boolean;
  deleted: boolean;
}

/** What changed since the last batch. */
export interface EventBatch {
  links: LinkEvent[];
  addr: boolean;
  rule: boolean;
  /** watched tables whose routes changed */
  routes: number[];
  nft: boolean;
}

export const emptyBatch = (): EventBatch => ({ links: [], addr: false, rule: false, routes: [], nft: false });
export const batchIsEmpty = (b: EventBatch): boolean => b.links.length === 0 && !b.addr && !b.rule && b.routes.length === 0 && !b.nft;

/** rtnetlink message types and multicast groups (linux/rtnetlink.h). */
const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;
const RTM_NEWADDR = 20;
const RTM_DELADDR = 21;
const RTM_NEWROUTE = 24;
const RTM_DELROUTE = 25;
const RTM_NEWRULE = 32;
const RTM_DELRULE = 33;
export const GROUPS = { LINK: 1, IPV4_IFADDR: 5, IPV4_ROUTE: 7, IPV4_RULE: 8, IPV6_IFADDR: 9, IPV6_ROUTE: 11, IPV6_RULE: 19 } as const;
/** nfnetlink: NETLINK_NETFILTER, and the group every nftables change is announced on */
export const NETLINK_NETFILTER = 12;
export const NFNLGRP_NFTABLES = 7;

const IFF_UP = 0x1;
const IFF_LOWER_UP = 0x10000;
const IFLA_IFNAME = 3;
const RTA_TABLE = 15;
const align4 = (n: number) => (n + 3) & ~3;

/** Attributes after a fixed header: calls `fn(type, offset of the payload, payload length)`. */
function eachAttr(buf: Buffer, from: number, end: number, fn: (type: number, off: number, len: number) => void): void {
  for (let a = from; a + 4 <= end;) {
    const alen = buf.readUInt16LE(a);
    if (alen < 4 || a + alen > end) return;
    fn(buf.readUInt16LE(a + 2) & 0x3fff, a + 4, alen - 4);
    a += align4(alen);
  }
}

/** Add the rtnetlink datagram's changes to `into`; route changes only for `tables`, and not those of `skipProtocol` (the route copier's). */
export function addRtnetlink(buf: Buffer, into: EventBatch, tables: ReadonlySet<number>, skipProtocol?: number): void {
  for (const m of messages(buf)) {
    const h = m.off + NLMSG_HDRLEN;
    const end = m.off + m.len;
    switch (m.type) {
      case RTM_NEWLINK:
      case RTM_DELLINK: {
        if (end < h + 16) break;
        const index = buf.readInt32LE(h + 4);
        const flags = buf.readUInt32LE(h + 8);
        let name: string | undefined;
        eachAttr(buf, h + 16, end, (t, off, len) => {
          if (t === IFLA_IFNAME) name = buf.toString('latin1', off, off + len).replace(/\0+$/, '');
        });
        const deleted = m.type === RTM_DELLINK;
        const ev: LinkEvent = {
          index,
          up: !deleted && (flags & IFF_UP) !== 0,
          carrier: !deleted && (flags & IFF_LOWER_UP) !== 0,
          deleted,
          ...(name !== undefined ? { name } : {}),
        };
        const i = into.links.findIndex((l) => l.index === index);
        if (i >= 0)
          into.links[i] = ev; // the latest state of a link is what counts
        else into.links.push(ev);
        break;
      }
      case RTM_NEWADDR:
      case RTM_DELADDR:
        into.addr = true;
        break;
      case RTM_NEWRULE:
      case RTM_DELRULE:
        into.rule = true;
        break;
      case RTM_NEWROUTE:
      case RTM_DELROUTE: {
        if (end < h + 12) break;
        let table = buf[h + 4]!;
        const protocol = buf[h + 5]!;
        if (skipProtocol !== undefined && protocol === skipProtocol) break;
        eachAttr(buf, h + 12, end, (t, off) => {
          if (t === RTA_TABLE) table = buf.readUInt32LE(off);
        });
        if (tables.has(table) && !into.routes.includes(table)) into.routes.push(table);
        break;
      }
    }
  }
}

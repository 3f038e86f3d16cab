// Which uplink did a flow really take? The internet host counts new IPv4
// connections per arrival interface, in its own nftables table. Flows are
// sent one at a time, so the interface whose counter moved between two
// snapshots is the uplink that carried the flow. Read as JSON only.
import { InternalError } from '../errors/index.js';
import { nftIn, nftJsonIn } from '../kernel/netns.js';

const TABLE = 'lab';
const IFNAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;

/** interface → packets counted (ct state new, so each SYN or first datagram) */
export type CounterSnapshot = Record<string, number>;

export interface UplinkCounter {
  snapshot(): Promise<CounterSnapshot>;
}

/** The ruleset; the comment on each rule names its interface so the JSON can be read back unambiguously. */
function counterScript(ifaces: string[]): string {
  for (const i of ifaces) if (!IFNAME_RE.test(i)) throw new InternalError(`bad interface name ${JSON.stringify(i)}`);
  const rules = ifaces.map((i) => `    iifname "${i}" meta nfproto ipv4 ct state new counter comment "${i}"`);
  // Create-then-delete-then-define in one transaction: replaces the table atomically whether or not it exists.
  return [
    `table inet ${TABLE} {}`,
    `delete table inet ${TABLE}`,
    `table inet ${TABLE} {`,
    '  chain arrivals {',
    // after conntrack (-200), so ct state is known
    '    type filter hook prerouting priority 0; policy accept;',
    ...rules,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Install the counters in namespace `ns` for the given arrival interfaces. */
export async function installUplinkCounter(ns: string, ifaces: string[]): Promise<UplinkCounter> {
  await nftIn(ns, counterScript(ifaces));
  return { snapshot: () => readCounters(ns) };
}

interface NftRule {
  rule?: { table?: string; comment?: string; expr?: { counter?: { packets?: number } }[] };
}

/** Pure: the counters from `nft -j list table inet lab`. */
function countersFromJson(json: { nftables?: NftRule[] }): CounterSnapshot {
  const out: CounterSnapshot = {};
  for (const item of json.nftables ?? []) {
    const r = item.rule;
    if (!r || r.table !== TABLE || !r.comment) continue;
    const c = r.expr?.find((e) => e.counter !== undefined)?.counter;
    out[r.comment] = c?.packets ?? 0;
  }
  return out;
}

async function readCounters(ns: string): Promise<CounterSnapshot> {
  return countersFromJson(await nftJsonIn<{ nftables?: NftRule[] }>(ns, ['list', 'table', 'inet', TABLE]));
}

/**
 * The interfaces whose counters moved between two snapshots. Exactly one for a
 * flow that arrived; none when it never got there; two would mean flows overlapped.
 */
export function arrivedOn(before: CounterSnapshot, after: CounterSnapshot): string[] {
  return Object.keys(after).filter((i) => (after[i] ?? 0) > (before[i] ?? 0));
}

/** Map arrival interfaces back to uplink names via the topology's uplink → interface table. */
export function uplinksOf(ifaces: string[], arrival: Record<string, string>): string[] {
  return ifaces.map((i) => Object.entries(arrival).find(([, dev]) => dev === i)?.[0] ?? i);
}

// Send flows through a running lab one at a time and judge each one by where
// it arrived (the uplink counter) and as whom (the echo server's answer).
import { nsOf } from './build.js';
import type { LabInstance } from './instances.js';
import { probe } from './servers.js';
import type { Flow, Topology } from './topology.js';
import { arrivedOn, uplinksOf, type UplinkCounter } from './uplink-counter.js';

export interface FlowRow {
  flow: string;
  /** uplink(s) the flow arrived through, "a+b" if more than one moved; null if it never arrived */
  uplink: string | null;
  /** source address the server saw; null without an answer */
  seenSource: string | null;
  expectedUplink: string;
  expectedSource: string;
  ok: boolean;
  /** why there was no answer (timeout, ECONNREFUSED, …) */
  error?: string;
}

async function runFlow(inst: LabInstance, topology: Topology, counter: UplinkCounter, flow: Flow): Promise<FlowRow> {
  const before = await counter.snapshot();
  const res = await probe(nsOf(inst, flow.from), {
    proto: flow.proto,
    host: flow.to,
    port: flow.port,
    ...(flow.bind ? { bind: flow.bind } : {}),
  });
  const after = await counter.snapshot();
  const uplinks = uplinksOf(arrivedOn(before, after), topology.internet.arrival);
  const uplink = uplinks.length > 0 ? uplinks.join('+') : null;
  const seenSource = 'seen' in res ? res.seen : null;
  const row: FlowRow = {
    flow: flow.name,
    uplink,
    seenSource,
    expectedUplink: flow.expect.uplink,
    expectedSource: flow.expect.source,
    ok: uplink === flow.expect.uplink && seenSource === flow.expect.source,
  };
  if ('error' in res) row.error = res.error;
  return row;
}

/** Strictly one after another: the counters can only attribute one flow at a time. */
export async function runFlows(inst: LabInstance, topology: Topology, counter: UplinkCounter, flows: Flow[], signal?: AbortSignal): Promise<FlowRow[]> {
  const rows: FlowRow[] = [];
  for (const f of flows) {
    if (signal?.aborted) break;
    rows.push(await runFlow(inst, topology, counter, f));
  }
  return rows;
}

export function formatFlowTable(rows: FlowRow[]): string {
  const head = ['flow', 'uplink', 'source seen', 'expected', 'result'];
  const body = rows.map((r) => [
    r.flow,
    r.uplink ?? '-',
    r.seenSource ?? `- (${r.error ?? 'no answer'})`,
    `${r.expectedUplink} ${r.expectedSource}`,
    r.ok ? 'ok' : 'WRONG',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

// `multihome lab demo`: build the lab, start the servers and counters, let the
// caller configure the router, send the flows, print the verdict, and always
// tear the lab down again — on success, on error, and on Ctrl-C / SIGTERM.
import { labDown, labUp, newLabId, nsOf } from './build.js';
import { formatFlowTable, runFlows, type FlowRow } from './flows.js';
import { SEED_MULTIHOME_FLOWS, SEED_TOPOLOGY } from './seed.js';
import { startEchoServer } from './servers.js';
import type { Flow, Topology } from './topology.js';
import { installUplinkCounter } from './uplink-counter.js';

type DemoRow = FlowRow;

export interface DemoOptions {
  /** configure the router; runs after the lab is up and before any flow */
  applyInRouter: (routerNetns: string) => Promise<void>;
  log: (line: string) => void;
  topology?: Topology;
  flows?: Flow[];
  /** lab id; random when absent */
  id?: string;
  /** install SIGINT/SIGTERM handlers that tear down and exit 130 (default true) */
  handleSignals?: boolean;
}

export interface DemoResult {
  ok: boolean;
  id: string;
  rows: DemoRow[];
}

export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const topology = opts.topology ?? SEED_TOPOLOGY;
  const flows = opts.flows ?? SEED_MULTIHOME_FLOWS;
  const id = opts.id ?? newLabId();
  const abort = new AbortController();
  const log = opts.log;

  // One teardown, however many times it is asked for (finally + a signal).
  let teardown: Promise<void> | undefined;
  const tearDown = () =>
    (teardown ??= labDown(id).then(
      (gone) => log(`lab ${id}: removed ${gone.length} namespaces`),
      (e: unknown) => log(`lab ${id}: teardown failed: ${e instanceof Error ? e.message : String(e)} (run: multihome lab down ${id})`),
    ));

  let building: Promise<unknown> = Promise.resolve();
  const onSignal = (sig: NodeJS.Signals) => {
    log(`${sig}: tearing down lab ${id}`);
    abort.abort();
    // labUp cleans up after itself when aborted; wait for it, then remove whatever exists.
    void building
      .catch(() => undefined)
      .then(tearDown)
      .finally(() => process.exit(130));
  };
  const handle = opts.handleSignals ?? true;
  if (handle) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }

  try {
    log(`lab ${id}: building ${topology.name}`);
    const up = labUp(topology, { id, signal: abort.signal });
    building = up;
    const inst = await up;
    const inet = topology.internet;
    await startEchoServer(inst, inet.role);
    const counter = await installUplinkCounter(nsOf(inst, inet.role), Object.values(inet.arrival));
    log(`lab ${id}: applying in ${nsOf(inst, topology.routerRole)}`);
    await opts.applyInRouter(nsOf(inst, topology.routerRole));
    const rows = await runFlows(inst, topology, counter, flows, abort.signal);
    log(formatFlowTable(rows));
    const ok = rows.length === flows.length && rows.every((r) => r.ok);
    log(ok ? 'all flows took the expected uplink and source' : 'SOME FLOWS ARE WRONG');
    return { ok, id, rows };
  } finally {
    await tearDown(); // shared with a signal handler that may already be running it
    if (handle) {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    }
  }
}

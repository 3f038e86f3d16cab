// Runs the selftest scenarios (scenario.ts): each in a fresh pair of network
// namespaces (`mh-st-<random>` and its peer, always deleted), its setup
// commands as the script gives them, then at each phase the kernel's
// `ip route get` answers (one batch, test/differential/oracle.ts) and the
// simulator's decisions on the state read back from that namespace.
import { randomBytes } from 'node:crypto';
import { run, runOk } from '../../src/kernel/exec.js';
import { addNetns } from '../../src/kernel/netns.js';
import { explain } from '../../src/sim/explain.js';
import type { Decision } from '../../src/sim/types.js';
import type { State } from '../../src/state/types.js';
import {
  baselineIpv4Conf,
  batchOk,
  line,
  liveNamespaces,
  readWorldState,
  removeWorld,
  routeGetRaw,
  routeGetWords,
  settleIpv6,
  type RawAnswer,
} from '../differential/oracle.js';
import { expectDiff, queryDiff } from './agree.js';
import type { Check, Query, Scenario, Step } from './scenario.js';

export interface QueryResult {
  query: Query;
  kernel: RawAnswer;
  sim: Decision | Error;
  /** null: the simulator gives the kernel's answer */
  diff: string | null;
}

export interface CheckResult {
  scenario: Scenario;
  check: Check;
  results: QueryResult[];
  /** null: the kernel answers as the script expects (or the script states nothing) */
  unexpected: string | null;
  /** the state the simulator was given */
  state: State;
}

interface Names {
  ns: string;
  peer: string;
}

type Batch =
  | { target: 'ns' | 'peer'; family: string | null; lines: string[]; addresses: boolean }
  | { target: 'sysctl'; sysctls: string[] }
  | { target: 'carrier'; dev: string; on: boolean };

const isAddressAdd = (words: string[]) => /^addr(ess)?$/.test(words[0]!) && words[1] === 'add';

/**
 * Consecutive steps for the same namespace and family, as one `ip -batch`;
 * address adds apart from the rest, so that the runner can wait for them.
 */
function batches(steps: Step[], names: Names): Batch[] {
  const out: Batch[] = [];
  for (const s of steps) {
    if ('sysctl' in s) {
      out.push({ target: 'sysctl', sysctls: s.sysctl.map(([k, v]) => `${k}=${v}`) });
      continue;
    }
    if ('carrier' in s) {
      out.push({ target: 'carrier', dev: s.carrier[0], on: s.carrier[1] });
      continue;
    }
    const [target, argv] = 'ip' in s ? (['ns', s.ip] as const) : (['peer', s.peer] as const);
    const family = /^-[46]$/.test(argv[0]!) ? argv[0]! : null;
    const words = (family ? argv.slice(1) : argv).map((w) => (w === 'PEER' ? names.peer : w));
    const last = out[out.length - 1];
    const addresses = isAddressAdd(words);
    if (last && last.target === target && last.family === family && last.addresses === addresses) last.lines.push(line(words));
    else out.push({ target, family, lines: [line(words)], addresses });
  }
  return out;
}

/** Wait until linkwatch has processed a carrier change: the operstate follows it (and the routes' linkdown flags with it). */
async function carrierSettled(ns: string, dev: string, on: boolean): Promise<void> {
  for (let i = 0; i < 250; i++) {
    const [link] = JSON.parse(await runOk(['ip', '-n', ns, '-j', 'link', 'show', 'dev', dev])) as { operstate?: string }[];
    if ((link?.operstate === 'UP') === on) return;
    await new Promise((res) => setTimeout(res, 20));
  }
  throw new Error(`in ${ns}: ${dev} does not go ${on ? 'up' : 'down'}`);
}

/**
 * An IPv6 address is finished in a work item after `address add` returns (its
 * local route, a peer address's route: addrconf_dad_completed, even with
 * nodad): a route via the peer added at once may find no route yet. Wait
 * until every usable IPv6 address has its local route.
 */
async function ipv6AddressesReady(ns: string): Promise<void> {
  type Addr = { addr_info?: { local: string; tentative?: boolean; dadfailed?: boolean }[] };
  for (let i = 0; i < 250; i++) {
    const links = JSON.parse(await runOk(['ip', '-n', ns, '-6', '-j', 'addr', 'show'])) as Addr[];
    const routes = JSON.parse(await runOk(['ip', '-n', ns, '-6', '-j', 'route', 'show', 'table', 'local'])) as { dst: string }[];
    const local = new Set(routes.map((r) => r.dst));
    const usable = links.flatMap((l) => l.addr_info ?? []).filter((a) => !a.tentative && !a.dadfailed);
    if (usable.every((a) => local.has(a.local))) return;
    await new Promise((res) => setTimeout(res, 20));
  }
  throw new Error(`in ${ns}: IPv6 addresses without their local routes`);
}

async function runSteps(steps: Step[], names: Names): Promise<void> {
  for (const b of batches(steps, names)) {
    if (b.target === 'sysctl') {
      await runOk(['sysctl', '-q', '-w', ...b.sysctls], { netns: names.ns });
      continue;
    }
    if (b.target === 'carrier') {
      await carrierSettled(names.ns, b.dev, b.on);
      continue;
    }
    const ns = b.target === 'ns' ? names.ns : names.peer;
    // `ip -batch` lines take no options: the family goes on the command line.
    if (b.family) {
      const r = await run(['ip', '-n', ns, b.family, '-batch', '-'], { input: b.lines.map((l) => `${l}\n`).join('') });
      if (r.code !== 0) throw new Error(`in ${ns}: ip ${b.family} -batch failed: ${r.stderr.trim()}\n${b.lines.join('\n')}`);
    } else {
      await batchOk(ns, b.lines);
    }
    if (b.addresses && b.target === 'ns') await ipv6AddressesReady(ns);
  }
}

/**
 * The kernel state a dump does not show, read the way `ip route get` reveals
 * it: until a rule has been added or deleted in the namespace
 * (net->ipv4.fib_has_custom_rules), tables local and main are one trie and a
 * local address is answered from table main.
 */
async function hiddenState(ns: string): Promise<State['hidden']> {
  const [answer] = await routeGetRaw(ns, [['route', 'get', '127.0.0.1']]);
  if (!answer?.ok) throw new Error(`in ${ns}: route get 127.0.0.1 failed`);
  return { customRules4: Number(answer.json.table) !== 254 };
}

async function createNamespaces(names: Names): Promise<void> {
  liveNamespaces.add(names.ns);
  liveNamespaces.add(names.peer);
  await addNetns(names.ns);
  await addNetns(names.peer);
  // The script's namespace has the kernel's IPv4 defaults (oracle.ts), no DAD so addresses are
  // usable at once; the peer only holds the far ends of the veths.
  await runOk(['sysctl', '-q', '-w', ...baselineIpv4Conf(), 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.accept_dad=0'], { netns: names.ns });
  await runOk(['sysctl', '-q', '-w', 'net.ipv6.conf.default.disable_ipv6=1', 'net.ipv6.conf.all.disable_ipv6=1'], { netns: names.peer });
  await batchOk(names.ns, ['link set dev lo up']);
  await batchOk(names.peer, ['link set dev lo up']);
}

const queryWords = (q: Query) => {
  const w = routeGetWords(q.packet);
  return q.fibmatch ? ['route', 'get', 'fibmatch', ...w.slice(2)] : w;
};

function simulate(state: State, q: Query): Decision | Error {
  try {
    return explain(state, q.packet);
  } catch (e) {
    return e as Error;
  }
}

/** Install a scenario, run its phases, always delete its namespaces. */
export async function runScenario(sc: Scenario): Promise<CheckResult[]> {
  const id = randomBytes(5).toString('hex');
  const names = { ns: `mh-st-${id}`, peer: `mh-st-${id}-p` };
  const out: CheckResult[] = [];
  try {
    await createNamespaces(names);
    for (const phase of sc.phases) {
      await runSteps(phase.setup, names);
      await settleIpv6(names.ns);
      const state: State = { ...(await readWorldState(names.ns)), hidden: await hiddenState(names.ns) };
      const queries = phase.checks.flatMap((c) => c.queries);
      const answers = await routeGetRaw(names.ns, queries.map(queryWords));
      let next = 0;
      for (const check of phase.checks) {
        const results = check.queries.map((query): QueryResult => {
          const kernel = answers[next++]!;
          const sim = simulate(state, query);
          return { query, kernel, sim, diff: queryDiff(query, kernel, sim) };
        });
        const unexpected = check.expect
          ? expectDiff(
              check.expect,
              results.map((r) => r.kernel),
            )
          : null;
        out.push({ scenario: sc, check, results, unexpected, state });
      }
    }
  } finally {
    await removeWorld(names);
  }
  return out;
}

/** Every scenario, `concurrency` at a time (each finishes, and deletes its namespaces, before an error is passed on). */
export async function runScenarios(scenarios: Scenario[], concurrency = 4): Promise<CheckResult[]> {
  const results: CheckResult[][] = Array.from({ length: scenarios.length }, () => []);
  let next = 0;
  const worker = async () => {
    while (next < scenarios.length) {
      const i = next++;
      results[i] = await runScenario(scenarios[i]!);
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: concurrency }, worker));
  const err = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (err) throw err.reason;
  return results.flat();
}

/** A check that failed, as text: the queries, the kernel's and the simulator's answers, the trace. */
export function formatCheck(r: CheckResult): string {
  const lines = [`${r.scenario.script} ${r.scenario.section}: ${r.check.name}`];
  if (r.unexpected) lines.push(`  the script expects otherwise: ${r.unexpected}`);
  for (const q of r.results.filter((x) => x.diff)) {
    lines.push(`  ip -${q.query.packet.family} route get ${q.query.text}`, `    differs: ${q.diff}`, `    kernel: ${JSON.stringify(q.kernel)}`);
    if (!(q.sim instanceof Error))
      lines.push(
        ...q.sim.trace.map((t) => `    ${t.stage}: ${t.text}`),
        `    simulator: ${q.sim.outcome} ${q.sim.error ?? ''} table ${q.sim.table} ${q.sim.route ?? ''} src ${q.sim.src}`,
      );
  }
  return lines.join('\n');
}

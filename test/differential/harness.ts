// The differential run shared by the lab test and bench/differential.ts:
// worlds from seeds, packets per world, kernel answers vs the simulator.
import fs from 'node:fs';
import path from 'node:path';
import { routeArgs, ruleArgs } from '../../src/state/format.js';
import type { Packet } from '../../src/sim/types.js';
import type { State } from '../../src/state/types.js';
import { compareCase, type CaseResult, type SimAnswer } from './compare.js';
import { generatePackets, generateWorld, worldSeed, type WorldSpec } from './generate.js';
import { routeGet, routeGetWords, withWorld, type KernelAnswer, type Refusal } from './oracle.js';

export interface Disagreement {
  worldSeed: number;
  packet: Packet;
  routeGet: string;
  kernel: KernelAnswer;
  sim: SimAnswer;
  diff: string;
  trace: string[];
}

export interface WorldResult {
  seed: number;
  cases: number;
  refused: Refusal[];
  disagreements: Disagreement[];
  /** the world as the kernel held it (for regressions) */
  state: State;
  spec: WorldSpec;
}

/** Install one world, ask the kernel and the simulator about its packets. */
export async function runWorld(seed: number, packets: number): Promise<WorldResult> {
  const spec = generateWorld(seed);
  const pkts = generatePackets(spec, seed, packets);
  return runSpec(spec, pkts);
}

export async function runSpec(spec: WorldSpec, pkts: Packet[]): Promise<WorldResult> {
  return withWorld(spec, async (w) => {
    const answers = await routeGet(w.ns, pkts);
    const disagreements: Disagreement[] = [];
    answers.forEach((k, i) => {
      const r: CaseResult = compareCase(w.state, pkts[i]!, k);
      if (r.diff)
        disagreements.push({
          worldSeed: spec.seed,
          packet: r.packet,
          routeGet: routeGetWords(r.packet).join(' '),
          kernel: k,
          sim: r.sim,
          diff: r.diff,
          trace: r.trace,
        });
    });
    return { seed: spec.seed, cases: pkts.length, refused: w.refused, disagreements, state: w.state, spec };
  });
}

export interface RunSummary {
  worlds: number;
  cases: number;
  disagreements: Disagreement[];
  refused: number;
  ms: number;
}

/** Run `worlds` worlds of a run seed, `concurrency` at a time. */
export async function runMany(
  runSeed: number,
  worlds: number,
  packetsPerWorld: number,
  concurrency = 2,
  onWorld?: (r: WorldResult, done: number) => void,
): Promise<RunSummary> {
  const t0 = Date.now();
  let next = 0;
  let done = 0;
  const out: RunSummary = { worlds, cases: 0, disagreements: [], refused: 0, ms: 0 };
  let failed = false;
  const worker = async () => {
    while (next < worlds && !failed) {
      const n = next++;
      try {
        const r = await runWorld(worldSeed(runSeed, n), packetsPerWorld);
        out.cases += r.cases;
        out.refused += r.refused.length;
        out.disagreements.push(...r.disagreements);
        done++;
        onWorld?.(r, done);
      } catch (e) {
        failed = true;
        throw new Error(`world ${worldSeed(runSeed, n)} (run seed ${runSeed}, world ${n}): ${(e as Error).message}`, { cause: e });
      }
    }
  };
  // Every worker finishes (and deletes its namespaces) before an error is passed on.
  const results = await Promise.allSettled(Array.from({ length: concurrency }, worker));
  const err = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (err) throw err.reason;
  out.ms = Date.now() - t0;
  return out;
}

/** A disagreement as text: world seed, packet, kernel answer, simulator answer, trace. */
export function formatDisagreement(d: Disagreement): string {
  return [
    `world ${d.worldSeed}: ip route get ${d.routeGet.replace(/^route get /, '')}`,
    `  differs: ${d.diff}`,
    `  kernel:    ${JSON.stringify(d.kernel)}`,
    `  simulator: ${JSON.stringify(d.sim)}`,
    ...d.trace.map((t) => `    ${t}`),
  ].join('\n');
}

/** The commands that build a world, for a human reproducing it by hand. */
export function worldScript(spec: WorldSpec): string[] {
  return [
    ...spec.links.map((l) => `# ${l.name}: carrier ${l.carrier ? 'up' : 'down'}, group ${l.group}, ${[...l.v4, ...l.v6].join(' ') || 'no address'}`),
    ...spec.sysctls.map(([k, v]) => `sysctl -w ${k}=${v}`),
    ...spec.routes.map((r) => `ip -${r.family} route ${r.append ? 'append' : 'add'} ${routeArgs(r).join(' ')}`),
    ...(spec.moveLocalRule ? ['ip -4 rule del pref 0 lookup local', 'ip -6 rule del pref 0 lookup local'] : []),
    ...spec.rules.map((r) => `ip -${r.family} rule add ${ruleArgs(r).join(' ')}`),
    ...spec.links.filter((l) => l.adminDown).map((l) => `ip link set dev ${l.name} down`),
  ];
}

// ---- regressions: every disagreement ever found, as a small world + packet + the kernel's answer

export interface Regression {
  name: string;
  /** what was wrong and which kernel code decides it */
  note: string;
  world: WorldSpec;
  packet: Packet;
  /** the kernel's answer when the case was recorded */
  kernel: KernelAnswer;
  /**
   * For a case whose answer depends on the multipath hash (its seed is random per boot
   * unless pinned): every answer the kernel may give, each of which the simulator must accept.
   */
  kernelOneOf?: KernelAnswer[];
  /** the world as the kernel held it, so the simulator side runs without root */
  state: State;
}

export const REGRESSION_DIR = 'test/differential/regressions';

export function loadRegressions(root: string): Regression[] {
  const dir = path.join(root, REGRESSION_DIR);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Regression);
}

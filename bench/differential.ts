// The differential harness at scale: `node dist/bench/differential.js
// --cases 100000 --seed N [--per-world 150] [--jobs 2] [--out FILE]
// [--shrink DIR]`. Prints agreement and cases/s; writes every disagreement
// (world seed, packet, kernel answer, simulator answer, trace) to FILE. With
// --shrink, the first disagreement of each world is shrunk to a small world
// and written to DIR as a regression case: fix the simulator, fill in the
// note, and move it to test/differential/regressions/. Needs root: each world
// lives in its own `mh-diff-*` namespaces, deleted afterwards.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { formatDisagreement, runMany, worldScript, type Disagreement, type Regression } from '../test/differential/harness.js';
import { generateWorld } from '../test/differential/generate.js';
import { liveNamespaces } from '../test/differential/oracle.js';
import { shrink, stillDisagrees } from '../test/differential/shrink.js';

// Interrupted: delete the namespaces of the worlds in flight before leaving.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    for (const ns of liveNamespaces) spawnSync('ip', ['netns', 'del', ns]);
    process.exit(130);
  });
}

function arg(name: string, fallback: number): number;
function arg(name: string, fallback: string): string;
function arg(name: string, fallback: number | string): number | string {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0 || i + 1 >= process.argv.length) return fallback;
  const v = process.argv[i + 1]!;
  return typeof fallback === 'number' ? Number(v) : v;
}

async function main() {
  if (process.getuid?.() !== 0) {
    console.error('differential: needs root (it creates network namespaces)');
    process.exit(2);
  }
  const cases = arg('cases', 100_000);
  const seed = arg('seed', Date.now() % 1_000_000);
  const perWorld = arg('per-world', 150);
  const jobs = arg('jobs', 2);
  const out = arg('out', `differential-${seed}.txt`);
  const worlds = Math.ceil(cases / perWorld);
  console.log(`differential: seed ${seed}, ${worlds} worlds × ${perWorld} packets, ${jobs} at a time`);
  let last = Date.now();
  const summary = await runMany(seed, worlds, perWorld, jobs, (r, done) => {
    if (Date.now() - last > 5000 || done === worlds) {
      last = Date.now();
      process.stdout.write(`  ${done}/${worlds} worlds\r`);
    }
  });
  const agree = summary.cases - summary.disagreements.length;
  const pct = ((100 * agree) / summary.cases).toFixed(3);
  console.log(
    `\n${summary.cases} cases in ${(summary.ms / 1000).toFixed(1)} s (${Math.round((summary.cases * 1000) / summary.ms)} cases/s); agreement ${pct}% (${summary.disagreements.length} disagreements); ${summary.refused} routes/rules refused by the kernel`,
  );
  const bySeed = new Map<number, number>();
  for (const d of summary.disagreements) bySeed.set(d.worldSeed, (bySeed.get(d.worldSeed) ?? 0) + 1);
  const text = [
    `seed ${seed}: ${summary.cases} cases, ${summary.disagreements.length} disagreements`,
    '',
    ...summary.disagreements.map(formatDisagreement),
    '',
    ...[...bySeed.keys()].flatMap((s) => [`# world ${s}`, ...worldScript(generateWorld(s)), '']),
  ].join('\n');
  fs.writeFileSync(out, `${text}\n`);
  console.log(`disagreements written to ${out}`);
  const shrinkDir = arg('shrink', '');
  if (shrinkDir && summary.disagreements.length > 0) await shrinkAll(summary.disagreements, shrinkDir);
  process.exit(summary.disagreements.length === 0 ? 0 : 1);
}

async function shrinkAll(all: Disagreement[], dir: string) {
  fs.mkdirSync(dir, { recursive: true });
  const firstPerWorld = [...new Map(all.map((d) => [d.worldSeed, d])).values()];
  for (const d of firstPerWorld) {
    const r = await shrink(generateWorld(d.worldSeed), d.packet, stillDisagrees(d.packet, d.kernel));
    const c: Regression = {
      name: `world-${d.worldSeed}`,
      note: `TODO: what the simulator got wrong (${d.diff}) and the kernel code that decides it`,
      world: r.spec,
      packet: d.packet,
      kernel: r.kernel,
      state: r.state,
    };
    const file = path.join(dir, `world-${d.worldSeed}.json`);
    fs.writeFileSync(file, `${JSON.stringify(c, null, 1)}\n`);
    console.log(`shrunk to ${r.spec.rules.length} rules, ${r.spec.routes.length} routes, ${r.spec.links.length} interfaces in ${r.tries} tries: ${file}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});

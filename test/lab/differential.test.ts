// The kernel is the oracle for the simulator (issue 3): random worlds are
// installed in throw-away namespaces, `ip route get` answers for thousands of
// packets, and src/sim must give the same outcome, table, device and gateway.
// A fixed seed keeps the CI sample stable; bench/differential.ts runs the same
// harness at scale with any seed. Every disagreement ever found is a fixed
// case under test/differential/regressions/, run here against the kernel too.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareCase } from '../differential/compare.js';
import { formatDisagreement, loadRegressions, runMany, worldScript } from '../differential/harness.js';
import { probe } from '../differential/shrink.js';
import { canRunLab } from '../helpers/lab.js';
import { repoRoot } from '../helpers/paths.js';

const SEED = 20260527;
const WORLDS = 80;
const PACKETS_PER_WORLD = 125;

test(`differential: the simulator agrees with ip route get (${WORLDS} worlds × ${PACKETS_PER_WORLD} packets, seed ${SEED})`, async (t) => {
  const why = canRunLab();
  if (why) return t.skip(why);
  const r = await runMany(SEED, WORLDS, PACKETS_PER_WORLD, 2);
  t.diagnostic(`${r.cases} cases in ${(r.ms / 1000).toFixed(1)} s; ${r.refused} routes/rules refused by the kernel and left out`);
  assert.ok(r.cases >= 10_000, `${r.cases} cases`);
  assert.equal(r.disagreements.length, 0, `${r.disagreements.length} disagreements:\n${r.disagreements.map(formatDisagreement).join('\n')}`);
});

for (const c of loadRegressions(repoRoot)) {
  test(`differential regression ${c.name}: the kernel and the simulator still give the recorded answer`, async (t) => {
    const why = canRunLab();
    if (why) return t.skip(why);
    const { state, kernel } = await probe(c.world, c.packet);
    const world = worldScript(c.world).join('\n');
    // a hash-dependent case lists every answer the kernel may give (whatever the hash seed)
    const expected = c.kernelOneOf ?? [c.kernel];
    assert.ok(
      expected.some((k) => JSON.stringify(k) === JSON.stringify(kernel)),
      `the kernel's answer changed (${c.note})\nkernel: ${JSON.stringify(kernel)}\nrecorded: ${expected.map((k) => JSON.stringify(k)).join(' or ')}\n${world}`,
    );
    const r = compareCase(state, c.packet, kernel);
    assert.equal(r.diff, null, `${c.note}\nkernel: ${JSON.stringify(kernel)}\nsimulator: ${JSON.stringify(r.sim)}\n${r.trace.join('\n')}\n${world}`);
  });
}

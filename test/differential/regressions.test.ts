// Every disagreement the differential test ever found, as a fixed case: a
// small world, a packet and the kernel's answer. Here the simulator runs on
// the world as the kernel held it (no root needed); test/lab/differential.test.ts
// also installs each world and asks the kernel again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { repoRoot } from '../helpers/paths.js';
import { compareCase } from './compare.js';
import { loadRegressions } from './harness.js';

const cases = loadRegressions(repoRoot);

test('the regression cases are there', () => {
  assert.ok(cases.length > 0, 'test/differential/regressions/*.json');
});

for (const c of cases) {
  test(`regression ${c.name}: the simulator gives the kernel's answer`, () => {
    for (const kernel of c.kernelOneOf ?? [c.kernel]) {
      const r = compareCase(c.state, c.packet, kernel);
      assert.equal(r.diff, null, `${c.note}\nkernel: ${JSON.stringify(kernel)}\nsimulator: ${JSON.stringify(r.sim)}\n${r.trace.join('\n')}`);
    }
  });
}

// Issue 13: `explain` agrees with the kernel's own selftests. The `ip route get`
// checks of tools/testing/selftests/net/fib_rule_tests.sh and fib_tests.sh
// (cases-fib-rule.ts, cases-fib.ts), and the gaps the issue names
// (cases-gaps.ts), are run against the kernel in throw-away namespaces and
// against the simulator on the state read back: every answer must agree, and
// the kernel must answer as the script expects where the script says.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canRunLab } from '../helpers/lab.js';
import { FIB_RULE_TESTS } from './cases-fib-rule.js';
import { FIB_TESTS } from './cases-fib.js';
import { GAPS } from './cases-gaps.js';
import { formatCheck, runScenarios, type CheckResult } from './run.js';
import type { Scenario } from './scenario.js';

const SUITES: [string, Scenario[]][] = [
  ['fib_rule_tests', FIB_RULE_TESTS],
  ['fib_tests', FIB_TESTS],
  ['issue 13 gaps', GAPS],
];

for (const [name, scenarios] of SUITES) {
  test(`${name}: the kernel and the simulator agree on every transcribed ip route get check`, async (t) => {
    const why = canRunLab();
    if (why) return t.skip(why);
    const t0 = Date.now();
    const results: CheckResult[] = await runScenarios(scenarios);
    const agree = results.filter((r) => r.results.every((q) => q.diff === null));
    const expected = results.filter((r) => r.unexpected === null);
    const queries = results.reduce((n, r) => n + r.results.length, 0);
    t.diagnostic(
      `${name}: ${results.length} cases, ${agree.length} agree (${queries} lookups); the kernel answers ${expected.length} as the script expects (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
    );
    for (const r of results.filter((x) => x.unexpected !== null && x.check.newerKernel))
      t.diagnostic(`  not as the script expects: ${r.check.name} (${r.check.newerKernel})`);
    // Only a fix this kernel predates excuses the kernel from the script's expectation; the simulator must always agree with the kernel.
    const bad = results.filter((r) => (r.unexpected !== null && !r.check.newerKernel) || r.results.some((q) => q.diff !== null));
    assert.equal(bad.length, 0, bad.map(formatCheck).join('\n'));
  });
}

// Golden tests: config → desired State (rules, routes, sysctls, the exact nft
// script) and State × State → Plan, for the seed and configs unlike it.
// Regenerate after an intended change with UPDATE_GOLDEN=1 and review the diff.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { plan, isEmpty } from '../../src/apply/plan.js';
import { describePlan } from '../../src/apply/render.js';
import { ownershipOf } from '../../src/apply/session.js';
import { compile, type SystemFacts } from '../../src/compile/index.js';
import { parseConfig } from '../../src/config/parse.js';
import { emptyState, type State } from '../../src/state/types.js';
import { asCurrent } from '../helpers/current.js';
import { repoPath } from '../helpers/paths.js';

const casesDir = repoPath('test', 'golden', 'cases');
const update = process.env.UPDATE_GOLDEN === '1';

function golden(file: string, actual: string): void {
  if (update || !fs.existsSync(file)) {
    fs.writeFileSync(file, actual);
    if (!update) assert.fail(`golden file ${path.relative(casesDir, file)} was missing and has been written; review and commit it`);
    return;
  }
  assert.equal(actual, fs.readFileSync(file, 'utf8'), `differs from ${path.relative(casesDir, file)} (UPDATE_GOLDEN=1 to accept)`);
}

function compileCase(dir: string, configName = 'config.yaml'): { desired: State; own: ReturnType<typeof ownershipOf> } {
  const file = path.join(dir, configName);
  const r = parseConfig(fs.readFileSync(file, 'utf8'), file);
  if (!r.ok) throw new Error(r.issues.map((i) => `${i.line}:${i.col} ${i.message}`).join('\n'));
  const facts = JSON.parse(fs.readFileSync(path.join(dir, 'facts.json'), 'utf8')) as SystemFacts;
  return { desired: compile(r.config, facts), own: ownershipOf(r.config) };
}

for (const name of fs.readdirSync(casesDir).sort()) {
  const dir = path.join(casesDir, name);
  test(`golden ${name}: config → State`, () => {
    const { desired } = compileCase(dir);
    const { script, ...nft } = desired.nft!;
    golden(path.join(dir, 'state.json'), JSON.stringify({ ...desired, nft }, null, 2) + '\n');
    golden(path.join(dir, 'multihome.nft'), script!);
  });

  test(`golden ${name}: plan from a clean system, then no changes`, () => {
    const { desired, own } = compileCase(dir);
    const fresh = plan(desired, emptyState(), own);
    golden(path.join(dir, 'plan-from-empty.txt'), describePlan(fresh) + '\n');
    golden(path.join(dir, 'plan-from-empty.json'), JSON.stringify(fresh, null, 2) + '\n');
    const again = plan(desired, asCurrent(desired), own);
    assert.ok(isEmpty(again), describePlan(again));
    assert.equal(describePlan(again), 'No changes.');
  });

  if (fs.existsSync(path.join(dir, 'previous.yaml'))) {
    test(`golden ${name}: plan from the previous config`, () => {
      const { desired, own } = compileCase(dir);
      const prev = compileCase(dir, 'previous.yaml');
      const p = plan(desired, asCurrent(prev.desired), own);
      golden(path.join(dir, 'plan-from-previous.txt'), describePlan(p, prev.desired.nft!.script) + '\n');
    });
  }
}

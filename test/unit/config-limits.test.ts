// How many uplinks fit, and what validate says when they do not (issue 14): 250 providers with
// 250 policies compile into one contiguous span of rule priorities ahead of the kernel's main rule;
// the limits that remain — marks within mark_mask, priorities before 32766 — are errors that say
// what to change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/parse.js';
import { formatIssue } from '../../src/errors/index.js';
import { compile } from '../../src/compile/index.js';
import { ownershipOf } from '../../src/apply/ownership.js';
import { OwnershipSchema } from '../../src/apply/ownership.js';
import type { SystemFacts } from '../../src/compile/facts.js';
import { manyUplinksConfig, uplinkOf } from '../helpers/many-uplinks.js';

const facts = (n: number): SystemFacts => ({
  links: Array.from({ length: n }, (_, k) => ({
    name: `eth${k + 1}`,
    index: k + 2,
    up: true,
    carrier: true,
    addresses: [{ family: 4 as const, address: uplinkOf(k + 1).address, prefixlen: 30, scope: 'global' }],
  })),
  mainRoutes: [],
});

test('250 providers and 250 policies: valid, 10 priorities each, all before the main rule, within one owned range', () => {
  const r = parseConfig(manyUplinksConfig(250), 'many.yaml');
  assert.ok(r.ok, r.ok ? '' : r.issues.map(formatIssue).join('\n'));
  const state = compile(r.config, facts(250));
  const prefs = state.rules.map((x) => x.pref);
  const own = ownershipOf(r.config);
  assert.deepEqual(own.prefs, [10000, 12999]);
  assert.ok(Math.min(...prefs) >= 10000 && Math.max(...prefs) <= 12999, `${Math.min(...prefs)}–${Math.max(...prefs)}`);
  assert.equal(new Set(state.rules.filter((x) => x.fwmark !== undefined && x.action === 'lookup').map((x) => x.fwmark)).size, 250, 'a mark each');
  assert.equal(new Set(Object.values(r.config.providers).map((p) => p.table)).size, 250, 'a table each');
  assert.ok(!Object.values(r.config.providers).some((p) => p.table >= 253 && p.table <= 255), 'never a kernel table');
  assert.ok(OwnershipSchema.safeParse(own).success, 'its record is accepted when read back');
  assert.equal((state.nft?.script ?? '').split('\n').filter((l) => /^\s*chain to_isp/.test(l)).length, 250);
});

test('99 providers keep the one-block layout of every earlier version', () => {
  const r = parseConfig(manyUplinksConfig(99), 'many.yaml');
  assert.ok(r.ok);
  assert.deepEqual(ownershipOf(r.config).prefs, [10000, 10999]);
});

test('more providers than mark_mask has marks: the error names the mask and a wider one', () => {
  const r = parseConfig(manyUplinksConfig(300), 'many.yaml');
  assert.ok(!r.ok);
  const text = r.issues.map(formatIssue).join('\n');
  assert.match(text, /mark_mask 0xff leaves room for 255 marks, but 300 providers need 300/);
  assert.match(text, /widen mark_mask \(e\.g\. 0xfff\)/);
});

test("rules that would reach the kernel's main rule: the error says how many fit and what to lower", () => {
  const r = parseConfig(manyUplinksConfig(300, { top: 'mark_mask: 0xfff\nrule_priority: 30000' }), 'many.yaml');
  assert.ok(!r.ok);
  const text = r.issues.map(formatIssue).join('\n');
  assert.match(
    text,
    /300 providers \(10 rule priorities each\) and \d+ rules for the router's own traffic take priorities 30000–33999, past the kernel's "32766: lookup main"; from rule_priority 30000, 199 providers fit/,
  );
  assert.match(text, /lower rule_priority/);
  assert.match(text, /^many\.yaml:\d+:\d+/m, 'with a position');
  // the same 300 from the default rule_priority fit
  assert.ok(parseConfig(manyUplinksConfig(300, { top: 'mark_mask: 0xfff' }), 'many.yaml').ok);
});

// Groups: the first tier with a healthy member is used, balanced by weight among
// that tier's healthy members; with every member down, the last resort.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { compile, type SystemFacts } from '../../src/compile/index.js';
import { parseConfig } from '../../src/config/parse.js';
import { explain } from '../../src/sim/explain.js';
import type { Chain } from '../../src/state/program.js';
import { repoPath } from '../helpers/paths.js';

const dir = repoPath('test', 'golden', 'cases', 'groups');
const cfg = (() => {
  const r = parseConfig(fs.readFileSync(`${dir}/config.yaml`, 'utf8'), 'groups.yaml');
  if (!r.ok) throw new Error(r.issues.map((i) => i.message).join('; '));
  return r.config;
})();
const facts = JSON.parse(fs.readFileSync(`${dir}/facts.json`, 'utf8')) as SystemFacts;

function groupChain(healthy: string[] | undefined, name: string): Chain {
  const s = compile(cfg, { ...facts, ...(healthy ? { healthy } : {}) });
  return s.program!.chains.find((c) => c.name === `group_${name}`)!;
}
const targets = (c: Chain) =>
  c.rules.flatMap((r) =>
    r.actions.flatMap((a) =>
      a.kind === 'jump' ? [a.chain] : a.kind === 'balance' ? a.entries.map((e) => `${e.chain}*${e.weight}`) : a.kind === 'accept' ? ['main'] : [],
    ),
  );

test('failover tiers: isp2, then isp1', () => {
  assert.deepEqual(targets(groupChain(undefined, 'web')), ['to_isp2']);
  assert.deepEqual(targets(groupChain(['isp1', 'lte'], 'web')), ['to_isp1']);
});

test('balancing by weight among the healthy members of the first usable tier', () => {
  assert.deepEqual(targets(groupChain(undefined, 'spread')), ['to_isp1*3', 'to_isp2*1']);
  assert.deepEqual(targets(groupChain(['isp1', 'lte'], 'spread')), ['to_isp1'], 'isp2 down: all to isp1, not to LTE');
  assert.deepEqual(targets(groupChain(['lte'], 'spread')), ['to_lte'], 'both wired down: the next tier');
  assert.deepEqual(targets(groupChain([], 'spread')), ['main'], 'everything down: main (the default last resort)');
});

test('last resort unreachable: a mark the rules answer with "unreachable", and the simulator agrees', () => {
  assert.deepEqual(targets(groupChain([], 'banking')), ['to_unreachable']);
  const s = compile(cfg, { ...facts, healthy: ['lte'] });
  assert.ok(s.rules.some((r) => r.action === 'unreachable' && r.fwmark === 4 && r.pref === 10999));
  const d = explain(
    {
      ...s,
      links: facts.links,
      rules: [
        { family: 4, pref: 0, action: 'lookup', table: 255, protocol: 2 },
        ...s.rules,
        { family: 4, pref: 32766, action: 'lookup', table: 254, protocol: 2 },
      ],
      sysctls: { ...s.sysctls },
    },
    { family: 4, src: '192.168.99.10', dst: '198.51.100.7', iif: 'eth0', proto: 6, dport: 8443 },
  );
  assert.deepEqual([d.outcome, d.error, d.rule?.pref], ['drop', 'ENETUNREACH', 10999]);
});

test('sticky per source: a hash of the source address, per family the group carries', () => {
  const c = groupChain(undefined, 'banking');
  assert.deepEqual(
    c.rules.map((r) => [r.match.family, r.actions[0]?.kind === 'balance' && r.actions[0].by]),
    [[4, 'source']],
  );
});

test('groups: unknown members, a provider twice, a name taken by a provider are errors at their line', () => {
  const r = parseConfig(
    ['providers:', '  isp1: { interface: eth1, gateway: 203.0.113.1 }', 'groups:', '  isp1: [isp1]', '  g: [isp1, ips2, { isp1: 2 }]', 'default: g', ''].join(
      '\n',
    ),
    'x.yaml',
  );
  assert.ok(!r.ok);
  assert.deepEqual(
    r.issues.map((i) => [i.line, i.message]),
    [
      [4, '"isp1" is both a provider and a group'],
      [5, 'group "g" names unknown provider "ips2"'],
      [5, 'provider "isp1" is in group "g" twice'],
    ],
  );
});

// End to end: `multihome lab demo seed` builds the seed lab, applies
// examples/seed.yaml in the router (strict rp_filter), sends real flows and
// checks at the internet host which uplink each arrived on and with which source.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listNetns } from '../../src/kernel/netns.js';
import { SEED_MULTIHOME_FLOWS } from '../../src/lab/index.js';
import { cli } from '../helpers/cli.js';
import { canRunLab } from '../helpers/lab.js';

interface Row {
  flow: string;
  uplink: string | null;
  seenSource: string | null;
  expectedUplink: string;
  expectedSource: string;
  ok: boolean;
}

test('lab demo seed: every flow leaves by the expected uplink with that uplink\'s address', async (t) => {
  const why = canRunLab();
  if (why) return t.skip(why);
  const before = new Set(await listNetns());
  const r = await cli(['lab', 'demo', 'seed', '--json']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const out = JSON.parse(r.stdout) as { ok: boolean; id: string; flows: Row[] };
  assert.equal(out.ok, true);
  assert.equal(out.flows.length, SEED_MULTIHOME_FLOWS.length);
  const byFlow = Object.fromEntries(out.flows.map((f) => [f.flow, f]));
  assert.deepEqual([byFlow['lan tcp/80']?.uplink, byFlow['lan tcp/80']?.seenSource], ['isp2', '67.17.28.12']);
  assert.deepEqual([byFlow['lan tcp/443']?.uplink, byFlow['lan tcp/443']?.seenSource], ['isp2', '67.17.28.12']);
  assert.deepEqual([byFlow['lan tcp/22']?.uplink, byFlow['lan tcp/22']?.seenSource], ['isp1', '205.254.211.179']);
  assert.deepEqual([byFlow['lan udp/53']?.uplink, byFlow['lan udp/53']?.seenSource], ['isp1', '205.254.211.179']);
  assert.deepEqual([byFlow['lan udp/443']?.uplink, byFlow['lan udp/443']?.seenSource], ['isp1', '205.254.211.179']);
  for (const f of out.flows) assert.ok(f.ok, `${f.flow}: ${JSON.stringify(f)}`);
  const left = (await listNetns()).filter((n) => !before.has(n) && n.startsWith(`mh-${out.id}-`));
  assert.deepEqual(left, [], 'the demo removes its namespaces');
});

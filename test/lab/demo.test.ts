// End to end: `multihome lab demo seed` builds the seed lab, applies
// examples/seed.yaml in the router (strict rp_filter), sends real flows and
// checks at the internet host which uplink each arrived on and with which source.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listNetns } from '../../src/kernel/netns.js';
import { SEED_MULTIHOME_FLOWS, type FlowRow } from '../../src/lab/index.js';
import { cli } from '../helpers/cli.js';
import { canRunLab } from '../helpers/lab.js';

test("lab demo seed: every flow leaves by the expected uplink with that uplink's address", async (t) => {
  const why = canRunLab();
  if (why) return t.skip(why);
  const before = new Set(await listNetns());
  const r = await cli(['lab', 'demo', 'seed', '--json']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const out = JSON.parse(r.stdout) as { ok: boolean; id: string; flows: FlowRow[] };
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

test('lab demo interrupted with Ctrl-C (SIGINT) exits 130 and leaves no namespace behind', async (t) => {
  const why = canRunLab();
  if (why) return t.skip(why);
  const { spawn } = await import('node:child_process');
  const { repoPath } = await import('../helpers/paths.js');
  const before = new Set(await listNetns());
  const child = spawn(process.execPath, [repoPath('dist', 'src', 'cli', 'main.js'), 'lab', 'demo', 'seed'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  // Interrupt once the lab exists (its namespaces are being built or used).
  await new Promise<void>((resolve) => {
    const check = () => (out.includes('building') ? resolve() : setTimeout(check, 20));
    check();
  });
  await new Promise((r) => setTimeout(r, 150));
  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  assert.equal(code, 130, out);
  const id = /lab (\w+): building/.exec(out)?.[1];
  assert.ok(id, out);
  const left = (await listNetns()).filter((n) => !before.has(n) && n.startsWith(`mh-${id}-`));
  assert.deepEqual(left, [], 'no namespace left after Ctrl-C');
});

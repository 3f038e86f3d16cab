// The other shapes of config on a real kernel: `routes: copy` (main's routes
// copied into the provider tables, the seed's step 1), dual-stack IPv4/IPv6,
// and every golden nft script accepted by nft itself.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { run, runOk } from '../../src/kernel/exec.js';
import { addNetns, delNetns } from '../../src/kernel/netns.js';
import { newLabId } from '../../src/lab/index.js';
import { cli } from '../helpers/cli.js';
import { canRunLab, withSeedLab } from '../helpers/lab.js';
import { repoPath } from '../helpers/paths.js';
import { rawSnapshot } from '../helpers/snapshot.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mh-state-'));
type JRoute = { dst: string; gateway?: string; dev?: string; type?: string; prefsrc?: string };

test("routes: copy puts main's routes (except default) into each provider table; converges; down removes them", async (t) => {
  await withSeedLab(t, async (ns) => {
    const state = tmp();
    await runOk(['ip', 'route', 'add', '10.8.0.0/16', 'via', '192.168.99.10', 'proto', 'static'], { netns: ns });
    await runOk(['ip', 'route', 'add', 'unreachable', '10.9.0.0/16'], { netns: ns });
    const before = await rawSnapshot(ns);
    const cfg = repoPath('test', 'golden', 'cases', 'copy-main', 'config.yaml');
    const a = await cli(['apply', '-c', cfg], { netns: ns, stateDir: state });
    assert.equal(a.code, 0, a.stderr);
    const t100 = JSON.parse(await runOk(['ip', '-j', 'route', 'show', 'table', '100'], { netns: ns })) as JRoute[];
    const dsts = t100.map((r) => `${r.type ?? 'unicast'} ${r.dst} ${r.gateway ?? ''} ${r.dev ?? ''}`.trim()).sort();
    assert.deepEqual(
      dsts,
      [
        'unicast 10.8.0.0/16 192.168.99.10 eth0',
        'unicast 192.168.99.0/24  eth0',
        'unicast 205.254.211.0/24  eth1',
        'unicast 67.17.28.0/24  eth4',
        'unicast default 205.254.211.254 eth1',
        'unreachable 10.9.0.0/16',
      ].sort(),
    );
    // isp2 overrides the strategy with `routes: follow`: only its default route, and the suppress rule.
    const t4 = JSON.parse(await runOk(['ip', '-j', 'route', 'show', 'table', '4'], { netns: ns })) as JRoute[];
    assert.deepEqual(
      t4.map((r) => r.dst),
      ['default'],
    );
    assert.equal((await cli(['plan', '-c', cfg], { netns: ns, stateDir: state })).stdout.trim(), 'No changes.');
    // main changes; the copy is brought up to date by the next apply (live sync is the daemon's job)
    const has = async (dst: string) => (JSON.parse(await runOk(['ip', '-j', 'route', 'show', 'table', '100', dst], { netns: ns })) as JRoute[]).length > 0;
    await runOk(['ip', 'route', 'add', '10.10.0.0/16', 'via', '192.168.99.10'], { netns: ns });
    assert.equal((await cli(['apply', '-c', cfg], { netns: ns, stateDir: state })).code, 0);
    assert.ok(await has('10.10.0.0/16'));
    await runOk(['ip', 'route', 'del', '10.10.0.0/16'], { netns: ns });
    assert.equal((await cli(['apply', '-c', cfg], { netns: ns, stateDir: state })).code, 0);
    assert.ok(!(await has('10.10.0.0/16')));
    assert.equal((await cli(['down'], { netns: ns, stateDir: state })).code, 0);
    assert.deepEqual(await rawSnapshot(ns), before);
  });
});

test('dual stack: IPv6 rules, routes and NAT66 are applied, verified, idempotent and removed', async (t) => {
  await withSeedLab(t, async (ns) => {
    const state = tmp();
    await runOk(['ip', '-6', 'addr', 'add', '2001:db8:1::2/64', 'dev', 'eth1', 'nodad'], { netns: ns });
    await runOk(['ip', '-6', 'addr', 'add', '2001:db8:2::2/64', 'dev', 'eth4', 'nodad'], { netns: ns });
    const before = await rawSnapshot(ns);
    const cfg = repoPath('test', 'golden', 'cases', 'dual-stack', 'config.yaml');
    const a = await cli(['apply', '-c', cfg], { netns: ns, stateDir: state });
    assert.equal(a.code, 0, a.stderr);
    const rules6 = JSON.parse(await runOk(['ip', '-6', '-j', 'rule', 'show'], { netns: ns })) as { priority: number; src?: string; table?: string }[];
    assert.ok(rules6.some((r) => r.priority === 10003 && r.src === '2001:db8:1::2' && r.table === '100'));
    const t101 = JSON.parse(await runOk(['ip', '-6', '-j', 'route', 'show', 'table', '101'], { netns: ns })) as JRoute[];
    assert.deepEqual(
      t101.map((r) => [r.dst, r.gateway, r.dev]),
      [['default', 'fe80::1', 'eth4']],
    );
    assert.equal((await runOk(['sysctl', '-n', 'net.ipv6.conf.all.forwarding'], { netns: ns })).trim(), '1');
    // SLAAC uplinks keep accepting router advertisements with forwarding on
    assert.equal((await runOk(['sysctl', '-n', 'net.ipv6.conf.eth1.accept_ra'], { netns: ns })).trim(), '2');
    assert.equal((await cli(['plan', '-c', cfg], { netns: ns, stateDir: state })).stdout.trim(), 'No changes.');
    // A new IPv6 gateway replaces the route in place (a second gateway route would be refused).
    const moved = path.join(state, 'moved.yaml');
    fs.writeFileSync(moved, fs.readFileSync(cfg, 'utf8').replace('"fe80::1"', '"fe80::2"'));
    const m = await cli(['apply', '-c', moved], { netns: ns, stateDir: state });
    assert.equal(m.code, 0, m.stderr);
    const t101b = JSON.parse(await runOk(['ip', '-6', '-j', 'route', 'show', 'table', '101'], { netns: ns })) as JRoute[];
    assert.deepEqual(
      t101b.map((r) => r.gateway),
      ['fe80::2'],
    );
    assert.equal((await cli(['down'], { netns: ns, stateDir: state })).code, 0);
    assert.deepEqual(await rawSnapshot(ns), before);
    assert.equal((await runOk(['sysctl', '-n', 'net.ipv6.conf.eth1.accept_ra'], { netns: ns })).trim(), '1', 'accept_ra restored');
  });
});

test('every golden nft script is accepted by nft', async (t) => {
  const why = canRunLab();
  if (why) return t.skip(why);
  const ns = `mh-${newLabId()}-nftcheck`;
  await addNetns(ns);
  try {
    const cases = repoPath('test', 'golden', 'cases');
    for (const c of fs.readdirSync(cases)) {
      const script = fs.readFileSync(path.join(cases, c, 'multihome.nft'), 'utf8');
      const r = await run(['nft', '-c', '-f', '-'], { netns: ns, input: script });
      assert.equal(r.code, 0, `${c}: ${r.stderr}`);
    }
  } finally {
    await delNetns(ns);
  }
});

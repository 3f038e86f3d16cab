// The seed router in a lab, real kernel: apply → verify → second apply is a
// no-op → plan says "No changes." → down leaves everything as before; foreign
// rules, routes, nft tables and marks survive byte-identical; bad input and
// failures change nothing.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { applyPrepared, prepare } from '../../src/apply/session.js';
import { realTarget } from '../../src/apply/transaction.js';
import { ApplyError } from '../../src/errors/index.js';
import { run, runOk } from '../../src/kernel/exec.js';
import { cli } from '../helpers/cli.js';
import { withSeedLab } from '../helpers/lab.js';
import { repoPath } from '../helpers/paths.js';
import { rawSnapshot } from '../helpers/snapshot.js';

const SEED = repoPath('examples', 'seed.yaml');
const tmpState = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mh-state-'));

/** Objects of other tools: a rule, a route in another table, an nft table that marks with other bits. */
async function addForeign(ns: string): Promise<void> {
  await runOk(['ip', 'rule', 'add', 'pref', '500', 'from', '10.66.0.0/16', 'lookup', '66'], { netns: ns });
  await runOk(['ip', 'route', 'add', 'table', '66', 'default', 'via', '205.254.211.254', 'dev', 'eth1'], { netns: ns });
  await runOk(['ip', 'route', 'add', '10.77.0.0/16', 'via', '192.168.99.10', 'proto', 'static'], { netns: ns });
  // Carrying multihome's tag is not enough to be multihome's: outside its range and tables these stay.
  await runOk(['ip', 'rule', 'add', 'pref', '501', 'from', '10.67.0.0/16', 'lookup', '67', 'protocol', '77'], { netns: ns });
  await runOk(['ip', 'route', 'add', 'table', '67', 'default', 'via', '205.254.211.254', 'dev', 'eth1', 'proto', '77'], { netns: ns });
  await runOk(['nft', '-f', '-'], {
    netns: ns,
    input: 'table ip foreign {\n chain pre { type filter hook prerouting priority 10; meta mark set meta mark | 0x4000; }\n}\n',
  });
}

const foreignView = async (ns: string) => ({
  rule: (await runOk(['ip', '-j', 'rule', 'show', 'pref', '500'], { netns: ns })).trim(),
  taggedRule: (await runOk(['ip', '-j', '-d', 'rule', 'show', 'pref', '501'], { netns: ns })).trim(),
  table67: (await runOk(['ip', '-j', '-d', 'route', 'show', 'table', '67'], { netns: ns })).trim(),
  table66: (await runOk(['ip', '-j', 'route', 'show', 'table', '66'], { netns: ns })).trim(),
  staticRoute: (await runOk(['ip', '-j', 'route', 'show', '10.77.0.0/16'], { netns: ns })).trim(),
  nft: (await runOk(['nft', '-j', 'list', 'table', 'ip', 'foreign'], { netns: ns })).trim(),
});

test('seed: apply, verify, idempotent, No changes, down restores everything; foreign objects untouched', async (t) => {
  await withSeedLab(t, async (ns) => {
    const state = tmpState();
    await addForeign(ns);
    const before = await rawSnapshot(ns);
    const foreignBefore = await foreignView(ns);
    assert.equal(before.sysctls['net.ipv4.conf.all.rp_filter'], '1', 'the lab router has strict rp_filter');

    const plan1 = await cli(['plan', '-c', SEED], { netns: ns, stateDir: state });
    assert.equal(plan1.code, 0, plan1.stderr);
    assert.match(plan1.stdout, /Plan: 17 to add, 3 to change, 0 to remove\./);
    assert.deepEqual(await rawSnapshot(ns), before, 'plan changes nothing');

    const apply1 = await cli(['apply', '-c', SEED], { netns: ns, stateDir: state });
    assert.equal(apply1.code, 0, apply1.stderr);
    assert.match(apply1.stdout, /Applied and verified\./);

    const rules = JSON.parse(await runOk(['ip', '-j', 'rule', 'show'], { netns: ns })) as { priority: number; table?: string; fwmark?: string }[];
    assert.ok(
      rules.some((r) => r.priority === 10011 && r.fwmark === '0x4' && r.table === '4'),
      'fwmark 4 → table 4, as the seed',
    );
    const t4 = JSON.parse(await runOk(['ip', '-j', 'route', 'show', 'table', '4'], { netns: ns })) as { dst: string; gateway?: string; dev?: string }[];
    assert.deepEqual(
      t4.map((r) => [r.dst, r.gateway, r.dev]),
      [['default', '67.17.28.14', 'eth4']],
    );
    assert.equal((await runOk(['sysctl', '-n', 'net.ipv4.ip_forward'], { netns: ns })).trim(), '1');

    const apply2 = await cli(['apply', '-c', SEED], { netns: ns, stateDir: state });
    assert.equal(apply2.code, 0, apply2.stderr);
    assert.equal(apply2.stdout.trim(), 'No changes.');
    const plan2 = await cli(['plan', '-c', SEED], { netns: ns, stateDir: state });
    assert.equal(plan2.stdout.trim(), 'No changes.');
    const planJson = JSON.parse((await cli(['plan', '-c', SEED, '--json'], { netns: ns, stateDir: state })).stdout) as { changes: boolean };
    assert.equal(planJson.changes, false);

    assert.deepEqual(await foreignView(ns), foreignBefore, 'foreign objects are byte-identical while applied');

    const down = await cli(['down'], { netns: ns, stateDir: state });
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, /Removed\./);
    assert.deepEqual(await rawSnapshot(ns), before, 'down leaves the router exactly as it was');
    assert.deepEqual(await foreignView(ns), foreignBefore);
    const downAgain = await cli(['down'], { netns: ns, stateDir: state });
    assert.equal(downAgain.stdout.trim(), 'Nothing to remove.');
  });
});

test('missing interface: plan and apply exit 1 with file:line:col, kernel untouched', async (t) => {
  await withSeedLab(t, async (ns) => {
    const state = tmpState();
    const bad = path.join(state, 'bad.yaml');
    fs.writeFileSync(bad, fs.readFileSync(SEED, 'utf8').replace('interface: eth4', 'interface: eth5'));
    const before = await rawSnapshot(ns);
    for (const cmd of ['plan', 'apply']) {
      const r = await cli([cmd, '-c', bad], { netns: ns, stateDir: state });
      assert.equal(r.code, 1, `${cmd}: ${r.stderr}`);
      assert.match(r.stderr, /bad\.yaml:6:\d+: error: interface eth5 does not exist on this system/);
      assert.match(r.stderr, /hint: did you mean "eth\d"\? \(interfaces here: lo, eth0, eth1, eth4\)/);
      assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace for a user mistake');
    }
    const gw = path.join(state, 'gw.yaml');
    fs.writeFileSync(gw, fs.readFileSync(SEED, 'utf8').replace('gateway: 67.17.28.14', 'gateway: 67.17.29.14'));
    const r = await cli(['apply', '-c', gw], { netns: ns, stateDir: state });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /gateway 67\.17\.29\.14 is not on a subnet of eth4 \(67\.17\.28\.12\/24\)/);
    assert.deepEqual(await rawSnapshot(ns), before);
  });
});

test('a failure part-way through apply is reverted: kernel as before, exit code 2', async (t) => {
  await withSeedLab(t, async (ns) => {
    const target = realTarget({ netns: ns }, tmpState());
    const before = await rawSnapshot(ns);
    const prep = await prepare(fs.readFileSync(SEED, 'utf8'), SEED, target);
    // steps: the sysctls (one sysctl -w), the rules and routes (ip -batch), the nft table: fail before each
    for (const failAfterSteps of [0, 1, 2]) {
      await assert.rejects(applyPrepared(prep, target, { failAfterSteps }), (e: unknown) => e instanceof ApplyError && e.reverted);
      assert.deepEqual(await rawSnapshot(ns), before, `reverted after ${failAfterSteps} steps`);
      assert.ok(!fs.existsSync(path.join(target.stateDir.dir, 'sysctl-originals.json')), 'a reverted apply leaves nothing for down to restore');
    }
    // Migrating from the hand-made recipe: its table 4 already has a default route (not multihome's).
    // The kernel would refuse multihome's ("File exists"): plan names the clash, apply refuses before changing anything.
    await runOk(['ip', 'route', 'add', 'table', '4', 'default', 'via', '67.17.28.14', 'dev', 'eth4', 'proto', 'static'], { netns: ns });
    const withForeign = await rawSnapshot(ns);
    const plan = await cli(['plan', '-c', SEED], { netns: ns, stateDir: target.stateDir.dir });
    assert.match(
      plan.stdout,
      /conflicts \(apply refuses to start until they are resolved\):\n {2}✗ table 4: default via 67\.17\.28\.14 dev eth4 \(proto 4\) is not multihome's/,
    );
    assert.match(plan.stdout, /ip -4 route del default table 4 proto 4 metric 0/);
    const r = await cli(['apply', '-c', SEED], { netns: ns, stateDir: target.stateDir.dir });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /clash with; nothing was changed/);
    assert.match(r.stderr, /table 4: default via 67\.17\.28\.14 dev eth4 \(proto 4\) is not multihome's/);
    assert.deepEqual(await rawSnapshot(ns), withForeign);
  });
});

test('a failed change to an applied config puts the previous nft table, rules and routes back', async (t) => {
  await withSeedLab(t, async (ns) => {
    const state = tmpState();
    const target = realTarget({ netns: ns }, state);
    assert.equal((await cli(['apply', '-c', SEED], { netns: ns, stateDir: state })).code, 0);
    const changedText = fs.readFileSync(SEED, 'utf8').replace('table: 4, mark: 4', 'table: 5, mark: 4').replace('dport: [80, 443]', 'dport: 8080');
    const prep = await prepare(changedText, 'changed.yaml', target);
    // steps: route add, rule add (ip batch), nft replace, rule/route delete: fail after the table was replaced
    await assert.rejects(applyPrepared(prep, target, { failAfterSteps: 2 }), (e: unknown) => e instanceof ApplyError && e.reverted);
    assert.equal((await cli(['plan', '-c', SEED], { netns: ns, stateDir: state })).stdout.trim(), 'No changes.', 'the seed is back, table and all');
  });
});

test('a config change applies only the difference, and a hand edit of the nft table is detected', async (t) => {
  await withSeedLab(t, async (ns) => {
    const state = tmpState();
    assert.equal((await cli(['apply', '-c', SEED], { netns: ns, stateDir: state })).code, 0);
    const changed = path.join(state, 'changed.yaml');
    fs.writeFileSync(changed, fs.readFileSync(SEED, 'utf8').replace('dport: [80, 443]', 'dport: [80, 443, "8000-8080"]'));
    const p = await cli(['plan', '-c', changed], { netns: ns, stateDir: state });
    assert.match(p.stdout, /Plan: 0 to add, 1 to change, 0 to remove\./);
    assert.match(p.stdout, /\+ \t\tip saddr 192\.168\.99\.0\/24 tcp dport \{ 80, 443, 8000-8080 \}/);
    assert.equal((await cli(['apply', '-c', changed], { netns: ns, stateDir: state })).code, 0);
    assert.equal((await cli(['plan', '-c', changed], { netns: ns, stateDir: state })).stdout.trim(), 'No changes.');

    await runOk(['nft', 'add', 'rule', 'inet', 'multihome', 'prerouting', 'counter'], { netns: ns });
    const drift = await cli(['plan', '-c', changed], { netns: ns, stateDir: state });
    assert.match(drift.stdout, /modified outside multihome/);
    await runOk(['nft', 'delete', 'chain', 'inet', 'multihome', 'fingerprint'], { netns: ns });
    assert.match((await cli(['plan', '-c', changed], { netns: ns, stateDir: state })).stdout, /modified outside multihome/);
    assert.equal((await cli(['apply', '-c', changed], { netns: ns, stateDir: state })).code, 0);
    assert.equal((await cli(['plan', '-c', changed], { netns: ns, stateDir: state })).stdout.trim(), 'No changes.');
    // Even with its state dir lost, down finds what multihome owns (tag + range, and the tables its rules use).
    assert.equal((await cli(['down'], { netns: ns, stateDir: tmpState() })).code, 0);
    assert.equal((await run(['nft', 'list', 'table', 'inet', 'multihome'], { netns: ns })).code, 1);
    const left = JSON.parse(await runOk(['ip', '-N', '-j', '-d', 'rule', 'show'], { netns: ns })) as { protocol?: string }[];
    assert.deepEqual(
      left.filter((r) => r.protocol === '77'),
      [],
    );
    assert.equal((await runOk(['ip', 'route', 'show', 'table', '4'], { netns: ns })).trim(), '');
    assert.equal((await runOk(['ip', 'route', 'show', 'table', '100'], { netns: ns })).trim(), '');
  });
});

test('apply --confirm reverts unless confirmed', async (t) => {
  await withSeedLab(t, async (ns) => {
    const state = tmpState();
    const before = await rawSnapshot(ns);
    // 5 s: the next apply below must start while the change still waits, also on a busy machine
    const a = await cli(['apply', '-c', SEED, '--confirm', '5'], { netns: ns, stateDir: state });
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /multihome confirm/);
    const blocked = await cli(['apply', '-c', SEED], { netns: ns, stateDir: state });
    assert.equal(blocked.code, 1);
    assert.match(blocked.stderr, /waiting for confirmation/);
    await new Promise((r) => setTimeout(r, 7500));
    assert.deepEqual(await rawSnapshot(ns), before, 'reverted after the timeout');
    const after = await cli(['plan', '-c', SEED], { netns: ns, stateDir: state });
    assert.match(after.stdout, /\+ created:/, 'the next plan starts from the state before the change');
    assert.match(after.stdout, /an unconfirmed change was reverted by the confirm timer/);

    // An unconfirmed change of an applied config (new table id, new priority range) is undone too.
    assert.equal((await cli(['apply', '-c', SEED], { netns: ns, stateDir: state })).code, 0);
    const moved = path.join(state, 'moved.yaml');
    fs.writeFileSync(moved, `rule_priority: 20000\n${fs.readFileSync(SEED, 'utf8').replace('table: 4, mark: 4', 'table: 5, mark: 4')}`);
    assert.equal((await cli(['apply', '-c', moved, '--confirm', '2'], { netns: ns, stateDir: state })).code, 0);
    await new Promise((r) => setTimeout(r, 4500));
    const back = await cli(['plan', '-c', SEED], { netns: ns, stateDir: state });
    assert.match(back.stdout, /^No changes\./, back.stdout);
    assert.match(back.stdout, /reverted by the confirm timer/);
    assert.equal((await cli(['down'], { netns: ns, stateDir: state })).code, 0);

    const b = await cli(['apply', '-c', SEED, '--confirm', '3'], { netns: ns, stateDir: state });
    assert.equal(b.code, 0, b.stderr);
    const c = await cli(['confirm'], { netns: ns, stateDir: state });
    assert.equal(c.code, 0, c.stderr);
    await new Promise((r) => setTimeout(r, 4000));
    assert.equal((await cli(['plan', '-c', SEED], { netns: ns, stateDir: state })).stdout.trim(), 'No changes.', 'kept after confirm');
    assert.equal((await cli(['confirm'], { netns: ns, stateDir: state })).code, 1, 'nothing left to confirm');
    assert.equal((await cli(['down'], { netns: ns, stateDir: state })).code, 0);
    assert.deepEqual(await rawSnapshot(ns), before);
  });
});

test('plan warns about other tools writing mark bits inside mark_mask, naming each rule (iptables and nft)', async (t) => {
  await withSeedLab(t, async (ns) => {
    // Docker-style: a mangle rule setting the whole mark; another nft table setting bits of the mask
    await runOk(['iptables', '-t', 'mangle', '-A', 'PREROUTING', '-s', '192.168.99.0/24', '-j', 'MARK', '--set-mark', '0x1'], { netns: ns });
    await runOk(['nft', '-f', '-'], {
      netns: ns,
      input:
        'table inet other {\n chain pre {\n  type filter hook prerouting priority -160; policy accept;\n  tcp dport 22 meta mark set meta mark | 0x4 comment "ssh"\n  ct mark set ct mark | 0x100\n }\n}\n',
    });
    const r = await cli(['plan', '-c', SEED], { netns: ns, stateDir: tmpState() });
    assert.equal(r.code, 0, r.stderr);
    const warnings = r.stdout.split('\n').filter((l) => l.includes("inside multihome's mark_mask"));
    assert.equal(warnings.length, 2, r.stdout);
    assert.match(warnings.join('\n'), /rule -A PREROUTING -s 192\.168\.99\.0\/24 -j MARK --set-x?mark 0x1(\/0xffffffff)? writes packet mark bits 0xff/);
    assert.match(warnings.join('\n'), /rule inet\/other\/pre handle \d+ \("ssh"\) writes packet mark bits 0x4/);
    // `ct mark set ct mark | 0x100` writes only a bit outside the mask: no warning
  });
});

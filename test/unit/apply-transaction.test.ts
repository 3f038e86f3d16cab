// apply, verify, revert, the journal and crash recovery, as transcripts on an
// in-memory kernel (test/helpers/fake-kernel.ts): no root needed. The lab
// tests prove the real kernel agrees.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { isEmpty } from '../../src/apply/plan.js';
import { applyPrepared, down, planPrepared } from '../../src/apply/session.js';
import { readJournal, readNftRecord, readSysctlOriginals } from '../../src/apply/statedir.js';
import { applyState, ConflictError, prospect } from '../../src/apply/transaction.js';
import { ApplyError } from '../../src/errors/index.js';
import type { State } from '../../src/state/types.js';
import { FakeKernel } from '../helpers/fake-kernel.js';
import { fakeTarget, prepFake, SEED_LINKS, SEED_TEXT, tmpStateDir } from '../helpers/seed-fake.js';

const pristine = (k: FakeKernel): string => JSON.stringify(k.state);

test('apply from nothing: sysctls, then routes and rules, then the nft table; verified, recorded; again: no changes', async () => {
  const t = fakeTarget();
  const prep = prepFake(SEED_TEXT, t.kernel);
  const r = await applyPrepared(prep, t);
  assert.equal(r.changed, true);
  assert.deepEqual(t.kernel.transcript(), [
    'sysctl net/ipv4/ip_forward=1',
    'sysctl net/ipv4/conf/eth1/src_valid_mark=1',
    'sysctl net/ipv4/conf/eth4/src_valid_mark=1',
    'ip -4: add route 4/default, add route 100/default, add rule 10000 lookup, add rule 10001 lookup, add rule 10002 lookup, add rule 10003 lookup, add rule 10004 unreachable, add rule 10005 unreachable, add rule 10010 lookup, add rule 10011 lookup, add rule 10012 lookup, add rule 10013 lookup, add rule 10014 unreachable, add rule 10015 unreachable, add rule 10020 lookup, add rule 10021 lookup',
    'nft-load',
  ]);
  assert.equal(readNftRecord(t.stateDir)?.fingerprint, prep.desired.nft!.fingerprint);
  assert.equal(readJournal(t.stateDir), undefined, 'the journal is gone once the apply is recorded');
  assert.deepEqual(readSysctlOriginals(t.stateDir), {
    'net/ipv4/ip_forward': '0',
    'net/ipv4/conf/eth1/src_valid_mark': '0',
    'net/ipv4/conf/eth4/src_valid_mark': '0',
  });
  const again = await applyPrepared(prep, t);
  assert.equal(again.changed, false);
  assert.deepEqual(t.kernel.transcript(), []);
});

test('a step the kernel refuses: everything is put back as it was, nothing left for down', async () => {
  const probe = fakeTarget();
  await applyPrepared(prepFake(SEED_TEXT, probe.kernel), probe);
  const steps = probe.kernel.stepCount;
  assert.ok(steps >= 3, `${steps} steps`);
  for (let failAt = 0; failAt < steps; failAt++) {
    const t = fakeTarget();
    const before = pristine(t.kernel);
    t.kernel.failAt = failAt;
    await assert.rejects(applyPrepared(prepFake(SEED_TEXT, t.kernel), t), (e: unknown) => e instanceof ApplyError && e.reverted);
    assert.equal(pristine(t.kernel), before, `reverted after a refusal at step ${failAt + 1}`);
    assert.deepEqual(readSysctlOriginals(t.stateDir), {});
    assert.equal(readJournal(t.stateDir), undefined);
  }
});

/**
 * Kill the process at every step (and in the middle of every ip batch) of a change from config
 * A to config B that moves rule_priority and table ids, adds a provider's worth of objects and
 * changes sysctls. After each kill: plan (with B) is empty only when the kernel holds exactly
 * B; apply of B completes it; down restores the namespace exactly as it was before A.
 */
// The crash tests' configs. A: one uplink. B: both, rule_priority and table ids moved, a policy
// changed (sysctls, routes, rules, nft, deletions): the apply from A to B that orphaned rules and
// tables when ownership was only recorded after a verified apply (issue 10).
const CRASH_A = 'providers:\n  isp1: { interface: eth1, gateway: 205.254.211.254, snat: 205.254.211.179 }\ndefault: isp1\n';
const CRASH_B = `rule_priority: 20000\n${SEED_TEXT.replace('table: 4, mark: 4', 'table: 220, mark: 4').replace('snat: 205.254.211.179 }', 'snat: 205.254.211.179, table: 120 }').replace('dport: [80, 443]', 'dport: [80, 443, 8080]')}`;

type KillPoint = { step: number; ops: number; read?: boolean };

/** Every point an apply of CRASH_A → CRASH_B can be killed at: every step, every line of each ip batch, and the read-back after the last step. */
async function crashKillPoints(): Promise<KillPoint[]> {
  const probe = fakeTarget();
  await applyPrepared(prepFake(CRASH_A, probe.kernel), probe);
  probe.kernel.transcript();
  await applyPrepared(prepFake(CRASH_B, probe.kernel), probe);
  const steps = probe.kernel.transcript();
  assert.deepEqual(
    steps.map((s) => s.split(':')[0]!.split('=')[0]),
    ['sysctl net/ipv4/conf/eth4/src_valid_mark', 'ip -4', 'nft-load', 'ip -4'],
  );
  const points: KillPoint[] = [];
  for (const [i, s] of steps.entries()) {
    points.push({ step: i, ops: 0 });
    if (s.startsWith('ip ')) for (let k = 1; k < s.split(', ').length; k++) points.push({ step: i, ops: k });
  }
  points.push({ step: steps.length, ops: 0, read: true });
  assert.ok(points.length >= 20, `${points.length} kill points`);
  return points;
}

/** A kernel with CRASH_A applied and an apply of CRASH_B killed at `at`; then a new process. */
async function killedApply(at: KillPoint) {
  const k = new FakeKernel(SEED_LINKS);
  const empty = pristine(k);
  const t = fakeTarget(k);
  await applyPrepared(prepFake(CRASH_A, k), t);
  k.transcript();
  if (at.read)
    k.crashAtRead = k.readCount + 1; // the read after the steps
  else {
    k.crashAt = k.stepCount + at.step;
    k.crashAfterOps = at.ops;
  }
  await assert.rejects(applyPrepared(prepFake(CRASH_B, k), t));
  assert.ok(k.dead);
  k.crashAt = k.crashAtRead = null;
  k.dead = false; // a new process
  const where = at.read ? 'killed after the last step' : `killed at step ${at.step + 1}${at.ops ? ` after ${at.ops} lines` : ''}`;
  assert.ok(readJournal(t.stateDir), `${where}: the journal says an apply did not finish`);
  return { k, t, empty, where };
}

test('SIGKILL at every point of an apply: plan shows what is left, apply completes it, down restores exactly', async (t0) => {
  const B = CRASH_B;
  // what a clean apply of B gives, for comparison
  const clean = fakeTarget();
  await applyPrepared(prepFake(B, clean.kernel), clean);
  const wantB = pristine(clean.kernel);
  const points = await crashKillPoints();
  const steps = points.filter((p) => p.ops === 0 && !p.read);
  let mixed = 0;
  for (const at of points) {
    const { k, t, empty, where } = await killedApply(at);
    const planned = await planPrepared(prepFake(B, k), t);
    if (isEmpty(planned.plan)) assert.equal(pristine(k), wantB, `${where}: plan says "No changes" only when the kernel holds B`);
    else mixed++;
    assert.match(planned.plan.warnings[0] ?? '', /stopped before it finished/, `${where}: plan says so`);
    // apply completes it
    await applyPrepared(prepFake(B, k), t);
    assert.equal(pristine(k), wantB, `${where}: apply completes B`);
    assert.equal(readJournal(t.stateDir), undefined);
    // and down leaves nothing of A or B
    await down(t);
    assert.equal(pristine(k), empty, `${where}: down restores the namespace exactly`);
  }
  t0.diagnostic(`${points.length} kill points (${steps.length} steps, every line of each ip batch, the read-back): ${mixed} left a mix, and plan showed each`);
});

test('SIGKILL at every point of an apply that moves rule_priority and table ids, then down at once: nothing of A or B is left', async () => {
  for (const at of await crashKillPoints()) {
    const { k, t, empty, where } = await killedApply(at);
    // no plan, no apply in between: down alone must find what the killed apply added (the journal)
    await down(t);
    assert.equal(pristine(k), empty, `${where}, then down: the namespace is exactly as before either apply`);
    assert.equal(readJournal(t.stateDir), undefined, `${where}, then down: no journal left`);
    await down(t); // and a second down has nothing to do, and fails on nothing
    assert.equal(pristine(k), empty);
  }
});

test('SIGKILL at every point of down: the next down finishes it', async () => {
  const probe = fakeTarget();
  await applyPrepared(prepFake(SEED_TEXT, probe.kernel), probe);
  const applied = probe.kernel.stepCount;
  await down(probe);
  const n = probe.kernel.stepCount - applied;
  for (let at = 0; at < n; at++) {
    const k = new FakeKernel(SEED_LINKS);
    const empty = pristine(k);
    const t = fakeTarget(k);
    await applyPrepared(prepFake(SEED_TEXT, k), t);
    k.transcript();
    k.crashAt = k.stepCount + at;
    await assert.rejects(down(t));
    assert.ok(k.dead);
    k.crashAt = null;
    k.dead = false;
    await down(t);
    assert.equal(pristine(k), empty, `down killed at step ${at + 1}, then down again`);
  }
});

test('a crash after the last step but before the record: apply finds nothing to change and writes the record', async () => {
  const t = fakeTarget();
  const A = prepFake(SEED_TEXT, t.kernel);
  await applyPrepared(A, t);
  const B = prepFake(`rule_priority: 20000\n${SEED_TEXT}`, t.kernel);
  // run B's steps on the kernel, but "die" before recording: journal written, record still A's
  const dir = t.stateDir.dir;
  fs.copyFileSync(path.join(dir, 'nft.json'), path.join(dir, 'nft.json.keep'));
  await applyPrepared(B, t);
  fs.renameSync(path.join(dir, 'nft.json.keep'), path.join(dir, 'nft.json'));
  assert.equal(readNftRecord(t.stateDir)?.ownership?.prefs[0], 10000, 'the record is stale (A)');
  const again = await applyPrepared(B, t);
  assert.equal(again.changed, false);
  assert.equal(readNftRecord(t.stateDir)?.ownership?.prefs[0], 20000, 'and now says what the kernel holds (B)');
  await down(t);
  assert.equal(t.kernel.state.rules.length, 0, "down finds B's rules");
});

test("a foreign route where multihome's must go: a conflict plan names, apply refuses before any change", async () => {
  const t = fakeTarget();
  t.kernel.state.routes.push({
    family: 4,
    table: 4,
    dst: 'default',
    type: 'unicast',
    tos: 0,
    metric: 0,
    protocol: 4,
    scope: 0,
    gateway: '67.17.28.14',
    dev: 'eth4',
    flags: [],
  });
  const before = pristine(t.kernel);
  const prep = prepFake(SEED_TEXT, t.kernel);
  const { plan } = await planPrepared(prep, t);
  assert.equal(plan.conflicts.length, 1);
  assert.match(
    plan.conflicts[0]!.message,
    /^table 4: default via 67\.17\.28\.14 dev eth4 \(proto 4\) is not multihome's.*ip -4 route del default table 4 proto 4 metric 0/,
  );
  await assert.rejects(applyPrepared(prep, t), (e: unknown) => e instanceof ConflictError && e.tables.join() === '4');
  assert.equal(pristine(t.kernel), before);
  assert.deepEqual(t.kernel.transcript(), []);
});

test('a provider dropped from the config gives back its sysctl (and its rules, table and record)', async () => {
  const t = fakeTarget();
  await applyPrepared(prepFake(SEED_TEXT, t.kernel), t);
  const oneUplink = 'providers:\n  isp1: { interface: eth1, gateway: 205.254.211.254, snat: 205.254.211.179 }\ndefault: isp1\n';
  await applyPrepared(prepFake(oneUplink, t.kernel), t);
  assert.equal(t.kernel.state.sysctls['net/ipv4/conf/eth4/src_valid_mark'], '0', 'put back to its original value');
  assert.deepEqual(Object.keys(readSysctlOriginals(t.stateDir)).sort(), ['net/ipv4/conf/eth1/src_valid_mark', 'net/ipv4/ip_forward']);
  assert.ok(!t.kernel.state.routes.some((r) => r.table === 4));
  assert.ok(!t.kernel.state.rules.some((r) => r.fwmark === 4 || r.from === '67.17.28.12' || r.table === 4), "none of isp2's rules");
});

test('down after a provider interface was deleted: no sysctl to restore there, everything else removed', async () => {
  const k = new FakeKernel(SEED_LINKS);
  const t = fakeTarget(k);
  await applyPrepared(prepFake(SEED_TEXT, k), t);
  k.deleteLink('eth4');
  const r = await down(t);
  assert.equal(r.changed, true);
  assert.deepEqual(k.state.rules, []);
  assert.deepEqual(k.state.routes, []);
  assert.equal(k.state.nft, null);
  assert.equal(k.state.sysctls['net/ipv4/ip_forward'], '0');
});

test('an uplink that is down: its route is left out (the kernel would refuse it), the rest applies, plan says why', async () => {
  const k = new FakeKernel(SEED_LINKS);
  k.setLink('eth4', false);
  const t = fakeTarget(k);
  const prep = prepFake(SEED_TEXT, k);
  const { plan } = await planPrepared(prep, t);
  assert.ok(
    plan.warnings.some((w) => /provider isp2 is down: eth4 is administratively down/.test(w)),
    plan.warnings.join('\n'),
  );
  await applyPrepared(prep, t);
  assert.deepEqual(
    k.state.routes.map((r) => `${r.table}/${r.dst}`),
    ['100/default'],
  );
  assert.ok(
    k.state.rules.some((r) => r.pref === 10014 && r.action === 'unreachable'),
    "isp2's marked traffic is unreachable, not sent elsewhere",
  );
});

test("records from the state dir are checked: a planted record cannot make down touch what is not multihome's", async () => {
  const k = new FakeKernel(SEED_LINKS);
  // the kernel's own rules, and a route of the kernel's protocol
  k.state.rules.push({ family: 4, pref: 0, action: 'lookup', table: 255, protocol: 2 }, { family: 4, pref: 32766, action: 'lookup', table: 254, protocol: 2 });
  k.state.routes.push({ family: 4, table: 254, dst: '192.168.99.0/24', type: 'unicast', tos: 0, metric: 0, protocol: 2, scope: 253, dev: 'eth0', flags: [] });
  const dir = tmpStateDir();
  fs.writeFileSync(path.join(dir, 'nft.json'), JSON.stringify({ fingerprint: '', digest: '', ownership: { protocol: 2, prefs: [0, 32767], tables: [254] } }), {
    mode: 0o600,
  });
  const t = fakeTarget(k, dir);
  await assert.rejects(down(t), /is not a record multihome wrote/);
  fs.writeFileSync(path.join(dir, 'nft.json'), '{}', { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'sysctl-originals.json'), JSON.stringify({ 'kernel/core_pattern': '|/tmp/x' }), { mode: 0o600 });
  await assert.rejects(down(t), /is not a record multihome wrote/);
  assert.equal(k.state.rules.length, 2);
});

test('prospect: what plan shows is exactly what apply acts on (ownership joined from record and journal)', async () => {
  const t = fakeTarget();
  await applyPrepared(prepFake(SEED_TEXT, t.kernel), t);
  const moved = prepFake(`rule_priority: 20000\n${SEED_TEXT}`, t.kernel);
  const pr = await prospect(moved.desired, moved.own, t);
  assert.deepEqual(
    pr.own.previous?.map((p) => p.prefs),
    [[10000, 10999]],
  );
  assert.equal(pr.plan.rules.del.length, 14);
  assert.equal(pr.plan.rules.add.length, 14);
  const r = await applyPrepared(moved, t);
  assert.deepEqual(r.plan, pr.plan);
  const s: State = t.kernel.state;
  assert.ok(s.rules.every((x) => x.pref >= 20000));
});

test('a new route_protocol: everything is moved to the new tag, nothing of the old one is left for anyone', async () => {
  const t = fakeTarget();
  await applyPrepared(prepFake(SEED_TEXT, t.kernel), t);
  const retagged = prepFake(`route_protocol: 80\n${SEED_TEXT}`, t.kernel);
  await applyPrepared(retagged, t);
  assert.ok(
    t.kernel.state.rules.every((r) => r.protocol === 80),
    'rules',
  );
  assert.ok(
    t.kernel.state.routes.every((r) => r.protocol === 80),
    'routes',
  );
  assert.equal((await applyPrepared(retagged, t)).changed, false, 'and the next apply finds nothing to do');
  await down(t);
  assert.deepEqual([t.kernel.state.rules, t.kernel.state.routes], [[], []]);
});

test('an apply given what the last one read back (`known`) reads only the nft table before its steps, and checks everything after', async () => {
  const t = fakeTarget();
  const first = await applyPrepared(prepFake(SEED_TEXT, t.kernel), t);
  const other = prepFake(SEED_TEXT.replace('default: isp1', 'default: isp2'), t.kernel);
  assert.notEqual(JSON.stringify(other.desired), JSON.stringify(first.afterSnapshot.state), 'a config that changes something');
  t.kernel.readLog.length = 0;
  const r = await applyState(other.desired, other.own, t, { known: first.afterSnapshot });
  assert.deepEqual(t.kernel.readLog, ['nft', 'state'], 'the table before the steps, everything after them');
  assert.equal(r.changed, true);
  // the same change from a full read ends in the same kernel
  const full = fakeTarget();
  await applyPrepared(prepFake(SEED_TEXT, full.kernel), full);
  await applyState(other.desired, other.own, full);
  assert.equal(JSON.stringify(t.kernel.state), JSON.stringify(full.kernel.state));
});

test('`known` without a sysctl this apply looks at is not enough: it reads everything', async () => {
  const t = fakeTarget();
  const first = await applyPrepared(prepFake(SEED_TEXT, t.kernel), t);
  const known = structuredClone(first.afterSnapshot);
  delete known.state.sysctls['net/ipv4/ip_forward'];
  t.kernel.readLog.length = 0;
  const again = await applyState(prepFake(SEED_TEXT, t.kernel).desired, prepFake(SEED_TEXT, t.kernel).own, t, { known, recordSysctls: true });
  assert.equal(again.changed, false);
  assert.deepEqual(t.kernel.readLog, ['state']);
});

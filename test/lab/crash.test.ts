// SIGKILL of `multihome apply` at many points of its work, on the real kernel:
// after each kill, `plan` never says "No changes." unless the kernel holds
// exactly the new config, `apply` completes it, and `down` leaves the
// namespace exactly as it was before multihome. Half of the kills take the
// whole process group (an `ip -batch` dies mid-way too), half only multihome
// (its running `ip`/`nft` child finishes on its own).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { cli } from '../helpers/cli.js';
import { MAIN } from '../helpers/daemon.js';
import { withSeedLab } from '../helpers/lab.js';
import { comparableSnapshot } from '../helpers/snapshot.js';

const A = 'providers:\n  isp1: { interface: eth1, gateway: 205.254.211.254, snat: 205.254.211.179 }\ndefault: isp1\n';
// both uplinks, rule_priority and table ids moved, a policy: sysctls, routes, rules, nft, deletions
const B = `rule_priority: 20000
providers:
  isp1: { interface: eth1, gateway: 205.254.211.254, snat: 205.254.211.179, table: 120 }
  isp2: { interface: eth4, gateway: 67.17.28.14, snat: 67.17.28.12, table: 220, mark: 4 }
default: isp1
policies:
  - name: office-web-via-isp2
    match: { from: 192.168.99.0/24, protocol: tcp, dport: [80, 443, 8080] }
    via: isp2
`;
const POINTS = 44;

/** Start `apply -c FILE` in its own process group; kill it (or its whole group) after `ms`; resolves with its exit code. */
function applyKilledAfter(netns: string, state: string, file: string, ms: number, group: boolean): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, MAIN, '--state-dir', state, 'apply', '-c', file], { detached: true, stdio: 'ignore' });
    const timer = setTimeout(() => {
      try {
        process.kill(group ? -child.pid! : child.pid!, 'SIGKILL');
      } catch {
        // already done
      }
    }, ms);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

test(`SIGKILL of apply at ${POINTS} points: no mix is invisible to plan, apply completes it, down restores the namespace exactly`, async (t) => {
  await withSeedLab(t, async (router) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mh-crash-'));
    const state = path.join(dir, 'state');
    const fa = path.join(dir, 'a.yaml');
    const fb = path.join(dir, 'b.yaml');
    fs.writeFileSync(fa, A);
    fs.writeFileSync(fb, B);
    const ok = async (args: string[]) => {
      const r = await cli(args, { netns: router, stateDir: state });
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      return r;
    };
    const pristine = await comparableSnapshot(router);
    await ok(['apply', '-c', fb]);
    const wantB = await comparableSnapshot(router);
    await ok(['down']);
    assert.deepEqual(await comparableSnapshot(router), pristine);
    // When does A → B change the kernel? From the journal's appearance to the end of the process.
    // Timed three times and the fastest kept: one apply slowed by this machine's other tenants
    // would spread every kill past the end of the (faster) applies that follow, and none would
    // land mid-way.
    let first = 0;
    let total = Infinity;
    for (let k = 0; k < 3; k++) {
      await ok(['apply', '-c', fa]);
      const t0 = Date.now();
      let seen = 0;
      const watcher = setInterval(() => {
        if (!seen && fs.existsSync(path.join(state, 'journal.json'))) seen = Date.now() - t0;
      }, 1);
      await applyKilledAfter(router, state, fb, 60_000, false);
      const took = Date.now() - t0;
      clearInterval(watcher);
      await ok(['down']);
      if (took < total) [first, total] = [seen, took];
    }
    const from = Math.max(0, (first || total / 2) - 20);
    t.diagnostic(`apply A → B: kernel changes from ${first} ms to ${total} ms after its start (fastest of 3); kills from ${from} ms`);

    let mixed = 0;
    let invisible = 0;
    let dirtyDowns = 0;
    for (let i = 0; i < POINTS; i++) {
      await ok(['apply', '-c', fa]);
      const at = Math.round(from + ((total - from) * i) / (POINTS - 1));
      const code = await applyKilledAfter(router, state, fb, at, i % 2 === 0);
      const plan = await cli(['plan', '-c', fb, '--json'], { netns: router, stateDir: state });
      assert.equal(plan.code, 0, plan.stdout + plan.stderr);
      const now = await comparableSnapshot(router);
      const holdsB = JSON.stringify(now) === JSON.stringify(wantB);
      if (!holdsB) mixed++;
      if (!(JSON.parse(plan.stdout) as { changes: boolean }).changes && !holdsB) invisible++;
      await ok(['apply', '-c', fb]);
      assert.deepEqual(await comparableSnapshot(router), wantB, `kill at ${at} ms (exit ${code}): apply completes B`);
      await ok(['down']);
      if (JSON.stringify(await comparableSnapshot(router)) !== JSON.stringify(pristine)) dirtyDowns++;
    }
    t.diagnostic(`${POINTS} kills from ${from} to ${total} ms: ${mixed} left a mix; ${invisible} invisible to plan; ${dirtyDowns} downs not pristine`);
    assert.equal(invisible, 0, 'every mix shows in plan');
    assert.equal(dirtyDowns, 0, 'every down restores the namespace exactly');
    assert.ok(mixed > 0, 'some kills did land mid-way');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

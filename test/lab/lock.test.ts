// Two writers of one namespace must be impossible: 30 daemons started at the
// same moment (with a lock file left behind holding garbage, as after a crash)
// → exactly one runs, every other one says who holds the lock and exits 1;
// the winner killed with SIGKILL → of two new ones started together, exactly
// one runs again. The lock is an flock held for the process's life, so a dead
// holder leaves nothing stale.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { spawnInNetns, type BackgroundProcess } from '../../src/kernel/netns.js';
import { cli } from '../helpers/cli.js';
import { MAIN, until } from '../helpers/daemon.js';
import { withSeedLab } from '../helpers/lab.js';
import { repoPath } from '../helpers/paths.js';

const SEED = repoPath('examples', 'seed.yaml');

async function race(router: string, state: string, n: number, dir: string): Promise<{ running: BackgroundProcess[]; refused: number }> {
  const logs = Array.from({ length: n }, (_, i) => path.join(dir, `d${Date.now()}-${i}.log`));
  const procs = logs.map((log) =>
    spawnInNetns(router, [process.execPath, MAIN, '--state-dir', state, 'run', '-c', SEED, '--log-format', 'json'], { stderrTo: log }),
  );
  const codes = new Map<BackgroundProcess, number>();
  for (const p of procs) void p.exited.then((c) => codes.set(p, c));
  // the losers exit at once; the winner applies and answers status
  await until('all but one have exited', 30_000, () => codes.size >= n - 1);
  await new Promise((r) => setTimeout(r, 1000)); // a second winner would have started by now
  const running = procs.filter((p) => !codes.has(p));
  const refused = logs.filter(
    (l, i) => codes.get(procs[i]!) === 1 && /another multihome \(pid \d+\) is changing this system/.test(fs.readFileSync(l, 'utf8')),
  ).length;
  return { running, refused };
}

test('30 daemons started at once: exactly one runs; after it is killed, of two started together exactly one runs', async (t) => {
  await withSeedLab(t, async (router) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mh-lock-'));
    const state = path.join(dir, 'state');
    fs.mkdirSync(state, { mode: 0o700 });
    fs.writeFileSync(path.join(state, 'lock'), '-1\n', { mode: 0o600 }); // left by a crash, garbage inside
    const first = await race(router, state, 30, dir);
    assert.equal(first.running.length, 1, 'exactly one daemon runs');
    assert.equal(first.refused, 29, 'every other one was refused, naming the holder');
    const status = await cli(['status', '--json'], { netns: router, stateDir: state });
    assert.equal(status.code, 0);
    assert.equal((JSON.parse(status.stdout) as { pid: number }).pid, first.running[0]!.pid);
    // apply while the daemon holds the lock: refused, nothing changed
    const apply = await cli(['apply', '-c', SEED], { netns: router, stateDir: state });
    assert.equal(apply.code, 1);
    assert.match(apply.stderr, /another multihome \(pid \d+\) is changing this system/);

    process.kill(first.running[0]!.pid, 'SIGKILL');
    let gone = false;
    void first.running[0]!.exited.then(() => (gone = true));
    await until('the killed daemon is gone', 5000, () => gone); // polling keeps the event loop alive (the child is unref'd)
    const second = await race(router, state, 2, dir);
    assert.equal(second.running.length, 1, 'exactly one of two runs after the holder was killed');
    assert.equal(second.refused, 1);
    await second.running[0]!.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

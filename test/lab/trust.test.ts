// multihome runs as root: nothing another user can write may steer it. Each
// finding of the security review, reproduced with a real unprivileged user
// (setpriv to nobody) and shown refused: a state dir that user made or can
// write, a symbolic link planted for root to follow, a socket planted for
// `status` to talk to, a pending-confirm record naming someone else's process,
// hooks that user can replace, and the control socket's first moment under
// umask 000.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { run } from '../../src/kernel/exec.js';
import { cli } from '../helpers/cli.js';
import { MAIN, startDaemon, until } from '../helpers/daemon.js';
import { withSeedLab } from '../helpers/lab.js';
import { repoPath } from '../helpers/paths.js';
import { rawSnapshot } from '../helpers/snapshot.js';

const SEED = repoPath('examples', 'seed.yaml');
const NOBODY = 65534;

/** Run argv as the unprivileged user. */
function asNobody(argv: string[]): { status: number | null; stderr: string } {
  const r = spawnSync('setpriv', ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups', ...argv], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

function canTest(t: TestContext): boolean {
  if (process.getuid?.() !== 0) {
    t.skip('needs root (to become another user)');
    return false;
  }
  if (spawnSync('setpriv', ['--version']).status !== 0) {
    t.skip('needs setpriv (util-linux)');
    return false;
  }
  return true;
}

/** A folder under /tmp that the unprivileged user made (so it is theirs). */
function userDir(name: string): string {
  const d = path.join(os.tmpdir(), `mh-trust-${name}-${process.pid}-${Date.now()}`);
  assert.equal(asNobody(['mkdir', '-m', '0755', d]).status, 0);
  return d;
}

test('a state dir another user made, or can write to, is refused by plan, apply, down and status', async (t) => {
  if (!canTest(t)) return;
  await withSeedLab(t, async (router) => {
    const theirs = userDir('state');
    // records planted by that user: down would delete the kernel's own rules and set a sysctl of their choice
    const evil = JSON.stringify({ fingerprint: '', digest: '', ownership: { protocol: 2, prefs: [0, 32767], tables: [254, 255] } });
    assert.equal(
      asNobody(['sh', '-c', `printf '%s' '${evil}' > ${theirs}/nft.json && printf '{"net/ipv4/ip_forward":"1"}' > ${theirs}/sysctl-originals.json`]).status,
      0,
    );
    const loose = fs.mkdtempSync(path.join(os.tmpdir(), 'mh-trust-loose-'));
    fs.chmodSync(loose, 0o777);
    const before = await rawSnapshot(router);
    try {
      for (const dir of [theirs, loose]) {
        for (const args of [['plan', '-c', SEED], ['apply', '-c', SEED], ['down'], ['status']]) {
          const r = await cli(args, { netns: router, stateDir: dir });
          assert.equal(r.code, 1, `${args[0]} with ${dir}: ${r.stderr}`);
          assert.match(r.stderr, /the state directory .* is not safe: .*(belongs to uid 65534|can be written by every user)/);
        }
      }
      assert.deepEqual(await rawSnapshot(router), before, 'nothing was touched');
      assert.equal((await cli(['plan', '-c', SEED], { netns: router })).code, 0, 'the default state dir is fine');
    } finally {
      fs.rmSync(theirs, { recursive: true, force: true });
      fs.rmSync(loose, { recursive: true, force: true });
    }
  });
});

test('a symbolic link in the state dir is never followed: a root-owned file it points to stays as it was', async (t) => {
  if (!canTest(t)) return;
  await withSeedLab(t, async (router) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mh-trust-link-'));
    const victim = path.join(dir, 'victim');
    fs.writeFileSync(victim, 'root owns this\n', { mode: 0o600 });
    const state = path.join(dir, 'state');
    fs.mkdirSync(state, { mode: 0o700 });
    fs.symlinkSync(victim, path.join(state, 'nft.json'));
    fs.symlinkSync(victim, path.join(state, 'journal.json'));
    try {
      const r = await cli(['apply', '-c', SEED], { netns: router, stateDir: state });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /is a symbolic link; refusing to follow it/);
      assert.equal(fs.readFileSync(victim, 'utf8'), 'root owns this\n');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

test("status does not talk to a socket another user put in place of the daemon's", async (t) => {
  if (!canTest(t)) return;
  const dir = userDir('sock');
  const sock = path.join(dir, 'control.sock');
  // the user's fake daemon, listening where the real one would
  const fake = spawn(
    'setpriv',
    [
      '--reuid',
      String(NOBODY),
      '--regid',
      String(NOBODY),
      '--clear-groups',
      process.execPath,
      '-e',
      `require('net').createServer((c) => { c.end('{"ok":true,"status":{"planted":true}}\\n'); }).listen(${JSON.stringify(sock)}, () => console.log('ready'))`,
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  try {
    await new Promise<void>((resolve) => fake.stdout.once('data', () => resolve()));
    const r = await cli(['status', '--json'], { stateDir: dir });
    assert.equal(r.code, 1, r.stdout);
    assert.doesNotMatch(r.stdout, /planted/);
    assert.match(r.stdout, /belongs to uid 65534/);
  } finally {
    fake.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('confirm only signals its own timer: a pending record naming another process leaves that process alone', async (t) => {
  if (!canTest(t)) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mh-trust-confirm-'));
  const victim = spawn('sleep', ['60'], { stdio: 'ignore' });
  try {
    const pending = {
      deadline: Date.now() + 60_000,
      pid: victim.pid,
      before: {
        snapshot: { state: { rules: [], routes: [], nft: null, sysctls: {}, links: [] }, nftJson: null },
        own: { protocol: 77, prefs: [10000, 10999], tables: [] },
        sysctlKeys: [],
      },
    };
    fs.writeFileSync(path.join(dir, 'pending-confirm.json'), JSON.stringify(pending), { mode: 0o600 });
    const r = await cli(['confirm'], { stateDir: dir });
    assert.equal(r.code, 0, r.stderr);
    await new Promise((res) => setTimeout(res, 200));
    assert.equal(victim.exitCode, null, 'the other process still runs');
    assert.equal(victim.signalCode, null);
  } finally {
    victim.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('hooks another user can replace are refused: at start (located in the config), and at run time once they become writable', async (t) => {
  if (!canTest(t)) return;
  await withSeedLab(t, async (router) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mh-trust-hook-'));
    const theirs = userDir('hook');
    const userHook = path.join(theirs, 'hook.sh');
    assert.equal(asNobody(['sh', '-c', `printf '#!/bin/sh\\ntouch ${dir}/ran\\n' > ${userHook} && chmod 755 ${userHook}`]).status, 0);
    const state = path.join(dir, 'state');
    const cfg = path.join(dir, 'multihome.yaml');
    try {
      fs.writeFileSync(
        cfg,
        `providers:\n  isp1: { interface: eth1, gateway: 205.254.211.254, health: { probe: icmp, targets: [203.0.113.10] } }\ndefault: isp1\nhooks: [${userHook}]\n`,
      );
      const r = await run([process.execPath, MAIN, '--state-dir', state, 'run', '-c', cfg], { netns: router });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /multihome\.yaml:\d+:\d+: error: refusing to run hook .*hook\.sh: .* belongs to uid 65534/);

      // a root-owned hook the daemon accepts, made writable by others after the start: refused when it would run
      const rootHook = path.join(dir, 'root-hook.sh');
      fs.writeFileSync(rootHook, `#!/bin/sh\ntouch ${dir}/ran\n`, { mode: 0o755 });
      const d = await startDaemon(
        router,
        `providers:\n  isp1: { interface: eth1, gateway: 205.254.211.254, health: { probe: icmp, targets: [203.0.113.10] } }\n  isp2: { interface: eth4, gateway: 67.17.28.14 }\ndefault: isp1\nhooks: [${rootHook}]\n`,
      );
      try {
        fs.chmodSync(rootHook, 0o777);
        spawnSync('ip', ['-n', router, 'link', 'set', 'dev', 'eth1', 'down']);
        await until('the hook run was refused', 5000, () => d.events().some((e) => e.event === 'hook' && typeof e.refused === 'string'));
        assert.ok(!fs.existsSync(path.join(dir, 'ran')), 'the hook did not run');
      } finally {
        await d.daemon.stop();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(theirs, { recursive: true, force: true });
    }
  });
});

test("the control socket is root's from its first moment, even under umask 000: another user never gets through", async (t) => {
  if (!canTest(t)) return;
  await withSeedLab(t, async (router) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mh-trust-umask-'));
    fs.chmodSync(dir, 0o755);
    const state = path.join(dir, 'state');
    fs.mkdirSync(state, { mode: 0o755 }); // readable by others: only the socket's own mode protects it
    const sock = path.join(state, 'control.sock');
    // the user tries to connect as fast as it can while the daemon starts
    const script = `const net = require('net'); let ok = 0, tries = 0; const t0 = Date.now();
      (function go() { if (Date.now() - t0 > 8000) { console.log(JSON.stringify({ ok, tries })); return; }
        tries++; const c = net.connect(${JSON.stringify(sock)}); c.on('connect', () => { ok++; c.destroy(); setImmediate(go); }); c.on('error', () => setImmediate(go)); })();`;
    const client = spawn('setpriv', ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups', process.execPath, '-e', script], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    client.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const daemon = spawn(
      'ip',
      ['netns', 'exec', router, 'sh', '-c', 'umask 000; exec "$@"', 'sh', process.execPath, MAIN, '--state-dir', state, 'run', '-c', SEED],
      { stdio: 'ignore', detached: true },
    );
    try {
      await until('the client is done', 15_000, () => out.includes('tries'));
      const r = JSON.parse(out) as { ok: number; tries: number };
      assert.ok(fs.statSync(sock).isSocket());
      assert.equal(fs.statSync(sock).mode & 0o777, 0o600);
      assert.equal(r.ok, 0, `${r.ok} of ${r.tries} connections by another user got through`);
      assert.ok(r.tries > 10);
      assert.ok(
        await new Promise<boolean>((res) =>
          net
            .connect(sock)
            .on('connect', () => res(true))
            .on('error', () => res(false)),
        ),
        'root gets through',
      );
    } finally {
      process.kill(-daemon.pid!, 'SIGTERM');
      await new Promise((r) => setTimeout(r, 500));
      await cli(['down'], { netns: router, stateDir: state });
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

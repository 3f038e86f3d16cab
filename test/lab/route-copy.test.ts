// Issue 5 in the lab: `multihome run` with `routes: copy` keeps both provider
// tables equal to main — single changes, bursts of 10,000, a device going down
// with its routes, a restart in the middle of a sync — and reports another
// tool's route in a copy table instead of fighting over it; `down` removes the
// copies.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { run, runOk } from '../../src/kernel/exec.js';
import { spawnInNetns, type BackgroundProcess } from '../../src/kernel/netns.js';
import { copyDifferences, copyLabUp, countRoutes, ipBatch, routeBatch, type CopyLab } from '../../src/lab/copy-lab.js';
import { canRunLab } from '../helpers/lab.js';
import { repoPath } from '../helpers/paths.js';

const MAIN = repoPath('dist', 'src', 'cli', 'main.js');

async function withCopyLab(t: TestContext, extra: string, fn: (lab: CopyLab) => Promise<void>): Promise<void> {
  const why = canRunLab();
  if (why) return void t.skip(why);
  const lab = await copyLabUp('cp', extra);
  try {
    await fn(lab);
  } finally {
    await lab.down();
  }
}

const state = (lab: CopyLab) => path.join(lab.dir, 'state');
const cli = (lab: CopyLab, args: string[]) => run([process.execPath, MAIN, '--state-dir', state(lab), ...args], { netns: lab.router });
const startDaemon = (lab: CopyLab): BackgroundProcess =>
  spawnInNetns(lab.router, [process.execPath, MAIN, '--state-dir', state(lab), 'run', '-c', lab.config, '--log-format', 'json']);

interface CopyStatus {
  foreign: { table: number; route: string; protocol: number }[];
  mainRoutes: { 4: number; 6: number };
  driftRepaired: number;
  resyncs: number;
}
async function copyStatus(lab: CopyLab): Promise<CopyStatus> {
  const r = await cli(lab, ['status', '--json']);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { copy: CopyStatus }).copy;
}

/** Wait until the copy tables match main; returns the ms it took. */
async function converged(lab: CopyLab, what: string, ms = 10_000): Promise<number> {
  const t0 = Date.now();
  let diff: string[] = [];
  while (Date.now() - t0 < ms) {
    diff = await copyDifferences(lab.router);
    if (diff.length === 0) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`${what}: the copy tables do not match main after ${ms} ms: ${diff.length} differences, e.g.\n${diff.slice(0, 5).join('\n')}`);
}

async function until(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`${what}: not within ${ms} ms`);
}

test('the daemon keeps the copy tables equal to main: single changes, bursts of 10,000, a device going down; down removes the copies', async (t) => {
  await withCopyLab(t, 'copy: { check: 30s }\n', async (lab) => {
    const ns = lab.router;
    await runOk(['ip', 'route', 'add', '192.0.2.0/24', 'via', '10.2.0.1', 'proto', 'bgp'], { netns: ns });
    const daemon = startDaemon(lab);
    try {
      await until('the daemon answers', 10_000, async () => (await cli(lab, ['status', '--json'])).code === 0);
      await converged(lab, 'after start');

      // single changes, IPv4 and IPv6
      await runOk(['ip', 'route', 'add', '198.51.100.0/24', 'via', '10.1.0.1'], { netns: ns });
      await runOk(['ip', '-6', 'route', 'add', '2001:db8:77::/48', 'via', '2001:db8:2::1'], { netns: ns });
      await converged(lab, 'one add per family', 2000);
      await runOk(['ip', 'route', 'replace', '198.51.100.0/24', 'via', '10.2.0.1'], { netns: ns });
      await converged(lab, 'a replace', 2000);
      assert.deepEqual(await copyDifferences(ns), []);
      await runOk(['ip', 'route', 'del', '198.51.100.0/24'], { netns: ns });
      await runOk(['ip', '-6', 'route', 'del', '2001:db8:77::/48'], { netns: ns });
      await converged(lab, 'a delete per family', 2000);

      // a burst of 10,000 adds, then 10,000 replaces to the other uplink, then 10,000 deletes
      for (const verb of ['add', 'replace', 'del'] as const) {
        await ipBatch(ns, routeBatch(10_000, verb, verb === 'replace' ? '10.2.0.1' : '10.1.0.1'));
        const ms = await converged(lab, `a burst of 10,000 ${verb}s`, 15_000);
        t.diagnostic(`10,000 ${verb}s: tables matched main ${ms} ms after the burst`);
      }
      assert.equal(await countRoutes(ns, 100, 78), await countRoutes(ns, 101, 78));

      // a device going down takes its routes out of every table (no route event each)
      await runOk(['ip', 'link', 'add', 'name', 'side', 'type', 'veth', 'peer', 'name', 'side-peer'], { netns: ns });
      await runOk(['ip', 'addr', 'add', '10.9.0.2/24', 'dev', 'side'], { netns: ns });
      await runOk(['ip', 'link', 'set', 'side', 'up'], { netns: ns });
      await runOk(['ip', 'link', 'set', 'side-peer', 'up'], { netns: ns });
      await ipBatch(ns, routeBatch(500, 'add', '10.9.0.1'));
      await converged(lab, 'routes through a new device');
      await runOk(['ip', 'link', 'set', 'side', 'down'], { netns: ns });
      await converged(lab, 'the device down');
      // …and coming back: the same routes added again are copied again
      await runOk(['ip', 'link', 'set', 'side', 'up'], { netns: ns });
      await ipBatch(ns, routeBatch(500, 'add', '10.9.0.1'));
      await converged(lab, 'the device up again, its routes re-added');
    } finally {
      await daemon.stop();
    }
    // the routing stays when the daemon stops; `down` removes the copies too
    assert.ok((await countRoutes(ns, 100, 78)) > 500);
    const d = await cli(lab, ['down', '-c', lab.config]);
    assert.equal(d.code, 0, d.stderr);
    assert.equal(await countRoutes(ns, 100, 78), 0);
    assert.equal(await countRoutes(ns, 101, 78), 0);
  });
});

test("another tool's route in a copy table is reported and left alone; drift is repaired by the periodic check", async (t) => {
  await withCopyLab(t, 'copy: { check: 1s }\n', async (lab) => {
    const ns = lab.router;
    await runOk(['ip', 'route', 'add', '198.51.100.0/24', 'via', '10.1.0.1'], { netns: ns });
    const daemon = startDaemon(lab);
    try {
      await until('the daemon answers', 10_000, async () => (await cli(lab, ['status', '--json'])).code === 0);
      await converged(lab, 'after start');
      // another tool adds a route to table 100, at a key main also has
      await runOk(['ip', 'route', 'add', '203.0.113.0/24', 'dev', 'up2', 'table', '100', 'proto', 'static'], { netns: ns });
      await runOk(['ip', 'route', 'add', '203.0.113.0/24', 'via', '10.1.0.1'], { netns: ns });
      await until('the foreign route is reported', 3000, async () =>
        (await copyStatus(lab)).foreign.some((f) => f.table === 100 && f.route === '203.0.113.0/24' && f.protocol === 4),
      );
      // someone deletes a copy behind the copier's back: the periodic check puts it back, as drift
      await runOk(['ip', 'route', 'del', '198.51.100.0/24', 'table', '101', 'proto', '78'], { netns: ns });
      await until('the drift is repaired', 5000, async () => (await copyStatus(lab)).driftRepaired >= 1);
      // the foreign route is still there, untouched, and not replaced by a copy
      const r = JSON.parse(await runOk(['ip', '-j', 'route', 'show', 'table', '100', '203.0.113.0/24'], { netns: ns })) as {
        protocol?: string;
        dev?: string;
      }[];
      assert.equal(r.length, 1);
      assert.equal(r[0]!.dev, 'up2');
      assert.equal(r[0]!.protocol, 'static');
      // table 101 has no foreign route there: it got the copy
      const diff = await copyDifferences(ns);
      assert.deepEqual(
        diff.filter((x) => x.startsWith('table 101')),
        [],
      );
    } finally {
      await daemon.stop();
    }
  });
});

test('killed in the middle of its first sync, the daemon converges after a restart, without duplicates', async (t) => {
  await withCopyLab(t, 'copy: { check: 30s }\n', async (lab) => {
    const ns = lab.router;
    await ipBatch(ns, routeBatch(100_000, 'add'));
    let daemon = startDaemon(lab);
    try {
      // kill it once some copies are in and not all
      await until('the first copies appear', 20_000, async () => (await countRoutes(ns, 100, 78)) > 0 || (await countRoutes(ns, 101, 78)) > 0);
      process.kill(daemon.pid, 'SIGKILL');
      await daemon.stop();
      const partial = (await countRoutes(ns, 100, 78)) + (await countRoutes(ns, 101, 78));
      t.diagnostic(`killed with ${partial} of ${2 * 100_000} copies written`);
      daemon = startDaemon(lab);
      await converged(lab, 'after the restart', 30_000);
      // each copy once per table: the kernel would hold a second route with the same key only if it were appended
      assert.equal(await countRoutes(ns, 100, 78), await countRoutes(ns, 101, 78));
    } finally {
      await daemon.stop();
    }
  });
});

test('RouteLookup answers as `ip route get fibmatch … mark` does: the matching route and its table', async (t) => {
  await withCopyLab(t, '', async (lab) => {
    const ns = lab.router;
    await runOk(['ip', 'route', 'add', '100.1.2.0/24', 'via', '10.1.0.1', 'table', '100', 'proto', '78'], { netns: ns });
    await runOk(['ip', 'route', 'add', 'default', 'via', '10.1.0.1', 'table', '100'], { netns: ns });
    await runOk(['ip', 'rule', 'add', 'pref', '1', 'fwmark', '0x7e570064', 'lookup', '100'], { netns: ns });
    const probe = `
      const { RouteLookup } = await import(${JSON.stringify(repoPath('dist', 'src', 'kernel', 'rtnetlink.js'))});
      const l = new RouteLookup();
      const show = (r) => r && { dst: [...r.dst].join('.'), len: r.len, table: r.table };
      const out = [];
      for (const [a, mark] of [[[100, 1, 2, 1], 0x7e570064], [[100, 1, 3, 1], 0x7e570064], [[100, 1, 2, 1], 0]]) out.push(show(await l.match(new Uint8Array(a), mark)));
      l.close();
      console.log(JSON.stringify(out));`;
    const got = JSON.parse(await runOk([process.execPath, '--input-type=module', '-e', probe], { netns: ns })) as ({
      dst: string;
      len: number;
      table: number;
    } | null)[];
    const ip = async (addr: string, mark?: string) => {
      const j = JSON.parse(await runOk(['ip', '-j', 'route', 'get', 'fibmatch', addr, ...(mark ? ['mark', mark] : [])], { netns: ns })) as {
        dst: string;
        table?: string;
      }[];
      return { dst: j[0]!.dst, table: j[0]!.table ?? 'main' };
    };
    assert.deepEqual(got[0], { dst: '100.1.2.0', len: 24, table: 100 });
    assert.deepEqual(await ip('100.1.2.1', '0x7e570064'), { dst: '100.1.2.0/24', table: '100' });
    // not in table 100: its default route matches there, as for ip
    assert.equal(got[1]!.len, 0);
    assert.equal(got[1]!.table, 100);
    assert.deepEqual(await ip('100.1.3.1', '0x7e570064'), { dst: 'default', table: '100' });
    // without the mark the lookup goes by main
    assert.equal(got[2]!.table, 254);
    assert.equal((await ip('100.1.2.1')).table, 'main');
  });
});

test("the route event listener forwards other routes' events whole and counts the copy protocol's echoes, in a burst", async (t) => {
  await withCopyLab(t, '', async (lab) => {
    const ns = lab.router;
    // in the namespace: follow events through the listener process, then make 3,000 routes of
    // protocol 78 (echoes) and 500 of protocol static in one burst each
    const probe = `
      const { followRoutesIsolated } = await import(${JSON.stringify(repoPath('dist', 'src', 'kernel', 'rtnetlink.js'))});
      const { decodeRoute, messages } = await import(${JSON.stringify(repoPath('dist', 'src', 'routecopy', 'codec.js'))});
      const { execFileSync } = await import('node:child_process');
      let echoes = 0, others = 0, ended = null;
      const ev = await followRoutesIsolated(78, (buf) => {
        for (const m of messages(buf)) { const r = decodeRoute(buf, m.off); if (r && r.table === 100) others++; }
      }, (why) => (ended = why), (n) => (echoes += n));
      const batch = (proto) => Array.from({ length: proto === 78 ? 3000 : 500 }, (_, i) => 'route add 100.' + (proto === 78 ? 64 : 65) + '.' + (i >> 8) + '.' + (i & 255) + '/32 via 10.1.0.1 table 100 proto ' + proto).join('\\n') + '\\n';
      execFileSync('ip', ['-batch', '-'], { input: batch(78) });
      execFileSync('ip', ['-batch', '-'], { input: batch('static') });
      for (let i = 0; i < 100 && (echoes < 3000 || others < 500); i++) await new Promise((r) => setTimeout(r, 20));
      ev.close();
      console.log(JSON.stringify({ echoes, others, ended }));`;
    const got = JSON.parse(await runOk([process.execPath, '--input-type=module', '-e', probe], { netns: ns })) as {
      echoes: number;
      others: number;
      ended: string | null;
    };
    assert.deepEqual(got, { echoes: 3000, others: 500, ended: null });
  });
});

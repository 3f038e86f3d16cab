// Health probes test the uplink they are bound to (issue 4, point 2): in the
// seed lab with multihome applied, main's default is isp1, yet probes bound to
// isp2's address leave by isp2. With isp2's upstream cut while its link to the
// router stays up, isp2's probes fail and isp1's still succeed; restored, both
// succeed again. Probes run inside the router namespace (a child node process
// importing the compiled probe module; ping through src/kernel/ping.ts).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { ProbeOutcome } from '../../src/health/probe.js';
import { runOk } from '../../src/kernel/exec.js';
import { execInNetns, spawnInNetns } from '../../src/kernel/netns.js';
import { startPing, type Pinger, type PingResult } from '../../src/kernel/ping.js';
import { installUplinkCounter, nsOf, probe, startEchoServer } from '../../src/lab/index.js';
import { SEED_SERVER, SEED_TOPOLOGY } from '../../src/lab/seed.js';
import { cli } from '../helpers/cli.js';
import { withSeedLab } from '../helpers/lab.js';
import { repoPath } from '../helpers/paths.js';

const SEED = repoPath('examples', 'seed.yaml');
const PROBE_MODULE = pathToFileURL(repoPath('dist', 'src', 'health', 'probe.js')).href;
const ISP1 = '205.254.211.179';
const ISP2 = '67.17.28.12';

type Call = { fn: 'probeTcp' | 'probeDns' | 'probeHttp'; args: Record<string, unknown> };

/** Run probes concurrently in a fresh node process inside `ns`. */
async function probesIn(ns: string, calls: Call[]): Promise<ProbeOutcome[]> {
  const script =
    'const m = await import(process.argv[1]); const calls = JSON.parse(process.argv[2]);' +
    'console.log(JSON.stringify(await Promise.all(calls.map((c) => m[c.fn](c.args)))));';
  const r = await execInNetns(ns, [process.execPath, '--input-type=module', '-e', script, PROBE_MODULE, JSON.stringify(calls)], { timeoutMs: 20_000 });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as ProbeOutcome[];
}

const tcp = (source: string, port = 80): Call => ({ fn: 'probeTcp', args: { target: SEED_SERVER, port, source, timeoutMs: 800 } });
const dns = (source: string, port = 5353): Call => ({ fn: 'probeDns', args: { target: SEED_SERVER, port, name: 'probe.example', source, timeoutMs: 800 } });
const httpCall = (source: string, pathPart = '/', expectStatus?: number): Call => ({
  fn: 'probeHttp',
  args: { url: `http://${SEED_SERVER}:8080${pathPart}`, source, timeoutMs: 800, expectStatus },
});

// The echo server answers UDP 53 with JSON and TCP 80 with a JSON line, neither
// DNS nor HTTP: a tiny DNS responder (always NXDOMAIN — the rcode must not
// matter) and HTTP server (204, or 418 on /teapot) on the internet host.
const DNS_HTTP_SERVER = `
import dgram from 'node:dgram'; import http from 'node:http';
const u = dgram.createSocket('udp4');
u.on('message', (m, r) => { const a = Buffer.from(m); a[2] |= 0x80; a[3] = (a[3] & 0xf0) | 3; u.send(a, r.port, r.address); });
await new Promise((ok) => u.bind(5353, '${SEED_SERVER}', ok));
const h = http.createServer((q, s) => { s.statusCode = q.url === '/teapot' ? 418 : 204; s.end(); });
await new Promise((ok) => h.listen(8080, '${SEED_SERVER}', ok));
console.log('ready');`;

/** Poll until `cond` holds (results arrive asynchronously from ping). */
async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('probes leave by the uplink they are bound to; a dead upstream fails only that uplink', async (t) => {
  await withSeedLab(t, async (router, inst) => {
    const state = fs.mkdtempSync(path.join(os.tmpdir(), 'mh-state-'));
    const applied = await cli(['apply', '-c', SEED], { netns: router, stateDir: state });
    assert.equal(applied.code, 0, applied.stderr);
    await startEchoServer(inst, 'inet');
    const extra = spawnInNetns(nsOf(inst, 'inet'), [process.execPath, '--input-type=module', '-e', DNS_HTTP_SERVER]);
    const pings: Pinger[] = [];
    try {
      await extra.waitForOutput('ready', 10_000);
      const mainDefault = await runOk(['ip', 'route', 'show', 'default'], { netns: router });
      assert.match(mainDefault, /via 205\.254\.211\.254 dev eth1/, "main's default is isp1");

      // (a) a TCP probe bound to isp2's address arrives at the internet host over isp2.
      const counter = await installUplinkCounter(nsOf(inst, 'inet'), ['isp1', 'isp2']);
      const c0 = await counter.snapshot();
      const [viaIsp2] = await probesIn(router, [tcp(ISP2)]);
      assert.ok(viaIsp2!.ok, viaIsp2!.error);
      const c1 = await counter.snapshot();
      assert.deepEqual({ isp1: c1['isp1']! - c0['isp1']!, isp2: c1['isp2']! - c0['isp2']! }, { isp1: 0, isp2: 1 }, 'the probe arrived over isp2');
      assert.deepEqual(await probe(router, { proto: 'tcp', host: SEED_SERVER, port: 80, bind: ISP2 }), { seen: ISP2, port: 80, proto: 'tcp' });

      const icmp: Record<string, PingResult[]> = { isp1: [], isp2: [] };
      for (const [name, source] of [
        ['isp1', ISP1],
        ['isp2', ISP2],
      ] as const) {
        pings.push(startPing({ target: SEED_SERVER, source, intervalMs: 100, timeoutMs: 300, netns: router, onResult: (r) => icmp[name]!.push(r) }));
      }
      const okSince = (name: string, from: number) => icmp[name]!.slice(from).filter((r) => r.ok).length;
      const failSince = (name: string, from: number) => icmp[name]!.slice(from).filter((r) => !r.ok).length;
      const all = (calls: Call[]) => probesIn(router, calls);
      const both = (s: string) => [tcp(s), dns(s), httpCall(s), httpCall(s, '/teapot', 418), httpCall(s, '/teapot')];

      // Healthy: every probe kind succeeds on both uplinks (and the non-DNS echo on UDP 53 does not count).
      await until('ICMP replies on both uplinks', () => okSince('isp1', 0) >= 3 && okSince('isp2', 0) >= 3);
      const healthy = await all([...both(ISP1), ...both(ISP2), dns(ISP2, 53)]);
      assert.deepEqual(
        healthy.map((r) => r.ok),
        [true, true, true, true, false, true, true, true, true, false, false],
        JSON.stringify(healthy),
      );
      assert.match(healthy[4]!.error!, /HTTP status 418/);
      assert.match(healthy[10]!.error!, /timeout/, 'a reply that is not DNS is ignored');

      // (b) isp2's upstream dies, its link to the router stays up ("up" is an
      // `ip link` keyword, hence `dev`).
      await runOk(['ip', 'link', 'set', 'dev', 'up', 'down'], { netns: nsOf(inst, 'isp2') });
      assert.match(await runOk(['ip', '-br', 'link', 'show', 'dev', 'eth4'], { netns: router }), /\bUP\b/, "the router's isp2 link stays up");
      const cut = { isp1: icmp['isp1']!.length, isp2: icmp['isp2']!.length };
      const dead = await all([tcp(ISP1), dns(ISP1), httpCall(ISP1), tcp(ISP2), dns(ISP2), httpCall(ISP2)]);
      assert.deepEqual(
        dead.map((r) => r.ok),
        [true, true, true, false, false, false],
        JSON.stringify(dead),
      );
      await until('ICMP failures on isp2 only', () => failSince('isp2', cut.isp2) >= 3 && okSince('isp1', cut.isp1) >= 3);
      assert.equal(failSince('isp1', cut.isp1), 0, 'isp1 unaffected');

      // (c) restored: isp2's probes succeed again. Setting a link down drops
      // the routes through it, so the provider's default comes back too.
      await runOk(['ip', 'link', 'set', 'dev', 'up', 'up'], { netns: nsOf(inst, 'isp2') });
      const isp2Default = SEED_TOPOLOGY.routes.find((r) => r.role === 'isp2')!.spec;
      await runOk(['ip', 'route', 'replace', ...isp2Default], { netns: nsOf(inst, 'isp2') });
      const back = icmp['isp2']!.length;
      await until('ICMP replies on isp2 again', () => okSince('isp2', back) >= 3);
      const restored = await all([tcp(ISP1), tcp(ISP2), dns(ISP2), httpCall(ISP2)]);
      assert.deepEqual(
        restored.map((r) => r.ok),
        [true, true, true, true],
        JSON.stringify(restored),
      );
      for (const r of icmp['isp2']!.filter((x) => x.ok)) assert.ok(r.rttMs! >= 0 && r.sentAt <= r.at);
    } finally {
      // The servers are ended by the lab teardown (their stop() awaits an
      // unref'd child, which would let the test's event loop run dry).
      for (const p of pings) await p.stop();
    }
  });
});

test("with its table flushed by someone else, an uplink's probes and connections fail instead of leaving by another uplink", async (t) => {
  await withSeedLab(t, async (router, inst) => {
    const state = fs.mkdtempSync(path.join(os.tmpdir(), 'mh-state-'));
    assert.equal((await cli(['apply', '-c', SEED], { netns: router, stateDir: state })).code, 0);
    await startEchoServer(inst, 'inet');
    const counter = await installUplinkCounter(nsOf(inst, 'inet'), ['isp1', 'isp2']);
    await runOk(['ip', 'route', 'flush', 'table', '4'], { netns: router }); // isp2's table (the seed's table 4)
    const c0 = await counter.snapshot();
    const [viaMain] = await probesIn(router, [tcp(ISP2)]);
    assert.equal(viaMain!.ok, false, 'the probe fails: its uplink has no route');
    assert.match(viaMain!.error ?? '', /ENETUNREACH|unreachable/i);
    const results: PingResult[] = [];
    const pg = startPing({ target: SEED_SERVER, source: ISP2, intervalMs: 100, timeoutMs: 300, netns: router, onResult: (r) => results.push(r) });
    try {
      await until("ping from isp2's address fails", () => results.filter((r) => !r.ok).length >= 2);
      assert.equal(results.filter((r) => r.ok).length, 0);
    } finally {
      await pg.stop();
    }
    // the LAN's web traffic (the seed sends it by isp2) is refused too, not sent by isp1 with isp2's address
    const lan = await probe(nsOf(inst, 'lan'), { proto: 'tcp', host: SEED_SERVER, port: 80, timeoutMs: 1000 });
    assert.ok('error' in lan, JSON.stringify(lan));
    const c1 = await counter.snapshot();
    assert.deepEqual({ isp1: c1['isp1']! - c0['isp1']!, isp2: c1['isp2']! - c0['isp2']! }, { isp1: 0, isp2: 0 }, 'nothing left by isp1 (or isp2)');
  });
});

// Failing over one provider deletes only its connections' conntrack entries
// (by mark): a long TCP connection on the healthy uplink keeps working.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { deleteConntrackByMark } from '../../src/kernel/conntrack.js';
import { run } from '../../src/kernel/exec.js';
import { spawnInNetns } from '../../src/kernel/netns.js';
import { nsOf } from '../../src/lab/index.js';
import { cli } from '../helpers/cli.js';
import { withSeedLab } from '../helpers/lab.js';
import { repoPath } from '../helpers/paths.js';

/** Entries with this mark in the router's table (counted from conntrack's own summary line). */
async function entries(ns: string, mark: string): Promise<number> {
  const r = await run(['conntrack', '-L', '-f', 'ipv4', '--mark', mark], { netns: ns });
  return Number(/(\d+) flow entries have been shown/.exec(r.stderr)?.[1] ?? -1);
}

// A server that keeps connections open and echoes, and a client that holds one open to each port,
// sends a byte every 100 ms, and reports how many echoes came back per port when told to stop.
const SERVER = `require('node:net').createServer((s) => s.pipe(s)).listen(7001, '0.0.0.0', () => console.log('ready'));
require('node:net').createServer((s) => s.pipe(s)).listen(80, '0.0.0.0');`;
const CLIENT = `const net = require('node:net');
const got = { 7001: 0, 80: 0 }, closed = { 7001: false, 80: false };
for (const port of [7001, 80]) {
  const s = net.connect({ host: '203.0.113.10', port });
  s.on('data', (d) => (got[port] += d.length));
  s.on('error', () => (closed[port] = true));
  s.on('close', () => (closed[port] = true));
  setInterval(() => { if (!closed[port]) s.write('x'); }, 100);
}
setTimeout(() => { console.log(JSON.stringify({ got, closed })); process.exit(0); }, Number(process.argv[1]));`;

test("deleting one provider's conntrack entries by mark leaves the other provider's connection alive", async (t) => {
  await withSeedLab(t, async (router, inst) => {
    const state = fs.mkdtempSync(path.join(os.tmpdir(), 'mh-ct-'));
    assert.equal((await cli(['apply', '-c', repoPath('examples', 'seed.yaml')], { netns: router, stateDir: state })).code, 0);
    const server = spawnInNetns(nsOf(inst, 'inet'), [process.execPath, '-e', SERVER]);
    await server.waitForOutput('ready', 5000);
    // port 7001 is "everything else" (isp1, mark 1); port 80 from the office goes by isp2 (mark 4)
    const clientRun = run([process.execPath, '-e', CLIENT, '3000'], { netns: nsOf(inst, 'lan'), timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 1000));
    assert.ok((await entries(router, '0x4/0xff')) >= 1, 'an isp2 connection is tracked');
    assert.ok((await entries(router, '0x1/0xff')) >= 1, 'an isp1 connection is tracked');
    const before = await entries(router, '0x1/0xff');
    const isp2 = await entries(router, '0x4/0xff');

    const deleted = await deleteConntrackByMark(4, 0xff, { netns: router });
    // (the isp2 client keeps sending, so its next packet is tracked — and classified — anew)
    assert.equal(deleted, isp2, `deleted exactly the ${isp2} isp2 entries`);
    assert.equal(await entries(router, '0x1/0xff'), before, 'isp1 entries are untouched');

    const out = JSON.parse((await clientRun).stdout) as { got: Record<string, number>; closed: Record<string, boolean> };
    assert.equal(out.closed['7001'], false, 'the isp1 connection survives');
    assert.ok(out.got['7001']! >= 25, `the isp1 connection kept echoing: ${out.got['7001']}`);
    assert.equal(await deleteConntrackByMark(9, 0xff, { netns: router }), 0, 'nothing to delete is not an error');
  });
});

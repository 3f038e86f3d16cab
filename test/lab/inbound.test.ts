// Connections that arrive on an uplink are marked for it, so replies leave by
// the same uplink: a port forward on isp2's address answers through isp2,
// even though main's default route points at isp1 (and rp_filter is strict).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runOk } from '../../src/kernel/exec.js';
import { nsOf, probe, startEchoServer, type LabInstance } from '../../src/lab/index.js';
import { cli } from '../helpers/cli.js';
import { withSeedLab } from '../helpers/lab.js';
import { repoPath } from '../helpers/paths.js';

/** Packets received per interface of the internet host. */
async function rxPackets(inst: LabInstance): Promise<Record<string, number>> {
  const links = JSON.parse(await runOk(['ip', '-j', '-s', 'link', 'show'], { netns: nsOf(inst, 'inet') })) as {
    ifname: string;
    stats64: { rx: { packets: number } };
  }[];
  return Object.fromEntries(links.map((l) => [l.ifname, l.stats64.rx.packets]));
}

test('a port forward on isp2 answers through isp2 (connmark), not main\'s default via isp1', async (t) => {
  await withSeedLab(t, async (router, inst) => {
    const state = fs.mkdtempSync(path.join(os.tmpdir(), 'mh-state-'));
    await startEchoServer(inst, 'lan');
    // The site's own firewall forwards TCP 8080 on isp2's address to the LAN host's port 80.
    await runOk(['nft', '-f', '-'], {
      netns: router,
      input: 'table ip site {\n chain forwards {\n  type nat hook prerouting priority dstnat;\n  ip daddr 67.17.28.12 tcp dport 8080 dnat to 192.168.99.10:80\n }\n}\n',
    });
    const a = await cli(['apply', '-c', repoPath('examples', 'seed.yaml')], { netns: router, stateDir: state });
    assert.equal(a.code, 0, a.stderr);

    const before = await rxPackets(inst);
    const r = await probe(nsOf(inst, 'inet'), { proto: 'tcp', host: '67.17.28.12', port: 8080 });
    assert.ok('seen' in r, `the forwarded connection is answered: ${JSON.stringify(r)}`);
    const after = await rxPackets(inst);
    assert.ok(after.isp2! - before.isp2! >= 2, 'replies arrive through isp2');
    assert.equal(after.isp1! - before.isp1!, 0, 'nothing comes back through isp1');
    assert.equal((await cli(['down'], { netns: router, stateDir: state })).code, 0);
  });
});

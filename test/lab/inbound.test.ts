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

/**
 * The forwarded connection's replies (from 67.17.28.12:8080) counted per arrival interface of the
 * internet host. Only those packets: links also carry IPv6 neighbour discovery now and then.
 */
async function installReplyCounter(inst: LabInstance): Promise<void> {
  const rule = (dev: string) => `  iifname "${dev}" ip saddr 67.17.28.12 tcp sport 8080 counter comment "${dev}"`;
  await runOk(['nft', '-f', '-'], {
    netns: nsOf(inst, 'inet'),
    input: `table inet replies {\n chain c {\n  type filter hook prerouting priority -300;\n${rule('isp1')}\n${rule('isp2')}\n }\n}\n`,
  });
}

async function replies(inst: LabInstance): Promise<Record<string, number>> {
  const doc = JSON.parse(await runOk(['nft', '-j', 'list', 'table', 'inet', 'replies'], { netns: nsOf(inst, 'inet') })) as {
    nftables: { rule?: { comment?: string; expr: { counter?: { packets: number } }[] } }[];
  };
  const out: Record<string, number> = {};
  for (const it of doc.nftables) if (it.rule?.comment) out[it.rule.comment] = it.rule.expr.find((e) => e.counter)?.counter?.packets ?? 0;
  return out;
}

test("a port forward on isp2 answers through isp2 (connmark), not main's default via isp1", async (t) => {
  await withSeedLab(t, async (router, inst) => {
    const state = fs.mkdtempSync(path.join(os.tmpdir(), 'mh-state-'));
    await startEchoServer(inst, 'lan');
    // The site's own firewall forwards TCP 8080 on isp2's address to the LAN host's port 80.
    await runOk(['nft', '-f', '-'], {
      netns: router,
      input:
        'table ip site {\n chain forwards {\n  type nat hook prerouting priority dstnat;\n  ip daddr 67.17.28.12 tcp dport 8080 dnat to 192.168.99.10:80\n }\n}\n',
    });
    const a = await cli(['apply', '-c', repoPath('examples', 'seed.yaml')], { netns: router, stateDir: state });
    assert.equal(a.code, 0, a.stderr);

    await installReplyCounter(inst);
    const r = await probe(nsOf(inst, 'inet'), { proto: 'tcp', host: '67.17.28.12', port: 8080 });
    assert.ok('seen' in r, `the forwarded connection is answered: ${JSON.stringify(r)}`);
    const got = await replies(inst);
    assert.ok((got.isp2 ?? 0) >= 2, `replies arrive through isp2: ${JSON.stringify(got)}`);
    assert.equal(got.isp1 ?? 0, 0, 'no reply comes back through isp1');
    assert.equal((await cli(['down'], { netns: router, stateDir: state })).code, 0);
  });
});

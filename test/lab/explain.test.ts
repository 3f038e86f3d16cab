// `multihome explain` against real kernels: the seed's own hand-made router
// (the recipe's commands, run in the lab), saved with `state save`, dumped as
// the text an admin pastes, and read live — each must explain the same way,
// and as the real traffic of the lab demo goes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runOk } from '../../src/kernel/exec.js';
import { applySeedRecipe } from '../../src/lab/index.js';
import type { Decision } from '../../src/sim/types.js';
import { cli } from '../helpers/cli.js';
import { withSeedLab } from '../helpers/lab.js';
import { repoPath } from '../helpers/paths.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mh-explain-'));
const office = (dport: number, proto = 'tcp') => [
  '--from',
  '192.168.99.10',
  '--to',
  '203.0.113.10',
  '--iif',
  'eth0',
  '--proto',
  proto,
  '--dport',
  String(dport),
  '--json',
];

async function explainJson(args: string[], netns?: string): Promise<Decision> {
  const r = await cli(['explain', ...args], netns ? { netns } : {});
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Decision;
}

test('the seed recipe, run by hand in the lab: explained live, from state save, and from pasted dumps', async (t) => {
  await withSeedLab(t, async (router) => {
    await applySeedRecipe(router);
    const saved = tmp();
    assert.equal((await cli(['state', 'save', saved], { netns: router })).code, 0);
    // what an admin pastes: the text of ip rule/route show, iptables-save, sysctls, ip -j addr
    const pasted = tmp();
    const dump = async (name: string, argv: string[]) => fs.writeFileSync(path.join(pasted, name), await runOk(argv, { netns: router }));
    await dump('ip-rule.txt', ['ip', 'rule', 'show']);
    await dump('ip-route.txt', ['ip', 'route', 'show', 'table', 'all']);
    await dump('iptables-save.txt', ['iptables-save']);
    await dump('addr.json', ['ip', '-j', 'addr', 'show']);
    await dump('sysctl.txt', [
      'sysctl',
      'net.ipv4.ip_forward',
      'net.ipv4.conf.all.rp_filter',
      'net.ipv4.conf.eth4.rp_filter',
      'net.ipv4.conf.all.src_valid_mark',
    ]);

    for (const [how, args, ns] of [
      ['live', ['--live'], router],
      ['state save', ['--state', saved], undefined],
      ['pasted dumps', ['--state', pasted], undefined],
    ] as const) {
      const web = await explainJson([...args, ...office(80)], ns);
      assert.deepEqual(
        [web.outcome, web.dev, web.gateway, web.table, web.mark, web.snat],
        ['forward', 'eth4', '67.17.28.14', 4, 4, '67.17.28.12'],
        `${how}: web`,
      );
      assert.match(web.policy ?? '', /--set-mark 4|MARK/, `${how}: the iptables rule that marked it`);
      const ssh = await explainJson([...args, ...office(22)], ns);
      assert.deepEqual([ssh.dev, ssh.table, ssh.snat], ['eth1', 'main', '205.254.211.179'], `${how}: ssh`);
      // The recipe under strict rp_filter: the reply to office web arrives on eth4 unmarked, and the
      // reverse-path check sends it out of eth1: dropped — what the lab demo sees as a timeout.
      const reply = await explainJson(
        [...args, '--from', '203.0.113.10', '--to', '192.168.99.10', '--iif', 'eth4', '--proto', 'tcp', '--sport', '80', '--json'],
        ns,
      );
      assert.deepEqual([reply.outcome, reply.error], ['drop', 'EINVAL'], `${how}: the reply fails strict rp_filter`);
      assert.ok(
        reply.trace.some((s) => s.stage === 'rp_filter' && /strict/.test(s.text)),
        `${how}: the trace names rp_filter`,
      );
    }
  });
});

test("multihome's seed config explained with -c on the lab router, before it is applied", async (t) => {
  await withSeedLab(t, async (router) => {
    const cfg = repoPath('examples', 'seed.yaml');
    const web = await explainJson(['-c', cfg, ...office(443)], router);
    assert.deepEqual([web.dev, web.snat, web.policy, web.rule?.pref], ['eth4', '67.17.28.12', 'policy office-web-via-isp2', 10011]);
    const quic = await explainJson(['-c', cfg, ...office(443, 'udp')], router);
    assert.deepEqual([quic.dev, quic.snat, quic.policy], ['eth1', '205.254.211.179', 'default']);
    const reply = await explainJson(
      [
        '-c',
        cfg,
        '--from',
        '203.0.113.10',
        '--to',
        '192.168.99.10',
        '--iif',
        'eth4',
        '--proto',
        'tcp',
        '--sport',
        '443',
        '--established',
        '--ctmark',
        '4',
        '--json',
      ],
      router,
    );
    assert.deepEqual([reply.outcome, reply.error, reply.dev], ['forward', null, 'eth0'], 'with multihome the reply passes strict rp_filter');
  });
});

test('bad input: a dump line that cannot be read, an unknown interface, a missing source', async () => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 'ip-rule.txt'), '0:\tfrom all lookup local\n32766:\tfrom all frobnicate main\n');
  const bad = await cli(['explain', '--state', dir, '--to', '203.0.113.10']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /ip-rule\.txt:2/);
  assert.match(bad.stderr, /frobnicate/);
  const ok = tmp();
  fs.writeFileSync(path.join(ok, 'ip-rule.txt'), '0:\tfrom all lookup local\n32766:\tfrom all lookup main\n');
  fs.writeFileSync(
    path.join(ok, 'addr.json'),
    JSON.stringify([{ ifindex: 2, ifname: 'eth0', flags: ['UP'], addr_info: [{ family: 'inet', local: '192.0.2.1', prefixlen: 24, scope: 'global' }] }]),
  );
  const unknown = await cli(['explain', '--state', ok, '--from', '198.51.100.1', '--to', '192.0.2.9', '--iif', 'eth7']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /input interface eth7 does not exist here \(interfaces: eth0\)/);
  const noSrc = await cli(['explain', '--state', ok, '--to', '192.0.2.9', '--iif', 'eth0']);
  assert.equal(noSrc.code, 1);
  assert.match(noSrc.stderr, /needs --from/);
});

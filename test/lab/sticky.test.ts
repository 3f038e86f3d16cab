// Balancing by source over a minimal-move bucket map, with 100 LAN sources:
// with both members up the sources spread; when isp2 goes down only its
// sources move; when it comes back exactly those move back (its share); and
// `explain` (the simulator's jhash) names every source's uplink as the kernel
// chose it. With `sticky_timeout`, the sources that moved keep their new
// uplink when isp2 returns (the memory survives the table being replaced),
// and go back once they have been quiet for longer than the timeout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runOk } from '../../src/kernel/exec.js';
import { readFullState } from '../../src/kernel/read-full.js';
import { addLanSources, nsOf, SEED_SERVER, seenBySource, startEchoServer, type LabInstance } from '../../src/lab/index.js';
import { explain } from '../../src/sim/explain.js';
import { startDaemon, until } from '../helpers/daemon.js';
import { withSeedLab } from '../helpers/lab.js';

const ISP1 = '205.254.211.179';
const ISP2 = '67.17.28.12';
const config = (group: string) => `providers:
  isp1: { interface: eth1, gateway: 205.254.211.254, snat: ${ISP1}, health: { probe: icmp, targets: [${SEED_SERVER}] } }
  isp2: { interface: eth4, gateway: 67.17.28.14, snat: ${ISP2}, health: { probe: icmp, targets: [${SEED_SERVER}] } }
groups:
  spread: ${group}
default: spread
`;

const moved = (a: Record<string, string | null>, b: Record<string, string | null>) => Object.keys(a).filter((s) => a[s] !== b[s]);
const on = (m: Record<string, string | null>, addr: string) => Object.keys(m).filter((s) => m[s] === addr);

async function cut(inst: LabInstance, role: 'isp2', up: boolean): Promise<void> {
  await runOk(['ip', 'link', 'set', 'dev', 'up', up ? 'up' : 'down'], { netns: nsOf(inst, role) });
  if (up) await runOk(['ip', 'route', 'replace', 'default', 'via', '198.51.100.6', 'dev', 'up'], { netns: nsOf(inst, role) });
}

test('balancing by source: a member going down moves only its sources, coming back moves only those back; explain agrees with the kernel', async (t) => {
  await withSeedLab(t, async (router, inst) => {
    await startEchoServer(inst, 'inet');
    const lan = nsOf(inst, 'lan');
    const sources = await addLanSources(lan, 100);
    const d = await startDaemon(router, config('{ tiers: [{ isp1: 1, isp2: 1 }], sticky: source }'));
    try {
      const both = await seenBySource(lan, sources, SEED_SERVER);
      assert.ok(
        Object.values(both).every((v) => v === ISP1 || v === ISP2),
        JSON.stringify(both),
      );
      const share2 = on(both, ISP2).length;
      t.diagnostic(`both up: ${on(both, ISP1).length} sources on isp1, ${share2} on isp2`);
      assert.ok(share2 > 25 && share2 < 75, `a 1:1 split of 100 sources: ${share2} on isp2`);

      // the simulator hashes each source as the kernel does
      const state = await readFullState({ netns: router });
      for (const src of sources) {
        const dec = explain(state, { family: 4, src, dst: SEED_SERVER, proto: 6, sport: 40000, dport: 22, iif: 'eth0' });
        assert.equal(dec.snat, both[src], `explain's source for ${src}: ${dec.trace.map((x) => x.text).join(' | ')}`);
      }

      await cut(inst, 'isp2', false);
      await until('isp2 is down', 5000, async () => (await d.status()).groups[0]?.active.join() === 'isp1');
      const one = await seenBySource(lan, sources, SEED_SERVER);
      const movedDown = moved(both, one);
      t.diagnostic(`isp2 down: ${movedDown.length} sources moved (isp2 had ${share2})`);
      assert.deepEqual(movedDown.sort(), on(both, ISP2).sort(), "exactly isp2's sources moved");

      await cut(inst, 'isp2', true);
      await until('isp2 is back', 8000, async () => (await d.status()).groups[0]?.active.length === 2);
      const back = await seenBySource(lan, sources, SEED_SERVER);
      const movedBack = moved(one, back);
      t.diagnostic(`isp2 back: ${movedBack.length} of 100 sources moved (its share); with jhash mod N over 3+ members most would`);
      assert.deepEqual(movedBack.sort(), on(both, ISP2).sort(), 'exactly the sources that were on isp2 go back, nothing else moves');
      assert.deepEqual(back, both);
    } finally {
      await d.daemon.stop();
    }
  });
});

test('sticky_timeout: sources keep the uplink they moved to across connections and a failback, until quiet for longer than the timeout', async (t) => {
  await withSeedLab(t, async (router, inst) => {
    await startEchoServer(inst, 'inet');
    const lan = nsOf(inst, 'lan');
    const sources = await addLanSources(lan, 40);
    const d = await startDaemon(router, config('{ tiers: [{ isp1: 1, isp2: 1 }], sticky: source, sticky_timeout: 6s }'));
    try {
      const both = await seenBySource(lan, sources, SEED_SERVER);
      const was2 = on(both, ISP2);
      assert.ok(was2.length > 0);
      await cut(inst, 'isp2', false);
      await until('isp2 is down', 5000, async () => (await d.status()).groups[0]?.active.join() === 'isp1');
      const one = await seenBySource(lan, sources, SEED_SERVER);
      assert.ok(
        sources.every((s) => one[s] === ISP1),
        'all on isp1 while isp2 is down',
      );
      const sets = JSON.parse(await runOk(['nft', '-j', 'list', 'set', 'inet', 'multihome', 'sticky_spread_isp1_4'], { netns: router })) as {
        nftables: { set?: { elem?: unknown[] } }[];
      };
      assert.equal(sets.nftables.find((x) => x.set)?.set?.elem?.length, sources.length, 'every source is remembered on isp1');

      await cut(inst, 'isp2', true);
      await until('isp2 is back', 8000, async () => (await d.status()).groups[0]?.active.length === 2);
      // within the timeout of their last connection (refreshed by each new one), they stay
      const stay = await seenBySource(lan, sources, SEED_SERVER);
      t.diagnostic(`isp2 back: ${moved(one, stay).length} sources moved (sticky memory, carried across the table replace)`);
      assert.deepEqual(moved(one, stay), [], 'no source moves while remembered');

      // quiet for longer than the timeout: the memory expires and isp2's share goes back
      await new Promise((r) => setTimeout(r, 7000));
      const later = await seenBySource(lan, sources, SEED_SERVER);
      t.diagnostic(`after ${7} s quiet: ${moved(stay, later).length} sources moved back to isp2`);
      assert.deepEqual(on(later, ISP2).sort(), was2.sort(), 'after the timeout, each source is where the bucket map puts it');
    } finally {
      await d.daemon.stop();
    }
  });
});

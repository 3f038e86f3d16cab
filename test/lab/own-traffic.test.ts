// The router's own traffic fails over with the default group: with isp1's
// upstream cut (its link stays up), the router's unbound TCP and UDP sockets,
// IPv4 and IPv6, reach the internet host through isp2 with isp2's address
// within 1.5 s; a socket bound to isp1's address still leaves by isp1 (so it
// fails); a real resolver on the router (dnsmasq, forwarding to the internet
// host's dnsmasq) keeps answering the LAN.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runOk } from '../../src/kernel/exec.js';
import { execInNetns, spawnInNetns, type BackgroundProcess } from '../../src/kernel/netns.js';
import { nsOf, probe, SEED6_SERVER, SEED6_TOPOLOGY, startConnectLoop, startEchoServer, type ConnectLoop, type LabInstance } from '../../src/lab/index.js';
import { startDaemon, until } from '../helpers/daemon.js';
import { withSeedLab } from '../helpers/lab.js';

const V4 = '203.0.113.10';
/** the internet's DNS server: an address and port of its own (the echo server holds *:53) */
const DNS = '203.0.113.53';
const DNS_PORT = '5353';
const CONFIG = `providers:
  isp1:
    interface: eth1
    gateway: [205.254.211.254, 2001:db8:1::1]
    health: { probe: icmp, targets: [${V4}] }
  isp2:
    interface: eth4
    gateway: [67.17.28.14, 2001:db8:2::1]
    health: { probe: icmp, targets: [${V4}] }
groups:
  uplinks: [isp1, isp2]
default: uplinks
`;

const ISP1 = { 4: '205.254.211.179', 6: '2001:db8:1::2' };
const ISP2 = { 4: '67.17.28.12', 6: '2001:db8:2::2' };

async function seen(ns: string, proto: 'tcp' | 'udp', host: string, bind?: string): Promise<string> {
  const r = await probe(ns, { proto, host, port: proto === 'tcp' ? 22 : 443, timeoutMs: 400, ...(bind ? { bind } : {}) });
  return 'seen' in r ? r.seen : `error ${r.error}`;
}

/** dnsmasq as the internet's DNS server (answers lab.test itself) and as the router's forwarding resolver. */
async function startDns(inst: LabInstance, dir: string): Promise<BackgroundProcess[]> {
  await runOk(['ip', 'addr', 'add', `${DNS}/32`, 'dev', 'lo'], { netns: nsOf(inst, 'inet') });
  const common = ['--no-daemon', '--no-resolv', '--no-hosts', '--bind-interfaces', '--cache-size=0', '--log-facility=-'];
  return [
    spawnInNetns(nsOf(inst, 'inet'), [
      'dnsmasq',
      ...common,
      `--listen-address=${DNS}`,
      `--port=${DNS_PORT}`,
      '--address=/lab.test/192.0.2.7',
      `--pid-file=${path.join(dir, 'inet-dns.pid')}`,
    ]),
    spawnInNetns(nsOf(inst, 'router'), [
      'dnsmasq',
      ...common,
      '--listen-address=192.168.99.1',
      `--server=${DNS}#${DNS_PORT}`,
      `--pid-file=${path.join(dir, 'router-dns.pid')}`,
    ]),
  ];
}

/** A LAN host's lookup through the router's resolver: the address, or the error. */
async function lanLookup(inst: LabInstance): Promise<string> {
  const script = `const r=new (require('node:dns').promises.Resolver)({timeout:400,tries:1});r.setServers(['192.168.99.1']);r.resolve4('www.lab.test').then(a=>console.log(a.join()),e=>console.log('error '+e.code))`;
  const r = await execInNetns(nsOf(inst, 'lan'), [process.execPath, '-e', script], { timeoutMs: 5000 });
  return r.stdout.trim();
}

test("the router's own traffic (TCP and UDP, IPv4 and IPv6, unbound sockets) and its resolver fail over with the default group", async (t) => {
  await withSeedLab(
    t,
    async (router, inst) => {
      await startEchoServer(inst, 'inet');
      const d = await startDaemon(router, CONFIG);
      const dns = await startDns(inst, d.dir);
      try {
        const all = async () => ({
          tcp4: await seen(router, 'tcp', V4),
          udp4: await seen(router, 'udp', V4),
          tcp6: await seen(router, 'tcp', SEED6_SERVER),
          udp6: await seen(router, 'udp', SEED6_SERVER),
        });
        await until('the router reaches the internet host by isp1', 5000, async () => (await all()).udp6 === ISP1[6]);
        assert.deepEqual(await all(), { tcp4: ISP1[4], udp4: ISP1[4], tcp6: ISP1[6], udp6: ISP1[6] });
        let answer = '';
        await until('the LAN resolves through the router', 5000, async () => (answer = await lanLookup(inst)) === '192.0.2.7').catch((e: unknown) => {
          throw new Error(`${String(e)}: ${answer}`);
        });

        // New connections every 20 ms of each kind, from unbound sockets of the router itself.
        const kinds = { tcp4: ['tcp', V4], udp4: ['udp', V4], tcp6: ['tcp', SEED6_SERVER], udp6: ['udp', SEED6_SERVER] } as const;
        const loops: Record<string, ConnectLoop> = {};
        for (const [k, [proto, host]] of Object.entries(kinds)) loops[k] = await startConnectLoop(router, { proto, host });
        try {
          // Cut isp1's upstream; the router's eth1 stays up (main's default route still points there).
          await runOk(['ip', 'link', 'set', 'dev', 'up', 'down'], { netns: nsOf(inst, 'isp1') });
          const cut = Date.now();
          const moved: Record<string, number | null> = {};
          for (const [k, loop] of Object.entries(loops)) {
            const at = await loop.waitFor(k.endsWith('4') ? ISP2[4] : ISP2[6], cut, 5000);
            moved[k] = at === null ? null : at - cut;
          }
          t.diagnostic(`the router's own new connections reached the internet by isp2, sent this long after the cut (ms): ${JSON.stringify(moved)}`);
          for (const [k, ms] of Object.entries(moved)) assert.ok(ms !== null && ms <= 1500, `${k} moved after ${ms} ms`);
          const after = Math.max(...Object.values(moved).map(Number)) + cut + 200;
          for (const [k, loop] of Object.entries(loops))
            assert.ok(
              loop.sourcesSince(after).every((src) => src === (k.endsWith('4') ? ISP2[4] : ISP2[6])),
              `${k} stays on isp2`,
            );
        } finally {
          for (const l of Object.values(loops)) await l.stop();
        }

        // A socket bound to isp1's address still leaves by isp1 (the exception): it cannot get through.
        assert.match(await seen(router, 'udp', V4, ISP1[4]), /^error/);
        assert.match(await seen(router, 'tcp', SEED6_SERVER, ISP1[6]), /^error/);
        // The resolver on the router keeps answering the LAN.
        await until('the LAN still resolves through the router', 3000, async () => (await lanLookup(inst)) === '192.0.2.7');
        // main still says isp1: it is the `iif lo` rules that moved the traffic
        const main = JSON.parse(await runOk(['ip', '-j', 'route', 'show', 'default'], { netns: router })) as { gateway: string }[];
        assert.equal(main[0]?.gateway, '205.254.211.254');

        // With local_traffic: main the router's own connections follow main again (into the dead uplink).
        fs.writeFileSync(d.cfg, `${CONFIG}local_traffic: main\n`);
        const reload = await d.cli(['reload']);
        assert.equal(reload.code, 0, reload.stdout + reload.stderr);
        assert.match(await seen(router, 'udp', V4), /^error/);
      } finally {
        for (const p of dns) await p.stop();
        await d.daemon.stop();
      }
    },
    SEED6_TOPOLOGY,
  );
});

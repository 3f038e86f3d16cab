// systemd's notify protocol against a fake NOTIFY_SOCKET (a unix datagram
// socket socat listens on, standing in for systemd): the daemon, on the fake
// kernel, says READY=1 after its first apply, RELOADING=1 and READY=1 around a
// reload, feeds the watchdog while its loop is healthy, and STOPPING=1.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { notifyArgv, sdNotify } from '../../src/kernel/sd-notify.js';
import { startDaemon } from '../helpers/fake-daemon.js';

const hasSocat = spawnSync('which', ['socat']).status === 0;

/** A fake systemd: receives datagrams on a unix socket; `got()` is what arrived, one string per datagram. */
async function fakeSystemd(): Promise<{ socket: string; got: () => string[]; close: () => void }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mh-notify-'));
  const socket = path.join(dir, 'notify.sock');
  // -x: hex dump per datagram would be noisy; one datagram per line with a separator is enough
  const child = spawn('socat', ['-u', `UNIX-RECV:${socket}`, 'STDOUT'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
  for (let i = 0; i < 100 && !fs.existsSync(socket); i++) await new Promise((r) => setTimeout(r, 20));
  return {
    socket,
    got: () =>
      out
        .split(/(?=READY=1|RELOADING=1|STOPPING=1|WATCHDOG=1)/)
        .map((x) => x.trim())
        .filter(Boolean),
    close: () => child.kill(),
  };
}

const until = async (f: () => boolean, ms = 3000) => {
  const t0 = Date.now();
  while (!f() && Date.now() - t0 < ms) await new Promise((r) => setTimeout(r, 20));
};

test('the notify datagram: socat to a path or an abstract socket, else systemd-notify; nothing without NOTIFY_SOCKET', async () => {
  const have = (bins: string[]) => (b: string) => (bins.includes(b) ? `/usr/bin/${b}` : null);
  assert.deepEqual(notifyArgv('/run/systemd/notify', 'READY=1', have(['socat'])), {
    argv: ['/usr/bin/socat', '-u', '-', 'UNIX-SENDTO:/run/systemd/notify'],
    input: 'READY=1',
  });
  assert.deepEqual(notifyArgv('@/org/x', 'READY=1', have(['socat']))?.argv.at(-1), 'ABSTRACT-SENDTO:/org/x');
  assert.deepEqual(notifyArgv('/s', 'READY=1\nSTATUS=ok', have(['systemd-notify'])), { argv: ['/usr/bin/systemd-notify', 'READY=1', 'STATUS=ok'] });
  assert.equal(notifyArgv('/s', 'READY=1', have([])), null);
  assert.equal(await sdNotify('READY=1', {}), false);
});

test(
  'the daemon under a fake systemd: READY after the first apply, RELOADING/READY on reload, WATCHDOG while healthy, STOPPING',
  { skip: hasSocat ? false : 'needs socat' },
  async () => {
    const sd = await fakeSystemd();
    try {
      const notify = (state: string) => void sdNotify(state, { NOTIFY_SOCKET: sd.socket });
      const { d } = await startDaemon(undefined, undefined, { notify, watchdogMs: 200 });
      await until(() => sd.got().some((x) => x.startsWith('READY=1')));
      assert.match(sd.got()[0] ?? '', /^READY=1\nSTATUS=2 providers, all up; 0 repairs$/);
      await until(() => sd.got().filter((x) => x === 'WATCHDOG=1').length >= 2);
      assert.ok(sd.got().filter((x) => x === 'WATCHDOG=1').length >= 2, 'the watchdog is fed every 100 ms');
      assert.equal(d.loopHealthy(), true);
      assert.equal(d.loopHealthy(Date.now() + 5000), false, 'a loop whose tick stopped is not healthy');
      await d.reload();
      await until(() => sd.got().filter((x) => x.startsWith('READY=1')).length >= 2);
      const seq = sd.got().filter((x) => x !== 'WATCHDOG=1');
      assert.deepEqual(
        seq.map((x) => x.split('\n')[0]),
        ['READY=1', 'RELOADING=1', 'READY=1'],
      );
      await d.stop();
      await until(() => sd.got().includes('STOPPING=1'));
      assert.ok(sd.got().includes('STOPPING=1'));
    } finally {
      sd.close();
    }
  },
);

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EchoPacer } from '../../src/routecopy/pacer.js';

const pending = async (p: Promise<void>) => {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return !done;
};

test('a write within the limit does not wait', async () => {
  const p = new EchoPacer(10, 1000);
  p.wrote(10);
  assert.equal(await pending(p.settle()), false);
});

test('a write past the limit waits until the listener reports enough echoes', async () => {
  const p = new EchoPacer(10, 10_000);
  p.wrote(25);
  const s = p.settle();
  assert.equal(await pending(s), true);
  p.echoes(10); // 15 behind: still waiting
  assert.equal(await pending(s), true);
  p.echoes(5); // 10 behind: at the limit
  await s;
  assert.equal(p.behind, 10);
});

test('a wait ends after maxWaitMs even if echoes never come, and the counts start even', async () => {
  const p = new EchoPacer(10, 20);
  p.wrote(100);
  const t0 = Date.now();
  await p.settle();
  assert.ok(Date.now() - t0 >= 15);
  assert.equal(p.behind, 0);
});

test('while paused (no listener) writes are not counted and nothing waits', async () => {
  const p = new EchoPacer(10, 10_000);
  p.wrote(100);
  const s = p.settle();
  p.pause(); // the listener went away: the waiter is released
  await s;
  p.wrote(1000);
  assert.equal(p.behind, 0);
  assert.equal(await pending(p.settle()), false);
  p.resume();
  p.wrote(5);
  assert.equal(p.behind, 5);
});

test('more echoes than writes (another writer of the copy protocol) never make the count negative', () => {
  const p = new EchoPacer(10, 10_000);
  p.wrote(3);
  p.echoes(50);
  assert.equal(p.behind, 0);
  p.wrote(4);
  assert.equal(p.behind, 4);
});

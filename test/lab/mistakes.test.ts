// User mistakes end as exit 1 with a message and a hint — never as
// "internal error … please report this" (exit 3): a namespace that does not
// exist, plan as an ordinary user inside a namespace root manages, the lab as
// an ordinary user, a YAML alias bomb.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { run } from '../../src/kernel/exec.js';
import { cli } from '../helpers/cli.js';
import { MAIN } from '../helpers/daemon.js';
import { withSeedLab } from '../helpers/lab.js';
import { repoPath } from '../helpers/paths.js';

const SEED = repoPath('examples', 'seed.yaml');
const asNobody = ['setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups'];

test('--netns naming a namespace that does not exist: exit 1, with a hint', async () => {
  const r = await cli(['plan', '-c', SEED], { netns: `mh-nosuch-${process.pid}` });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^error: network namespace mh-nosuch-\d+ does not exist\nhint: `ip netns list` shows the named namespaces\n$/);
});

test('a YAML alias bomb: exit 1, located', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mh-bomb-'));
  const f = path.join(dir, 'bomb.yaml');
  fs.writeFileSync(
    f,
    `a: &a [x, x, x, x, x, x, x, x, x]\n${'bcdefgh'
      .split('')
      .map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(', ')}]`)
      .join('\n')}\n`,
  );
  const r = await cli(['validate', '-c', f]);
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /bomb\.yaml:2:\d+: error: YAML: Excessive alias count/);
});

test('plan as an ordinary user inside a namespace root manages, and the lab as an ordinary user: exit 1, run as root', async (t) => {
  if (process.getuid?.() !== 0 || spawnSync('setpriv', ['--version']).status !== 0) return t.skip('needs root and setpriv');
  await withSeedLab(t, async (router) => {
    // root applied here: the namespace's state dir exists and is root's
    assert.equal((await cli(['apply', '-c', SEED], { netns: router })).code, 0);
    try {
      const plan = await run([...asNobody, process.execPath, MAIN, 'plan', '-c', SEED], { netns: router });
      assert.equal(plan.code, 1, plan.stderr);
      assert.match(plan.stderr, /error: cannot read the state directory \/run\/multihome\/netns\/\S+ \(EACCES\)\nhint: run multihome as root/);
      const lab = await run([...asNobody, process.execPath, MAIN, 'lab', 'up']);
      assert.equal(lab.code, 1);
      assert.match(lab.stderr, /multihome lab up needs root/);
    } finally {
      await cli(['down'], { netns: router });
    }
  });
});

// `lab list` marks records that stand for nothing any more (their builder gone, none of their
// namespaces left: an aborted run, a reboot of the namespaces but not of the record dir) and
// `lab down ID` forgets them; a record whose builder still runs is never called gone (it may be
// one being built). Records in a directory of the test's own (MULTIHOME_LAB_DIR).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { cli } from '../helpers/cli.js';

test('lab list marks a record whose builder and namespaces are gone; lab down forgets it; a record being built is not gone', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mh-labrec-'));
  process.env['MULTIHOME_LAB_DIR'] = dir; // the CLI processes inherit it
  try {
    const dead = spawnSync('true').pid; // a process that has ended
    const record = (id: string, owner: number) => ({
      id,
      topology: 'seed',
      namespaces: { router: `mh-${id}-router`, lan: `mh-${id}-lan` },
      servers: [],
      createdAt: new Date().toISOString(),
      owner,
    });
    fs.writeFileSync(path.join(dir, 'zgone1.json'), JSON.stringify(record('zgone1', dead)));
    fs.writeFileSync(path.join(dir, 'zbuild1.json'), JSON.stringify(record('zbuild1', process.pid)));

    const listed = await cli(['lab', 'list', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const instances = (JSON.parse(listed.stdout) as { instances: { id: string; gone: boolean }[] }).instances;
    assert.deepEqual(instances.map((i) => [i.id, i.gone]).sort(), [
      ['zbuild1', false],
      ['zgone1', true],
    ]);
    const text = await cli(['lab', 'list']);
    assert.match(text.stdout, /^zgone1 .*\(gone: none of its namespaces exists; `multihome lab down zgone1` forgets it\)$/m);
    assert.doesNotMatch(text.stdout, /^zbuild1 .*gone/m);

    const down = await cli(['lab', 'down', 'zgone1']);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(fs.existsSync(path.join(dir, 'zgone1.json')), false, 'the record is forgotten');
    assert.equal(fs.existsSync(path.join(dir, 'zbuild1.json')), true, 'the other one is left alone');
  } finally {
    delete process.env['MULTIHOME_LAB_DIR'];
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

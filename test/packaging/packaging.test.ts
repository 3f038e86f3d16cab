// The three ways to install, checked: `npm pack` holds only what runs (no
// tests, benches, source maps) and `npm install -g` of it puts `multihome` on
// the PATH; the Debian package built by scripts/build-deb.sh (dpkg-deb) has the
// binary, the unit, the man page, the completions and the examples, installs
// (into a root of its own: the test leaves the machine's packages alone) and
// runs `multihome --version`; bash completion completes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { repoPath } from '../helpers/paths.js';

const version = (JSON.parse(fs.readFileSync(repoPath('package.json'), 'utf8')) as { version: string }).version;
const sh = (argv: string[], o: { cwd?: string; input?: string } = {}) => {
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: o.cwd ?? repoPath(), input: o.input, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
};
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mh-pkg-'));

test('npm pack: only what runs; npm install -g of the tarball puts multihome on the PATH', () => {
  const dir = tmp();
  // --ignore-scripts: `prepare` would rebuild dist/ under the running tests
  const packed = sh(['npm', 'pack', '--ignore-scripts', '--json', '--pack-destination', dir]);
  assert.equal(packed.code, 0, packed.stderr);
  const info = (JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[])[0]!;
  const files = info.files.map((f) => f.path);
  for (const f of [
    'dist/src/cli/main.js',
    'dist/src/daemon/daemon.js',
    'docs/config.md',
    'examples/seed.yaml',
    'contrib/multihome.service',
    'contrib/multihome.8',
    'contrib/completions/multihome.bash',
    'package.json',
  ]) {
    assert.ok(files.includes(f), `${f} is in the tarball`);
  }
  assert.deepEqual(
    files.filter((f) => /(^|\/)(test|bench)\/|\.map$|\.ts$/.test(f)),
    [],
    'no tests, benches, source maps or sources',
  );
  const prefix = path.join(dir, 'prefix');
  const installed = sh([
    'npm',
    'install',
    '-g',
    '--prefix',
    prefix,
    path.join(dir, info.filename),
    '--prefer-offline',
    '--no-audit',
    '--no-fund',
    '--loglevel=error',
  ]);
  assert.equal(installed.code, 0, installed.stderr);
  assert.equal(sh([path.join(prefix, 'bin', 'multihome'), '--version']).stdout.trim(), version);
  fs.rmSync(dir, { recursive: true, force: true });
});

test(
  'the Debian package: binary, unit, man page, completions, examples; it installs and runs',
  { skip: spawnSync('which', ['dpkg-deb']).status === 0 ? false : 'needs dpkg-deb' },
  () => {
    const dir = tmp();
    const built = sh(['bash', 'scripts/build-deb.sh', dir]);
    assert.equal(built.code, 0, built.stderr);
    const deb = built.stdout.trim();
    assert.ok(deb.endsWith('.deb') && fs.existsSync(deb));
    const list = sh(['dpkg-deb', '-c', deb]).stdout;
    for (const p of [
      './usr/bin/multihome ->',
      './lib/systemd/system/multihome.service',
      './usr/share/man/man8/multihome.8.gz',
      './usr/share/bash-completion/completions/multihome',
      './usr/share/zsh/vendor-completions/_multihome',
      './usr/share/doc/multihome/examples/seed.yaml',
      './usr/lib/multihome/dist/src/cli/main.js',
    ]) {
      assert.ok(list.includes(p), `${p} in the package`);
    }
    assert.ok(!/usr\/lib\/multihome\/(dist\/(test|bench)|node_modules\/(typescript|playwright-core))\//.test(list), 'no tests, benches or dev dependencies');
    const control = sh(['dpkg-deb', '-f', deb, 'Package', 'Version', 'Depends']).stdout;
    assert.match(control, new RegExp(`Package: multihome\\nVersion: ${version.replace(/\./g, '\\.')}\\nDepends: nodejs`));
    const unit = sh(['sh', '-c', `dpkg-deb --fsys-tarfile "${deb}" | tar -xOf - ./lib/systemd/system/multihome.service`]).stdout;
    assert.match(unit, /Type=notify/);
    assert.match(unit, /ExecStart=\/usr\/bin\/multihome run/);
    // install into a root of its own (its own dpkg database), then run it from there
    const root = path.join(dir, 'root');
    fs.mkdirSync(path.join(root, 'var', 'lib', 'dpkg', 'updates'), { recursive: true });
    fs.mkdirSync(path.join(root, 'var', 'lib', 'dpkg', 'info'), { recursive: true });
    fs.writeFileSync(path.join(root, 'var', 'lib', 'dpkg', 'status'), '');
    const inst = sh(['dpkg', `--root=${root}`, '--force-depends', '--force-script-chrootless', '-i', deb]);
    assert.equal(inst.code, 0, inst.stderr);
    assert.equal(sh([path.join(root, 'usr', 'bin', 'multihome'), '--version']).stdout.trim(), version);
    const valid = sh([
      path.join(root, 'usr', 'bin', 'multihome'),
      'validate',
      '-c',
      path.join(root, 'usr', 'share', 'doc', 'multihome', 'examples', 'seed.yaml'),
    ]);
    assert.equal(valid.code, 0, valid.stderr);
    fs.rmSync(dir, { recursive: true, force: true });
  },
);

test('shell completion: bash completes commands and options; the zsh script parses', () => {
  const complete = (words: string[]) =>
    sh([
      'bash',
      '-c',
      `source contrib/completions/multihome.bash; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _multihome; echo "\${COMPREPLY[@]}"`,
    ]).stdout.trim();
  assert.equal(complete(['multihome', 'ap']), 'apply');
  assert.equal(complete(['multihome', 'run', '--log-f']), '--log-format');
  assert.equal(complete(['multihome', 'run', '--log-format', 'j']), 'json journal');
  assert.equal(complete(['multihome', '--netns', 'x', 'fail']), 'failback');
  if (spawnSync('which', ['zsh']).status === 0) assert.equal(sh(['zsh', '-n', 'contrib/completions/_multihome']).code, 0);
  assert.match(fs.readFileSync(repoPath('contrib', 'multihome.8'), 'utf8'), /^\.TH MULTIHOME 8/);
});

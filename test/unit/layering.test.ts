// The layers of src/ (docs/architecture.md): the pure core does no I/O and never reaches the
// kernel; the kernel port knows nothing of how a config is compiled; apply comes before the
// daemon; config is read without the importers of kernel dumps. Checked on the import lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { repoPath } from '../helpers/paths.js';

/** every `from '…'` of every .ts file under src/, as [file relative to src/, resolved target relative to src/ or a bare module] */
function imports(): [string, string][] {
  const out: [string, string][] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) {
        const rel = path.relative(repoPath('src'), p);
        for (const m of fs.readFileSync(p, 'utf8').matchAll(/^(?:import|export)[^;]*?from '([^']+)'/gms)) {
          const spec = m[1]!;
          out.push([rel, spec.startsWith('.') ? path.join(path.dirname(rel), spec).replace(/\.js$/, '.ts') : spec]);
        }
      }
    }
  };
  walk(repoPath('src'));
  return out;
}

const RULES: { from: RegExp; to: RegExp; why: string }[] = [
  {
    from: /^(config|compile|state|sim|net|routecopy|util|errors)\//,
    to: /^(kernel\/|node:child_process$|node:fs$|node:net$|node:dgram$|node:http$)/,
    why: 'the pure core does no I/O',
  },
  { from: /^kernel\//, to: /^(compile|config|apply|daemon|cli)\//, why: 'kernel/ is the port; shared names live in ids.ts' },
  { from: /^config\//, to: /^(state\/import\/|state\/from-ip-json\.ts$)/, why: 'config does not need the importers of kernel dumps' },
  { from: /^apply\//, to: /^(daemon|cli)\//, why: 'the daemon uses apply, not the other way round' },
  { from: /^ids\.ts$/, to: /^(?!node:)/, why: 'ids.ts is a leaf' },
  { from: /^(?!kernel\/)/, to: /^node:child_process$/, why: 'only kernel/ runs programs' },
];

test('src/ keeps its layers', () => {
  const bad = imports().flatMap(([file, target]) =>
    RULES.filter((r) => r.from.test(file) && r.to.test(target)).map((r) => `${file} imports ${target}: ${r.why}`),
  );
  assert.deepEqual(bad, []);
});

test('the layering check sees the imports it checks', () => {
  const all = imports();
  assert.ok(
    all.some(([f, t]) => f === 'kernel/read.ts' && t === 'ids.ts'),
    'kernel/read.ts imports ids.ts',
  );
  assert.ok(all.length > 300);
});

// The docs name source files as `src/…`, `test/…`, `bench/…`, `scripts/…`, `contrib/…`,
// `examples/…`, `docs/…`: every one of them must exist, so a file moved or renamed cannot leave
// the architecture page describing code that is no longer there. A name with a glob or a
// placeholder (`*`, `NAME`, `<…>`) is a pattern, not a path, and is skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { repoPath } from '../helpers/paths.js';

const DOCS = [
  'README.md',
  'BENCHMARKS.md',
  ...fs
    .readdirSync(repoPath('docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const PATH = /(?<![\w./-])((?:src|test|bench|scripts|contrib|examples|docs)\/[\w./-]*[\w/])/g;

/** Every path a doc names, with the line it is on. */
function named(doc: string): { path: string; line: number }[] {
  const out: { path: string; line: number }[] = [];
  fs.readFileSync(repoPath(doc), 'utf8')
    .split('\n')
    .forEach((text, i) => {
      for (const m of text.matchAll(PATH)) {
        const p = m[1]!;
        if (/[*<>]|NAME|\.\.\./.test(p) || text[m.index + p.length] === '*') continue;
        out.push({ path: p, line: i + 1 });
      }
    });
  return out;
}

/** A path as written may leave out `.ts` (a module) or name the compiled file's source. */
const exists = (p: string): boolean => [p, `${p}.ts`, p.replace(/\.js$/, '.ts')].some((c) => fs.existsSync(repoPath(c)));

test('every source path the docs name exists', () => {
  const missing = DOCS.flatMap((doc) =>
    named(doc)
      .filter((n) => !exists(n.path))
      .map((n) => `${doc}:${n.line}: ${n.path}`),
  );
  assert.deepEqual(missing, []);
});

/** All files under a directory, as paths relative to it. */
const filesUnder = (dir: string): string[] => fs.readdirSync(repoPath(dir), { recursive: true, encoding: 'utf8' }).map((f) => f.split(path.sep).join('/'));

test('every file the architecture table names in a directory row is in that directory', () => {
  // rows like "| `src/apply/` | `ownership.ts` (…), `plan.ts` …": file names relative to the row's directory
  const missing: string[] = [];
  fs.readFileSync(repoPath('docs/architecture.md'), 'utf8')
    .split('\n')
    .forEach((text, i) => {
      const dir = /^\| `((?:src|test|bench|scripts|contrib)\/[\w/-]*)`/.exec(text)?.[1];
      if (!dir || !fs.existsSync(repoPath(dir))) return;
      const files = filesUnder(dir);
      for (const m of text.matchAll(/`([\w./-]+\.(?:ts|sh))`/g)) {
        const f = m[1]!;
        if (f.includes('/') ? exists(f) || files.some((x) => x.endsWith(f)) : files.some((x) => x === f || x.endsWith(`/${f}`))) continue;
        missing.push(`docs/architecture.md:${i + 1}: ${dir} ${f}`);
      }
    });
  assert.deepEqual(missing, []);
});

test('the docs path check finds the paths it checks', () => {
  const all = DOCS.flatMap(named).map((n) => n.path);
  assert.ok(all.includes('src/kernel/port.ts'), 'architecture.md names src/kernel/port.ts');
  assert.ok(new Set(all).size > 50, `${new Set(all).size} paths`);
  assert.ok(path.isAbsolute(repoPath('docs')));
});

// Paths of the repository from compiled tests (dist/test/...).
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The repository root, from dist/test/<dir>/<file>.js or deeper. */
export const repoRoot = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (path.basename(dir) !== 'dist') dir = path.dirname(dir);
  return path.dirname(dir);
})();

export const repoPath = (...parts: string[]): string => path.join(repoRoot, ...parts);

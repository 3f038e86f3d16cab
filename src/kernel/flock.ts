// flock(2) for an open file: Node has none, so util-linux's `flock --nonblock FD` takes the lock
// on the open file description this process shares with it (the lock then belongs to that
// description, held as long as this process keeps the file open).
import { spawnSync } from 'node:child_process';
import { UserError } from '../errors/index.js';

/** Take an exclusive lock on `fd` without waiting: true if taken, false if another process holds it. */
export function tryFlockExclusive(fd: number): boolean {
  const r = spawnSync('flock', ['--exclusive', '--nonblock', '3'], { stdio: ['ignore', 'ignore', 'pipe', fd] });
  if (r.error) throw new UserError(`cannot run flock to take the lock (${r.error.message})`, [], 'install util-linux');
  return r.status === 0;
}

// What multihome, running as root, may trust on disk: its state directory,
// the files in it, and the hooks it runs. Like sudo and sshd: a path is
// trusted only when it and every directory above it belong to root (or to the
// user running multihome) and nobody else can write to them — a directory
// others may write to is fine above it only with the sticky bit (/tmp), where
// they cannot replace what is not theirs. Files are opened without following
// symbolic links. Anything else is refused with a user error that names it.
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors/index.js';

/** Owners multihome trusts: root, and the user it runs as. */
const trustedOwner = (uid: number): boolean => uid === 0 || uid === process.geteuid?.();

const GROUP_OTHER_WRITE = 0o022;
const STICKY = 0o1000;

function why(st: fs.Stats, p: string, asAncestor: boolean): string | null {
  if (!trustedOwner(st.uid)) return `${p} belongs to uid ${st.uid}, not to root`;
  if (st.mode & GROUP_OTHER_WRITE && !(asAncestor && st.isDirectory() && st.mode & STICKY)) {
    return `${p} can be written by ${st.mode & 0o002 ? 'every user' : 'its group'} (mode ${(st.mode & 0o7777).toString(8)})`;
  }
  return null;
}

/** Every directory from / down to `dir` (resolved), checked; throws a UserError naming the first one that is not safe. */
export function checkTrustedDir(dir: string, what: string): void {
  let real: string;
  try {
    real = fs.realpathSync(dir);
  } catch (e) {
    throw new UserError(`${what} ${dir} cannot be resolved (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const parts = real.split(path.sep).filter(Boolean);
  let at = '/';
  const chain = [at, ...parts.map((p) => (at = path.join(at, p)))];
  chain.forEach((p, i) => {
    const st = fs.lstatSync(p);
    if (!st.isDirectory()) throw new UserError(`${what} ${dir}: ${p} is not a directory`);
    const problem = why(st, p, i < chain.length - 1);
    if (problem)
      throw new UserError(
        `${what} ${dir} is not safe: ${problem}`,
        [],
        `multihome runs as root and trusts what it finds there; use a directory only root can write to, such as the default /run/multihome`,
      );
  });
}

/** Checks on an open file (fstat, so no race with a rename): a regular file, trusted owner, not writable by others. */
export function checkTrustedFd(fd: number, p: string, maxBytes: number): fs.Stats {
  const st = fs.fstatSync(fd);
  if (!st.isFile()) throw new UserError(`${p} is not a regular file`, [], 'remove it; multihome writes its own');
  const problem = why(st, p, false);
  if (problem) throw new UserError(`refusing to read ${p}: ${problem}`, [], "only root may write multihome's state; remove the file");
  if (st.size > maxBytes) throw new UserError(`${p} is ${st.size} bytes, more than multihome ever writes (${maxBytes})`, [], 'remove it');
  return st;
}

/**
 * A hook multihome may run as root: an executable regular file (after symbolic links, which
 * must themselves sit in trusted directories) owned by root, not writable by group or others,
 * in directories only root can write to. Returns why not, or null.
 */
export function untrustedHook(file: string): string | null {
  try {
    let real: string;
    try {
      real = fs.realpathSync(file);
    } catch (e) {
      return `${file} cannot be resolved (${(e as NodeJS.ErrnoException).code ?? String(e)})`;
    }
    checkTrustedDir(path.dirname(file), 'the hook directory');
    checkTrustedDir(path.dirname(real), 'the hook directory');
    const st = fs.statSync(real);
    if (!st.isFile()) return `${file} is not a regular file`;
    if (!(st.mode & 0o111)) return `${file} is not executable`;
    return why(st, file, false);
  } catch (e) {
    return e instanceof UserError ? e.message : String(e);
  }
}

// radvd, the router advertisement daemon, run by `multihome run` as its child
// when the config has `ra:`. multihome writes its config (compile/radvd.ts)
// and makes it re-read it with SIGHUP, upon which radvd at once sends an RA
// with the new lifetimes (radvd has no control socket). It is stopped with
// SIGKILL on purpose: a radvd that exits normally first sends an RA with
// router lifetime 0, and the LAN's hosts drop their IPv6 default route until
// the next daemon's radvd speaks.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors/index.js';

export interface Radvd {
  readonly text: string;
  /** write the new config and SIGHUP radvd (nothing when the text is the same) */
  update(text: string): void;
  stop(): void;
}

/** Write atomically, 0644 (radvd refuses a config others can write). */
function writeConf(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o644 });
  fs.renameSync(tmp, file);
}

export function startRadvd(binary: string, dir: string, text: string, log: (e: Record<string, unknown>) => void): Radvd {
  if (!fs.existsSync(binary)) throw new UserError(`ra: ${binary} does not exist`, [], 'install radvd (Debian: apt install radvd), or give ra.radvd');
  const conf = path.join(dir, 'radvd.conf');
  const pid = path.join(dir, 'radvd.pid');
  writeConf(conf, text);
  // a radvd left by a daemon that was killed holds the pid file's lock: end it first
  try {
    const old = Number(fs.readFileSync(pid, 'utf8').trim());
    if (Number.isInteger(old) && old > 1 && fs.readFileSync(`/proc/${old}/cmdline`, 'utf8').includes(conf)) process.kill(old, 'SIGKILL');
  } catch {
    // no pid file, or that process is gone
  }
  fs.rmSync(pid, { force: true });
  let current = text;
  let child: ChildProcess | null = spawn(binary, ['-n', '-m', 'stderr', '-C', conf, '-p', pid], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (b: Buffer) => {
    for (const line of b.toString('utf8').split('\n').filter(Boolean)) log({ event: 'radvd', message: line.trim() });
  });
  child.on('exit', (code, signal) => {
    if (child) log({ event: 'error', during: 'radvd', error: `radvd exited (${signal ?? code}); router advertisements stopped` });
    child = null;
  });
  child.on('error', (e) => log({ event: 'error', during: 'radvd', error: e.message }));
  return {
    get text() {
      return current;
    },
    update(next: string) {
      if (next === current) return;
      writeConf(conf, next);
      current = next;
      if (child?.pid) process.kill(child.pid, 'SIGHUP');
    },
    stop() {
      const c = child;
      child = null;
      if (c?.pid) c.kill('SIGKILL');
    },
  };
}

// systemd's notify protocol (sd_notify(3)): a datagram of "KEY=VALUE" lines to
// the unix socket in $NOTIFY_SOCKET (a path, or "@name" in the abstract
// namespace). Node has no unix datagram sockets, so a small program sends it:
// socat (Debian package socat) when installed, else systemd-notify. The unit
// says NotifyAccess=all, since the sender is the daemon's child.
import { spawn } from 'node:child_process';
import fs from 'node:fs';

const which = (bin: string): string | null =>
  ['/usr/bin', '/bin', '/usr/sbin', '/sbin', '/usr/local/bin'].map((d) => `${d}/${bin}`).find((p) => fs.existsSync(p)) ?? null;

/** The argv that sends `state` to `socket`, or null when nothing here can. */
export function notifyArgv(socket: string, state: string, find = which): { argv: string[]; input?: string } | null {
  const socat = find('socat');
  if (socat) return { argv: [socat, '-u', '-', socket.startsWith('@') ? `ABSTRACT-SENDTO:${socket.slice(1)}` : `UNIX-SENDTO:${socket}`], input: state };
  const sn = find('systemd-notify');
  if (sn) return { argv: [sn, ...state.split('\n').filter(Boolean)] };
  return null;
}

/** Send `state` ("READY=1", "WATCHDOG=1", …) when running under systemd; resolves false when not, or when it failed. */
export function sdNotify(state: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const socket = env.NOTIFY_SOCKET;
  if (!socket) return Promise.resolve(false);
  const how = notifyArgv(socket, state);
  if (!how) return Promise.resolve(false);
  return new Promise((resolve) => {
    const child = spawn(how.argv[0]!, how.argv.slice(1), {
      stdio: [how.input === undefined ? 'ignore' : 'pipe', 'ignore', 'ignore'],
      env: { ...process.env, NOTIFY_SOCKET: socket },
    });
    child.on('error', () => resolve(false));
    child.on('exit', (code) => resolve(code === 0));
    if (how.input !== undefined) child.stdin?.end(how.input);
  });
}

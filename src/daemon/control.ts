// The daemon's control socket: a unix socket in the state directory (0700, so
// root only), one JSON request line in, one JSON answer line out.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { UserError } from '../errors/index.js';
import type { StateDir } from '../apply/statedir.js';

export type ControlRequest = { cmd: 'status' } | { cmd: 'reload' };
export const socketPath = (d: StateDir) => path.join(d.dir, 'control.sock');

export function serveControl(d: StateDir, handle: (req: ControlRequest) => Promise<unknown>): net.Server {
  fs.mkdirSync(d.dir, { recursive: true, mode: 0o700 });
  const p = socketPath(d);
  fs.rmSync(p, { force: true }); // a socket left by a daemon that was killed
  const server = net.createServer((conn) => {
    let buf = '';
    conn.on('data', (b) => {
      buf += b.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      let req: ControlRequest;
      try {
        req = JSON.parse(buf.slice(0, nl)) as ControlRequest;
      } catch {
        conn.end(JSON.stringify({ ok: false, error: 'not a JSON request' }) + '\n');
        return;
      }
      handle(req).then(
        (answer) => conn.end(JSON.stringify(answer) + '\n'),
        (e: unknown) => conn.end(JSON.stringify({ ok: false, error: e instanceof Error ? e.message : String(e) }) + '\n'),
      );
    });
    conn.on('error', () => undefined);
  });
  server.listen(p, () => fs.chmodSync(p, 0o600));
  return server;
}

export function askDaemon<T>(d: StateDir, req: ControlRequest, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const conn = net.connect(socketPath(d));
    let buf = '';
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new UserError('the multihome daemon did not answer in time'));
    }, timeoutMs);
    conn.on('connect', () => conn.write(JSON.stringify(req) + '\n'));
    conn.on('data', (b) => (buf += b.toString()));
    conn.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(buf) as T);
      } catch {
        reject(new UserError('the multihome daemon gave no answer'));
      }
    });
    conn.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') reject(new UserError('no multihome daemon is running here', [], 'start it with `multihome run`'));
      else if (e.code === 'EACCES' || e.code === 'EPERM') reject(new UserError(`cannot reach the daemon's control socket (${e.code})`, [], 'run this as root'));
      else reject(e);
    });
  });
}

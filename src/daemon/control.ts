// The daemon's control socket: a unix socket in the state directory (root's,
// 0700; the socket itself 0600, created under a 077 umask so it is never
// open to others, not even for a moment), one JSON request line in, one JSON
// answer line out. A client can ask for `status`, a `reload` or a `failback`, nothing else:
// a request that is not exactly one of those is answered with an error and
// does nothing. Lines are capped, connections are capped and time out, so no
// client can grow the daemon or stall its loop.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import * as z from 'zod';
import { UserError } from '../errors/index.js';
import { ensureStateDir, type StateDir } from '../apply/statedir.js';

const RequestSchema = z.union([
  z.strictObject({ cmd: z.enum(['status', 'reload']) }),
  z.strictObject({
    cmd: z.literal('failback'),
    group: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9_-]{0,31}$/)
      .optional(),
  }),
]);
export type ControlRequest = z.output<typeof RequestSchema>;
const socketPath = (d: StateDir) => path.join(d.dir, 'control.sock');

/** A request line longer than this is refused (a real one is some 20 bytes). */
const MAX_REQUEST = 64 << 10;
export const MAX_CLIENTS = 16;
/** A client that sends nothing for this long is dropped. */
export const IDLE_MS = 5000;

/** The request in a line, or why it is not one. */
export function parseRequest(line: string): { ok: true; req: ControlRequest } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { ok: false, error: 'not a JSON request' };
  }
  const r = RequestSchema.safeParse(json);
  return r.success ? { ok: true, req: r.data } : { ok: false, error: 'expected {"cmd":"status"}, {"cmd":"reload"} or {"cmd":"failback","group":…}' };
}

export function serveControl(
  d: StateDir,
  handle: (req: ControlRequest) => Promise<unknown>,
  log: (e: Record<string, unknown>) => void = () => {},
  o: { idleMs?: number } = {},
): Promise<net.Server> {
  ensureStateDir(d);
  const p = socketPath(d);
  fs.rmSync(p, { force: true }); // a socket left by a daemon that was killed (we hold the lock: no other daemon is here)
  const server = net.createServer((conn) => {
    let buf = '';
    let done = false;
    const answer = (v: unknown) => {
      if (done) return;
      done = true;
      conn.end(JSON.stringify(v) + '\n');
    };
    conn.setTimeout(o.idleMs ?? IDLE_MS, () => conn.destroy());
    conn.on('data', (b) => {
      if (done) return;
      buf += b.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl < 0) {
        if (buf.length > MAX_REQUEST) {
          answer({ ok: false, error: `request longer than ${MAX_REQUEST} bytes` });
          conn.destroy();
        }
        return;
      }
      const r = parseRequest(buf.slice(0, nl));
      buf = '';
      if (!r.ok) return answer({ ok: false, error: r.error });
      conn.setTimeout(0); // a reload may take a while: the client waits for it
      handle(r.req).then(answer, (e: unknown) => answer({ ok: false, error: e instanceof Error ? e.message : String(e) }));
    });
    conn.on('error', () => undefined);
  });
  server.maxConnections = MAX_CLIENTS;
  server.on('error', (e) => log({ event: 'error', during: 'control socket', error: e.message }));
  return new Promise((resolve, reject) => {
    // the socket file is created by bind(), inside listen(): under this umask it is 0600 from the start
    const umask = process.umask(0o077);
    try {
      server.once('error', reject);
      server.listen(p, () => {
        server.off('error', reject);
        fs.chmodSync(p, 0o600);
        resolve(server);
      });
    } finally {
      process.umask(umask);
    }
  });
}

export function askDaemon<T>(d: StateDir, req: ControlRequest, timeoutMs = 10_000): Promise<T> {
  const p = socketPath(d);
  // only a socket root (or we) made, in a state dir only root can write
  let st: fs.Stats;
  try {
    fs.lstatSync(d.dir);
    ensureStateDir(d);
    st = fs.lstatSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return Promise.reject(new UserError('no multihome daemon is running here', [], 'start it with `multihome run`'));
    if (code === 'EACCES' || code === 'EPERM')
      return Promise.reject(new UserError(`cannot reach the daemon's control socket (${code})`, [], 'run this as root'));
    return Promise.reject(e instanceof Error ? e : new Error(String(e))); // a UserError of the trust check among them
  }
  if (!st.isSocket()) return Promise.reject(new UserError(`${p} is not a socket`, [], 'something else put a file there: remove it and restart the daemon'));
  if (st.uid !== 0 && st.uid !== process.geteuid?.())
    return Promise.reject(
      new UserError(`${p} belongs to uid ${st.uid}, not to root: refusing to talk to it`, [], 'another user put it there: remove it and restart the daemon'),
    );
  return new Promise((resolve, reject) => {
    const conn = net.connect(p);
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

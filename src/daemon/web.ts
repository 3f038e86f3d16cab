// The daemon's HTTP endpoint (`web:`): read-only, nothing on it changes routing.
//   GET /metrics       Prometheus text (metrics.ts)
//   GET /api/status    the JSON of `multihome status --json`
//   GET /api/events    recent events (the daemon's log, newest last)
//   GET /api/history   the last hour of each provider (history.ts)
//   GET /              the status page (page.ts), its script and uPlot served from here: no CDN
// Loopback unless `allow_remote`; then every request but /metrics (unless `protect_metrics`)
// carries the token of `token_file`, as `Authorization: Bearer TOKEN` or `?token=TOKEN` (the
// page passes its own on to the API). Only GET and HEAD.
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { timingSafeEqual } from 'node:crypto';
import { UserError } from '../errors/index.js';
import { PAGE_HTML, PAGE_SCRIPT } from './page.js';

export interface WebHandlers {
  metrics(): Promise<string>;
  status(): Promise<unknown>;
  events(): unknown[];
  history(): unknown[];
}

export interface WebOptions {
  host: string;
  port: number;
  token: string | null;
  protectMetrics: boolean;
}

const require = createRequire(import.meta.url);
/** uPlot (npm `uplot`), read once: served as the page's charting library. */
const asset = (file: string): (() => Buffer) => {
  let cached: Buffer | null = null;
  return () => (cached ??= fs.readFileSync(require.resolve(`uplot/dist/${file}`)));
};
const UPLOT_JS = asset('uPlot.iife.min.js');
const UPLOT_CSS = asset('uPlot.min.css');

/** The token in a token file: its first line, trimmed; the file must not be readable by others. */
export function readToken(file: string): string {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw new UserError(
      `web.token_file ${file} cannot be read`,
      [],
      'create it with a long random token, e.g. head -c 32 /dev/urandom | base64 > FILE; chmod 600 FILE',
    );
  }
  if ((st.mode & 0o077) !== 0)
    throw new UserError(`web.token_file ${file} is readable by others (mode ${(st.mode & 0o777).toString(8)})`, [], `chmod 600 ${file}`);
  const token = fs.readFileSync(file, 'utf8').split('\n')[0]!.trim();
  if (token.length < 16) throw new UserError(`web.token_file ${file} holds a token of ${token.length} characters`, [], 'use at least 16 random characters');
  return token;
}

const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export function startWeb(o: WebOptions, h: WebHandlers, log: (e: Record<string, unknown>) => void): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (code: number, type: string, body: string | Buffer) => {
      res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'read-only: GET only\n');
    const needsToken = o.token !== null && (url.pathname !== '/metrics' || o.protectMetrics);
    if (needsToken) {
      const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? url.searchParams.get('token') ?? '';
      if (!same(auth, o.token!)) return send(401, 'text/plain', 'a token is needed: Authorization: Bearer TOKEN, or ?token=TOKEN\n');
    }
    const json = (v: unknown) =>
      send(
        200,
        'application/json',
        JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)),
      );
    const fail = (e: unknown) => send(500, 'text/plain', `${e instanceof Error ? e.message : String(e)}\n`);
    switch (url.pathname) {
      case '/metrics':
        return void h.metrics().then((t) => send(200, 'text/plain; version=0.0.4; charset=utf-8', t), fail);
      case '/api/status':
        return void h.status().then(json, fail);
      case '/api/events':
        return json(h.events());
      case '/api/history':
        return json(h.history());
      case '/':
        return send(200, 'text/html; charset=utf-8', PAGE_HTML);
      case '/page.js':
        return send(200, 'text/javascript; charset=utf-8', PAGE_SCRIPT);
      case '/uPlot.js':
        return send(200, 'text/javascript; charset=utf-8', UPLOT_JS());
      case '/uPlot.css':
        return send(200, 'text/css; charset=utf-8', UPLOT_CSS());
      default:
        return send(404, 'text/plain', 'not found\n');
    }
  });
  server.headersTimeout = 5000;
  server.requestTimeout = 10_000;
  server.maxConnections = 64;
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new UserError(`web: cannot listen on ${o.host}:${o.port} (${e.code ?? e.message})`, [], 'pick another web.listen, or stop what holds it')),
    );
    server.listen(o.port, o.host, () => {
      log({ event: 'web', listening: `${o.host.includes(':') ? `[${o.host}]` : o.host}:${o.port}` });
      resolve(server);
    });
  });
}

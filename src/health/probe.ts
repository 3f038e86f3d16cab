// Health probes that Node can send itself: TCP connect, DNS over UDP, HTTP(S).
// Each binds to the uplink's own source address: multihome's rules send
// `from <provider address>` through that provider's table, so the probe tests
// the uplink under test whatever main's default route is. ICMP needs a raw
// socket, so it lives in src/kernel/ping.ts (the `ping` binary).
//
// Every probe resolves (never rejects) with ok, the elapsed time and, on
// failure, why; `sentAt` (epoch ms) is what the health machine wants.
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { performance } from 'node:perf_hooks';

export interface ProbeOutcome {
  ok: boolean;
  /** milliseconds from send to answer (or to the failure) */
  rttMs: number;
  /** epoch ms when the probe was sent */
  sentAt: number;
  error?: string;
}

export interface TcpProbe {
  target: string;
  port: number;
  source: string;
  timeoutMs: number;
}

export interface DnsProbe {
  target: string;
  name: string;
  source: string;
  timeoutMs: number;
  /** default 53 */
  port?: number;
}

export interface HttpProbe {
  url: string;
  source: string;
  timeoutMs: number;
  /** exact status to require; default: any 2xx or 3xx */
  expectStatus?: number;
}

/**
 * Runs `start` with a `done` that settles once: the first of answer, error or
 * timeout wins, and `cleanup` always runs so no socket or timer outlives it.
 */
function settleOnce(timeoutMs: number, start: (done: (error?: string) => void) => () => void): Promise<ProbeOutcome> {
  const sentAt = Date.now();
  const t0 = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    let cleanup: () => void = () => undefined;
    const done = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      try {
        cleanup();
      } catch {
        /* closing an already-failed socket is not a probe result */
      }
      const rttMs = performance.now() - t0;
      resolve(error === undefined ? { ok: true, rttMs, sentAt } : { ok: false, rttMs, sentAt, error });
    };
    const timer = setTimeout(() => done(`timeout after ${timeoutMs} ms`), timeoutMs);
    try {
      cleanup = start(done);
    } catch (e) {
      done(errText(e));
    }
  });
}

function errText(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    return code && !e.message.includes(code) ? `${code}: ${e.message}` : e.message;
  }
  return String(e);
}

/** TCP connect: ok once the handshake completes. A refusal is a failure (the service, not the path, is tested). */
export function probeTcp(p: TcpProbe): Promise<ProbeOutcome> {
  return settleOnce(p.timeoutMs, (done) => {
    const sock = net.connect({ host: p.target, port: p.port, localAddress: p.source });
    sock.once('connect', () => done());
    sock.once('error', (e) => done(errText(e)));
    return () => sock.destroy();
  });
}

/** A DNS query for `name` type A, class IN, recursion desired; throws on a name DNS cannot carry. */
function dnsQuery(id: number, name: string): Buffer {
  const labels = name
    .replace(/\.$/, '')
    .split('.')
    .filter((l) => l !== '');
  const parts: Buffer[] = [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // RD
  header.writeUInt16BE(1, 4); // QDCOUNT
  parts.push(header);
  let qnameLen = 1;
  for (const label of labels) {
    const b = Buffer.from(label, 'ascii');
    if (b.length > 63) throw new Error(`DNS label too long in ${JSON.stringify(name)}`);
    qnameLen += b.length + 1;
    parts.push(Buffer.from([b.length]), b);
  }
  if (qnameLen > 255) throw new Error(`DNS name too long: ${JSON.stringify(name)}`);
  parts.push(Buffer.from([0, 0, 1, 0, 1])); // root label, QTYPE A, QCLASS IN
  return Buffer.concat(parts);
}

/**
 * DNS over UDP: ok on any response carrying our id with the QR bit set,
 * whatever its rcode — an NXDOMAIN or SERVFAIL still proves the path works.
 */
export function probeDns(p: DnsProbe): Promise<ProbeOutcome> {
  return settleOnce(p.timeoutMs, (done) => {
    const id = randomInt(0, 0x10000);
    const query = dnsQuery(id, p.name);
    const sock = createSocket(net.isIPv6(p.target) ? 'udp6' : 'udp4');
    sock.on('error', (e) => done(errText(e)));
    sock.on('message', (msg) => {
      if (msg.length >= 12 && msg.readUInt16BE(0) === id && (msg[2]! & 0x80) !== 0) done();
      // anything else (stray or spoofed datagram) is ignored; the timeout decides
    });
    // connect() after bind: the kernel then drops datagrams from anyone else
    // and reports ICMP errors (port unreachable) as socket errors.
    sock.bind({ address: p.source, port: 0 }, () => {
      sock.connect(p.port ?? 53, p.target, () => sock.send(query, (e) => e && done(errText(e))));
    });
    return () => sock.close();
  });
}

/** HTTP(S) GET: ok when the status line arrives and matches (the body is not waited for). */
export function probeHttp(p: HttpProbe): Promise<ProbeOutcome> {
  return settleOnce(p.timeoutMs, (done) => {
    const url = new URL(p.url);
    const mod = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
    if (!mod) throw new Error(`unsupported URL scheme ${url.protocol}`);
    // agent: false — a fresh connection each time; a pooled one would not test the path now.
    const req = mod.request(url, { method: 'GET', localAddress: p.source, agent: false, headers: { connection: 'close' } }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      const good = p.expectStatus !== undefined ? status === p.expectStatus : status >= 200 && status < 400;
      done(good ? undefined : `HTTP status ${status}`);
    });
    req.on('error', (e) => done(errText(e)));
    req.end();
    return () => req.destroy();
  });
}

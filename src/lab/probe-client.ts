#!/usr/bin/env node
// One probe: connect (TCP) or send one datagram (UDP) to host:port, print the
// server's JSON line, or {"error":...} when nothing comes back in time. Run
// inside a lab namespace; always exits 0 when it could print a result, so the
// caller reads the outcome from stdout alone.
//
//   probe-client.js --proto tcp|udp --host H --port P [--bind ADDR] [--timeout MS]
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { parseArgs } from 'node:util';

interface Args {
  proto: 'tcp' | 'udp';
  host: string;
  port: number;
  bind?: string;
  timeoutMs: number;
}

function args(): Args {
  const { values } = parseArgs({
    options: {
      proto: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      bind: { type: 'string' },
      timeout: { type: 'string', default: '2000' },
    },
  });
  const port = Number(values.port);
  const timeoutMs = Number(values.timeout);
  if ((values.proto !== 'tcp' && values.proto !== 'udp') || !values.host || !Number.isInteger(port) || !(timeoutMs > 0)) {
    throw new Error('usage: probe-client --proto tcp|udp --host H --port P [--bind ADDR] [--timeout MS]');
  }
  return { proto: values.proto, host: values.host, port, timeoutMs, ...(values.bind ? { bind: values.bind } : {}) };
}

/** The first line of the answer, or an error text. */
function tcp(a: Args): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    const sock = connect({ host: a.host, port: a.port, ...(a.bind ? { localAddress: a.bind } : {}) });
    let finished = false;
    const done = (line: string) => {
      if (finished) return; // data, end and error can all arrive; the first one counts
      finished = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(line);
    };
    const timer = setTimeout(() => done(JSON.stringify({ error: 'timeout' })), a.timeoutMs);
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      data += d;
      const nl = data.indexOf('\n');
      if (nl >= 0) done(data.slice(0, nl));
    });
    sock.on('end', () => done(data.trim() || JSON.stringify({ error: 'closed without answer' })));
    sock.on('error', (e: NodeJS.ErrnoException) => done(JSON.stringify({ error: e.code ?? e.message })));
  });
}

function udp(a: Args): Promise<string> {
  return new Promise((resolve) => {
    // unconnected sendto from a wildcard socket, as a resolver forwarding queries does
    const sock = createSocket(a.host.includes(':') ? 'udp6' : 'udp4');
    let finished = false;
    const done = (line: string) => {
      if (finished) return; // data, end and error can all arrive; the first one counts
      finished = true;
      clearTimeout(timer);
      sock.close();
      resolve(line);
    };
    const timer = setTimeout(() => done(JSON.stringify({ error: 'timeout' })), a.timeoutMs);
    sock.on('message', (msg) => done(msg.toString('utf8').split('\n')[0] ?? ''));
    sock.on('error', (e: NodeJS.ErrnoException) => done(JSON.stringify({ error: e.code ?? e.message })));
    sock.bind(0, a.bind, () => sock.send('probe\n', a.port, a.host));
  });
}

async function main(): Promise<void> {
  const a = args();
  const line = a.proto === 'tcp' ? await tcp(a) : await udp(a);
  process.stdout.write(`${line}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`probe-client: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
});

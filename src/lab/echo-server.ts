#!/usr/bin/env node
// The lab's internet host: one process answering on TCP 22/80/443 and UDP
// 53/443 (IPv4 and IPv6) with a single JSON line naming the address it saw the client as.
// That address is how the lab checks SNAT: it is the source after every NAT
// on the way. Runs inside the internet namespace (started by servers.ts);
// prints {"ready":true} once every socket listens.
import { createSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';

const TCP_PORTS = [22, 80, 443];
const UDP_PORTS = [53, 443];
// separate IPv4 and IPv6 sockets: IPv4 remote addresses come without ::ffff:
const HOSTS = ['0.0.0.0', '::'] as const;

function answer(seen: string | undefined, port: number, proto: 'tcp' | 'udp'): string {
  return `${JSON.stringify({ seen: seen ?? null, port, proto })}\n`;
}

function listenTcp(port: number, host: string): Promise<Server> {
  const server = createServer((sock) => {
    sock.on('error', () => undefined); // a client that resets is not our problem
    sock.end(answer(sock.remoteAddress, port, 'tcp'));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, ipv6Only: host === '::' }, () => resolve(server));
  });
}

function listenUdp(port: number, host: string): Promise<void> {
  const sock = host === '::' ? createSocket({ type: 'udp6', ipv6Only: true }) : createSocket('udp4');
  sock.on('message', (_msg, rinfo) => {
    sock.send(answer(rinfo.address, port, 'udp'), rinfo.port, rinfo.address);
  });
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, host, () => resolve());
  });
}

async function main(): Promise<void> {
  await Promise.all(HOSTS.flatMap((h) => [...TCP_PORTS.map((p) => listenTcp(p, h)), ...UDP_PORTS.map((p) => listenUdp(p, h))]));
  // The starter may exit after "ready" (lab up); a closed pipe must not kill us.
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);
  process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid })}\n`);
  const quit = () => process.exit(0);
  process.on('SIGTERM', quit);
  process.on('SIGINT', quit);
}

main().catch((e: unknown) => {
  process.stderr.write(`echo-server: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});

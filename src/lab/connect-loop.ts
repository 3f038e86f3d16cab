// New connections, one every few milliseconds, to time when NEW connections
// move (a failover, a brownout, a failback): a client in any lab namespace
// opens a fresh TCP connection or a fresh unbound UDP socket each `everyMs`
// to the internet host's echo server and logs, per answer, when that attempt
// was SENT and the source address the server saw. Unlike the steady flow of
// udp-flow.ts (one socket, one conntrack entry), every attempt here is a new
// connection that routing decides afresh.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnInNetns, type BackgroundProcess } from '../kernel/netns.js';
import { arrivalLog, type ArrivalLog } from './arrival-log.js';

const CLIENT = (file: string, proto: 'tcp' | 'udp', host: string, port: number, everyMs: number, timeoutMs: number) => `
const fs = require('node:fs'); const out = fs.openSync(${JSON.stringify(file)}, 'a');
const log = (t, line) => { try { const j = JSON.parse(line); if (j.seen) fs.writeSync(out, t + ' ' + j.seen + '\\n'); } catch {} };
function tcp() {
  const t = Date.now(); let data = '';
  const s = require('node:net').connect({ host: ${JSON.stringify(host)}, port: ${port} });
  const timer = setTimeout(() => s.destroy(), ${timeoutMs});
  s.setEncoding('utf8'); s.on('data', (d) => { data += d; if (data.includes('\\n')) { log(t, data.split('\\n')[0]); clearTimeout(timer); s.destroy(); } });
  s.on('error', () => clearTimeout(timer));
}
// each attempt from a port of its own: a reused port would be the same conntrack entry (an old connection)
let lport = 20000 + Math.floor(Math.random() * 20000);
function udp() {
  const t = Date.now();
  lport = lport >= 59999 ? 20000 : lport + 1;
  const s = require('node:dgram').createSocket(${JSON.stringify(host)}.includes(':') ? 'udp6' : 'udp4');
  const timer = setTimeout(() => s.close(), ${timeoutMs});
  s.on('message', (m) => { log(t, m.toString('utf8').split('\\n')[0]); clearTimeout(timer); s.close(); });
  s.on('error', () => { clearTimeout(timer); try { s.close(); } catch {} });
  s.bind(lport, () => s.send('probe\\n', ${port}, ${JSON.stringify(host)}));
}
setInterval(${proto}, ${everyMs});
console.log('ready');`;

export interface ConnectLoop extends ArrivalLog {
  stop(): Promise<void>;
}

export async function startConnectLoop(
  ns: string,
  o: { proto: 'tcp' | 'udp'; host: string; port?: number; everyMs?: number; timeoutMs?: number },
): Promise<ConnectLoop> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mh-connect-'));
  const log = path.join(dir, 'answers.log');
  fs.writeFileSync(log, '');
  const proc: BackgroundProcess = spawnInNetns(ns, [
    process.execPath,
    '-e',
    CLIENT(log, o.proto, o.host, o.port ?? (o.proto === 'tcp' ? 22 : 443), o.everyMs ?? 20, o.timeoutMs ?? 500),
  ]);
  const stop = async () => {
    await proc.stop(500);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await proc.waitForOutput('ready', 5000);
  } catch (e) {
    await stop();
    throw e;
  }
  return { ...arrivalLog(log), stop };
}

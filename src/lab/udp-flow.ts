// A steady UDP flow through the lab, to time failovers and repairs: a sender
// in the LAN sends a datagram every 5 ms to the internet host (one socket, so
// one connection in conntrack: an "existing flow"), and a receiver there logs
// each arrival with its time and the source address it came from — the
// uplink's SNAT address says which uplink carried it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnInNetns, type BackgroundProcess } from '../kernel/netns.js';
import { arrivalLog, type ArrivalLog } from './arrival-log.js';
import { nsOf } from './build.js';
import type { LabInstance } from './instances.js';

const RECEIVER = (file: string, port: number) => `const fs = require('node:fs'); const out = fs.openSync(${JSON.stringify(file)}, 'a');
const s = require('node:dgram').createSocket('udp4');
s.on('message', (m, r) => fs.writeSync(out, Date.now() + ' ' + r.address + '\\n'));
s.bind(${port}, '0.0.0.0', () => console.log('ready'));`;
const SENDER = (host: string, port: number, everyMs: number) => `const s = require('node:dgram').createSocket('udp4'); let n = 0;
setInterval(() => s.send(String(n++), ${port}, ${JSON.stringify(host)}), ${everyMs});
console.log('ready');`;

export interface UdpFlow extends ArrivalLog {
  stop(): Promise<void>;
}

export async function startUdpFlow(inst: LabInstance, o: { from?: string; to?: string; host: string; port?: number; everyMs?: number }): Promise<UdpFlow> {
  const port = o.port ?? 9999;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mh-flow-'));
  const log = path.join(dir, 'arrivals.log');
  fs.writeFileSync(log, '');
  const procs: BackgroundProcess[] = [];
  const stop = async () => {
    await Promise.all(procs.map((p) => p.stop(500)));
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const receiver = spawnInNetns(nsOf(inst, o.to ?? 'inet'), [process.execPath, '-e', RECEIVER(log, port)]);
    procs.push(receiver);
    await receiver.waitForOutput('ready', 5000);
    const sender = spawnInNetns(nsOf(inst, o.from ?? 'lan'), [process.execPath, '-e', SENDER(o.host, port, o.everyMs ?? 5)]);
    procs.push(sender);
    await sender.waitForOutput('ready', 5000);
  } catch (e) {
    await stop();
    throw e;
  }
  return { ...arrivalLog(log), stop };
}

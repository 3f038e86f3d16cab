// Many LAN sources at once, to measure how balancing spreads and moves them:
// one process opens a TCP connection from each source address (bound) to the
// internet host's echo server and reports, per source, the address the server
// saw — which names the uplink.
import { execInNetns } from '../kernel/netns.js';
import { runOk } from '../kernel/exec.js';

const CLIENT = (sources: string[], host: string, port: number, timeoutMs: number) => `
const net = require('node:net');
const one = (src) => new Promise((resolve) => {
  let data = '';
  const s = net.connect({ host: ${JSON.stringify(host)}, port: ${port}, localAddress: src });
  const done = (v) => { clearTimeout(timer); s.destroy(); resolve(v); };
  const timer = setTimeout(() => done(null), ${timeoutMs});
  s.setEncoding('utf8');
  s.on('data', (d) => { data += d; if (data.includes('\\n')) { try { done(JSON.parse(data.split('\\n')[0]).seen ?? null); } catch { done(null); } } });
  s.on('error', () => done(null));
});
Promise.all(${JSON.stringify(sources)}.map(async (src) => [src, await one(src)])).then((r) => console.log(JSON.stringify(Object.fromEntries(r))));`;

/** `count` addresses 192.168.99.<first>… added to the LAN host's eth0 (the lab's LAN is a /24). */
export async function addLanSources(ns: string, count: number, first = 100): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const a = `192.168.99.${first + i}`;
    await runOk(['ip', 'addr', 'add', `${a}/24`, 'dev', 'eth0'], { netns: ns });
    out.push(a);
  }
  return out;
}

/** For each source, the address the server saw its new connection come from (null: no answer). */
export async function seenBySource(ns: string, sources: string[], host: string, port = 22, timeoutMs = 1500): Promise<Record<string, string | null>> {
  const r = await execInNetns(ns, [process.execPath, '-e', CLIENT(sources, host, port, timeoutMs)], { timeoutMs: timeoutMs + 10_000 });
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, string | null>;
}

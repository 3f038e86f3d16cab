// The lab's traffic endpoints: start the echo server in the internet
// namespace, and run one probe from any namespace. Both are the compiled
// scripts next to this module, run with this same node binary.
import { fileURLToPath } from 'node:url';
import { execInNetns, spawnInNetns, type BackgroundProcess } from '../kernel/netns.js';
import { nsOf } from './build.js';
import { saveInstance, type LabInstance } from './instances.js';

const ECHO_SERVER = fileURLToPath(new URL('./echo-server.js', import.meta.url));
const PROBE_CLIENT = fileURLToPath(new URL('./probe-client.js', import.meta.url));

/**
 * Start the echo server in `role` (the internet host), wait until all its
 * sockets listen, and add its pid to the instance record so `lab down` from
 * another process can end it.
 */
export async function startEchoServer(inst: LabInstance, role: string): Promise<BackgroundProcess> {
  const proc = spawnInNetns(nsOf(inst, role), [process.execPath, ECHO_SERVER]);
  try {
    await proc.waitForOutput('"ready":true', 10_000);
  } catch (e) {
    await proc.stop();
    throw e;
  }
  inst.servers.push({ role, pid: proc.pid, what: 'echo-server' });
  await saveInstance(inst);
  return proc;
}

export interface ProbeRequest {
  proto: 'tcp' | 'udp';
  host: string;
  port: number;
  bind?: string;
  timeoutMs?: number;
}

/** What the server said: the source it saw, or why there was no answer. */
export type ProbeResult = { seen: string; port: number; proto: 'tcp' | 'udp' } | { error: string };

export async function probe(ns: string, req: ProbeRequest): Promise<ProbeResult> {
  const timeoutMs = req.timeoutMs ?? 2000;
  const argv = [process.execPath, PROBE_CLIENT, '--proto', req.proto, '--host', req.host, '--port', String(req.port), '--timeout', String(timeoutMs)];
  if (req.bind) argv.push('--bind', req.bind);
  // The outer timeout only guards against a hung client; the client has its own.
  const r = await execInNetns(ns, argv, { timeoutMs: timeoutMs + 10_000 });
  const line = r.stdout.trim().split('\n')[0] ?? '';
  try {
    const j = JSON.parse(line) as Record<string, unknown>;
    if (typeof j['seen'] === 'string') return { seen: j['seen'], port: Number(j['port']), proto: j['proto'] === 'udp' ? 'udp' : 'tcp' };
    return { error: typeof j['error'] === 'string' ? j['error'] : 'no answer' };
  } catch {
    return { error: `probe client failed (exit ${r.code}): ${r.stderr.trim() || line}` };
  }
}

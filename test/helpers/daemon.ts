// `multihome run` in a lab router namespace, with its own state dir, and the
// CLI next to it (status, reload, plan) — for the daemon's lab tests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../../src/kernel/exec.js';
import { spawnInNetns, type BackgroundProcess } from '../../src/kernel/netns.js';
import type { DaemonStatus } from '../../src/daemon/status.js';
import { nsOf, probe, type LabInstance } from '../../src/lab/index.js';
import { repoPath } from './paths.js';

export const MAIN = repoPath('dist', 'src', 'cli', 'main.js');

/** Poll `check` every 20 ms; resolves with the ms it took, throws after `ms`. */
export async function until(what: string, ms: number, check: () => Promise<boolean> | boolean): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (await check()) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${what}: not within ${ms} ms`);
}

export interface LabDaemon {
  dir: string;
  cfg: string;
  state: string;
  cli: (args: string[]) => ReturnType<typeof run>;
  daemon: BackgroundProcess;
  start: () => BackgroundProcess;
  status: () => Promise<DaemonStatus>;
  /** the daemon's JSON log lines so far */
  events: () => Record<string, unknown>[];
}

/**
 * Write the config (given the test's own folder, for files it names), start `multihome run` in the
 * router namespace with its own state dir, and wait until it answers.
 */
export async function startDaemon(router: string, config: string | ((dir: string) => string)): Promise<LabDaemon> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mh-daemon-'));
  const cfg = path.join(dir, 'multihome.yaml');
  fs.writeFileSync(cfg, typeof config === 'string' ? config : config(dir));
  const state = path.join(dir, 'state');
  const log = path.join(dir, 'daemon.log');
  const cli = (args: string[]) => run([process.execPath, MAIN, '--state-dir', state, ...args], { netns: router });
  // stderr (the JSON log) to a file, so a test can read the events
  const start = () => spawnInNetns(router, [process.execPath, MAIN, '--state-dir', state, 'run', '-c', cfg, '--log-format', 'json'], { stderrTo: log });
  const daemon = start();
  await until('the daemon answers', 10_000, async () => (await cli(['status', '--json'])).code === 0);
  const status = async () => {
    const r = await cli(['status', '--json']);
    if (r.code !== 0) throw new Error(`status: ${r.stderr}`);
    return JSON.parse(r.stdout) as DaemonStatus;
  };
  const events = () =>
    (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { dir, cfg, state, cli, daemon, start, status, events };
}

/** The source address the internet host sees for a new connection from the LAN (or the error). */
export async function seenFrom(inst: LabInstance, port = 22): Promise<string> {
  const r = await probe(nsOf(inst, 'lan'), { proto: 'tcp', host: '203.0.113.10', port, timeoutMs: 1000 });
  return 'seen' in r ? r.seen : r.error;
}

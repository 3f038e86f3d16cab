// The daemon on the in-memory kernel with probers the test drives: for the
// daemon's unit tests (transcripts without root).
import fs from 'node:fs';
import path from 'node:path';
import { Daemon } from '../../src/daemon/daemon.js';
import type { HookRunner } from '../../src/daemon/hooks.js';
import type { ProbeReport, startProber } from '../../src/daemon/probers.js';
import { FakeKernel } from './fake-kernel.js';
import { fakeTarget, SEED_DAEMON_CONFIG as CONFIG, SEED_LINKS, tmpStateDir } from './seed-fake.js';

/** Probers the test drives: `round(name, ok)` reports one probe round of that provider. */
export function fakeProbers() {
  const live = new Map<string, (r: Omit<ProbeReport, 'provider' | 'target'>) => void>();
  let t = Date.now();
  const start: typeof startProber = (p, _h, _f, _e, report) => {
    live.set(p.name, (r) => report({ provider: p.name, target: '203.0.113.10', ...r }));
    return {
      flush: () => undefined, // results reach the daemon as the test reports them
      stop: () => {
        live.delete(p.name);
        return Promise.resolve();
      },
    };
  };
  return {
    start,
    started: () => [...live.keys()].sort(),
    /** n probe rounds 200 ms apart, answered (after rttMs, default 1 ms) or timed out (600 ms) */
    rounds(name: string, ok: boolean, n: number, rttMs = 1) {
      for (let i = 0; i < n; i++) {
        t = Math.max(t + 200, Date.now());
        live.get(name)?.(ok ? { sentAt: t, at: t + rttMs, ok: true, rttMs } : { sentAt: t, at: t + 600, ok: false, error: 'timeout' });
      }
    },
  };
}

export async function startDaemon(
  config = CONFIG,
  kernel = new FakeKernel(SEED_LINKS),
  o: { runHook?: HookRunner; notify?: (state: string) => void; watchdogMs?: number; stateDir?: string } = {},
) {
  const dir = tmpStateDir();
  const file = path.join(dir, 'multihome.yaml');
  fs.writeFileSync(file, config);
  const { stateDir, ...daemonOptions } = o;
  const t = fakeTarget(kernel, stateDir ?? path.join(dir, 'state'));
  const probes = fakeProbers();
  const events: Record<string, unknown>[] = [];
  const d = new Daemon({
    target: t,
    readConfig: () => ({ text: fs.readFileSync(file, 'utf8'), file }),
    log: (e) => events.push(e),
    startProber: probes.start,
    ...daemonOptions,
    checkEvery: 3_600_000,
  });
  await d.start();
  await d.idle();
  const kinds = () => events.map((e) => `${String(e.event)}${typeof e.provider === 'string' ? ` ${e.provider}` : ''}`);
  return { d, k: kernel, t, file, probes, events, kinds };
}

export const routesOf = (k: FakeKernel) => k.state.routes.map((r) => `${r.table}/${r.dst} via ${r.gateway ?? '-'}`).sort();
export const groupTarget = (k: FakeKernel) => /chain group_web \{\n\t\t([^\n]*)/.exec(k.nftText ?? '')?.[1];

// Probing one provider: every target on the provider's schedule, each probe
// bound to the provider's own address so it leaves by that uplink, results
// handed to a callback (the daemon feeds them to the health state machine).
import type { ResolvedProvider } from '../config/assign.js';
import type { HealthConfig } from '../config/schema.js';
import { providerSourceAddresses } from '../compile/sources.js';
import type { SystemFacts } from '../compile/facts.js';
import { probeDns, probeHttp, probeTcp, type ProbeOutcome } from '../health/probe.js';
import { startPing, type Pinger } from '../kernel/ping.js';
import { formatAddress, type Address } from '../net/ip.js';
import type { ExecOptions } from '../kernel/exec.js';

export interface ProbeReport {
  provider: string;
  target: string;
  at: number;
  ok: boolean;
  sentAt: number;
  rttMs?: number | undefined;
  error?: string | undefined;
}

export interface Prober {
  stop(): Promise<void>;
  /** report now every result already known (ICMP results are read in batches; see kernel/ping.ts) */
  flush(): void;
}

/** The address a probe to `target` is sent from: the provider's own, of the target's family. */
export function probeSource(p: ResolvedProvider, target: Address, facts: SystemFacts): string | null {
  const a = providerSourceAddresses(p, target.family, facts)[0];
  return a ? formatAddress(a) : null;
}

export function startProber(p: ResolvedProvider, h: HealthConfig, facts: SystemFacts, exec: ExecOptions, report: (r: ProbeReport) => void): Prober {
  const timers: NodeJS.Timeout[] = [];
  const pingers: Pinger[] = [];
  let stopped = false;
  for (const t of h.targets) {
    const target = formatAddress(t);
    const source = probeSource(p, t, facts);
    if (!source) {
      report({ provider: p.name, target, at: Date.now(), sentAt: Date.now(), ok: false, error: `no IPv${t.family} address on ${p.interface} to probe from` });
      continue;
    }
    if (h.probe === 'icmp') {
      // ping can exit (an address gone from the interface, a bad target): report it and start again.
      const launch = (): void => {
        const pg = startPing({
          target,
          source,
          intervalMs: h.interval,
          timeoutMs: h.timeout,
          ...(exec.netns ? { netns: exec.netns } : {}),
          onResult: (r) => report({ provider: p.name, target, at: r.at, ok: r.ok, sentAt: r.sentAt, rttMs: r.rttMs, error: r.error }),
        });
        pingers.push(pg);
        void pg.exited.then(({ code, stderr }) => {
          pingers.splice(pingers.indexOf(pg), 1);
          if (stopped) return;
          report({
            provider: p.name,
            target,
            at: Date.now(),
            sentAt: Date.now(),
            ok: false,
            error: `ping exited (${code}): ${stderr.trim().split('\n')[0] ?? ''}`,
          });
          timers.push(setTimeout(launch, Math.max(h.interval, 1000)));
        });
      };
      launch();
      continue;
    }
    // TCP, DNS and HTTP probes run in this process: the daemon runs inside the router's namespace.
    const once = async (): Promise<ProbeOutcome> => {
      const base = { source, timeoutMs: h.timeout };
      if (h.probe === 'tcp') return probeTcp({ ...base, target, port: h.port ?? 443 });
      if (h.probe === 'dns') return probeDns({ ...base, target, name: h.name ?? 'example.com', ...(h.port ? { port: h.port } : {}) });
      const host = t.family === 6 ? `[${target}]` : target;
      return probeHttp({ ...base, url: `${h.probe}://${host}${h.port ? `:${h.port}` : ''}${h.path ?? '/'}` });
    };
    const timer = setInterval(() => {
      void once().then((o) =>
        report({ provider: p.name, target, at: Date.now(), ok: o.ok, sentAt: o.sentAt, rttMs: o.rttMs, ...(o.error ? { error: o.error } : {}) }),
      );
    }, h.interval);
    timers.push(timer);
  }
  return {
    flush() {
      for (const pg of pingers) pg.flush();
    },
    async stop() {
      stopped = true;
      for (const t of timers) clearInterval(t);
      await Promise.all(pingers.map((pg) => pg.stop()));
    },
  };
}

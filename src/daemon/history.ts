// The last hour of each provider's health and throughput, for the status page:
// a ring buffer the daemon adds a point to every 10 s (360 points). It lives in
// the Daemon object, so it survives reloads; a restart starts it afresh. Pure.
export const HISTORY_EVERY_MS = 10_000;
const HISTORY_POINTS = 360;

export interface HistoryPoint {
  /** ms since the epoch */
  t: number;
  providers: Record<string, { up: boolean; rttMs: number | null; loss: number | null; jitterMs: number | null; inBps: number | null; outBps: number | null }>;
}

export interface ProviderSample {
  name: string;
  up: boolean;
  rttMs: number | null;
  loss: number | null;
  jitterMs: number | null;
  /** monotonic byte totals (usage.ts) */
  inBytes: number;
  outBytes: number;
}

export class History {
  private readonly points: HistoryPoint[] = [];
  private last: { t: number; bytes: Record<string, { in: number; out: number }> } | null = null;

  add(t: number, samples: ProviderSample[]): void {
    const providers: HistoryPoint['providers'] = {};
    for (const s of samples) {
      const prev = this.last?.bytes[s.name];
      const dt = this.last ? (t - this.last.t) / 1000 : 0;
      const rate = (now: number, before: number | undefined) => (before === undefined || dt <= 0 ? null : Math.max(0, ((now - before) * 8) / dt));
      providers[s.name] = {
        up: s.up,
        rttMs: s.rttMs,
        loss: s.loss,
        jitterMs: s.jitterMs,
        inBps: rate(s.inBytes, prev?.in),
        outBps: rate(s.outBytes, prev?.out),
      };
    }
    this.points.push({ t, providers });
    if (this.points.length > HISTORY_POINTS) this.points.shift();
    this.last = { t, bytes: Object.fromEntries(samples.map((s) => [s.name, { in: s.inBytes, out: s.outBytes }])) };
  }

  snapshot(): HistoryPoint[] {
    return [...this.points];
  }
}

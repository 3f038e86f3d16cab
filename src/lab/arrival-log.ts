// A log of "TIME SOURCE" lines (ms since the epoch, the source address the
// internet host saw) that a lab traffic generator appends to, read back to time
// failovers: udp-flow.ts (arrivals of one steady flow) and connect-loop.ts
// (new connections, by send time).
import fs from 'node:fs';

export interface ArrivalLog {
  /** the first time at or after `since` with this source, or null */
  firstFrom(source: string, since: number): number | null;
  /** the sources at or after `since`, in time order (repeats kept) */
  sourcesSince(since: number): string[];
  /** resolves with firstFrom once there is one, or null after `timeoutMs` */
  waitFor(source: string, since: number, timeoutMs: number): Promise<number | null>;
}

export function arrivalLog(file: string): ArrivalLog {
  const lines = (): [number, string][] =>
    fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l): [number, string] => {
        const [t, src] = l.split(' ');
        return [Number(t), src ?? ''];
      })
      .sort((a, b) => a[0] - b[0]);
  const firstFrom = (source: string, since: number) => lines().find(([t, s]) => s === source && t >= since)?.[0] ?? null;
  return {
    firstFrom,
    sourcesSince: (since) =>
      lines()
        .filter(([t]) => t >= since)
        .map(([, s]) => s),
    async waitFor(source, since, timeoutMs) {
      const t0 = Date.now();
      for (;;) {
        const t = firstFrom(source, since);
        if (t !== null || Date.now() - t0 > timeoutMs) return t;
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}

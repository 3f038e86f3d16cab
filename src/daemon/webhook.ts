// `notify: { url: … }`: every event the daemon logs at level info or above is
// POSTed as JSON to the URL, in order, one at a time, each with a timeout and
// retried with backoff (1 s, 2 s, 4 s …) before it is given up (and a warning
// logged). The queue is bounded: a webhook that is down for long loses the
// oldest events, not the daemon's memory. Nothing waits for it.
import { levelOf } from './log-format.js';

export interface WebhookOptions {
  url: string;
  timeoutMs: number;
  retries: number;
  /** ms before the first retry (doubles each time) */
  backoffMs?: number;
  maxQueue?: number;
}

export class Webhook {
  private readonly queue: Record<string, unknown>[] = [];
  private busy = false;
  private stopped = false;
  private dropped = 0;

  constructor(
    private readonly o: WebhookOptions,
    private readonly warn: (e: Record<string, unknown>) => void,
  ) {}

  /** Queue an event (events below info, and the webhook's own warnings, are not sent). */
  send(e: Record<string, unknown>): void {
    if (this.stopped || levelOf(e) === 'debug' || e.webhook) return;
    this.queue.push(e);
    if (this.queue.length > (this.o.maxQueue ?? 1000)) {
      this.queue.shift();
      this.dropped++;
    }
    void this.drain();
  }

  stop(): void {
    this.stopped = true;
  }

  /** Resolves once the queue is empty (tests). */
  async idle(): Promise<void> {
    while ((this.busy || this.queue.length) && !this.stopped) await new Promise((r) => setTimeout(r, 10));
  }

  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.queue.length && !this.stopped) {
        const e = this.queue[0]!;
        let error = '';
        for (let attempt = 0; attempt <= this.o.retries && !this.stopped; attempt++) {
          if (attempt > 0) await new Promise((r) => setTimeout(r, (this.o.backoffMs ?? 1000) * 2 ** (attempt - 1)));
          try {
            const r = await fetch(this.o.url, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ ...e, ...(this.dropped ? { dropped: this.dropped } : {}) }),
              signal: AbortSignal.timeout(this.o.timeoutMs),
            });
            await r.body?.cancel();
            if (r.ok) {
              error = '';
              this.dropped = 0;
              break;
            }
            error = `HTTP ${r.status}`;
          } catch (err) {
            error = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
          }
        }
        if (error)
          this.warn({
            event: 'warning',
            webhook: true,
            warning: `notify: gave up sending a ${String(e.event)} event to ${this.o.url} after ${this.o.retries + 1} tries: ${error}`,
          });
        this.queue.shift();
      }
    } finally {
      this.busy = false;
    }
  }
}

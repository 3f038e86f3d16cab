// Flow control between the copier's writes and the route event listener.
//
// Every route the copier writes comes back to the listener as an event (its
// echo), which the listener reads and drops. The kernel queues those events in
// the listener's receive buffer (a few MB: some thousands of events); writes
// faster than the listener reads overflow it, the kernel drops events (main's
// among them) and only a full resync can repair that. So the copier counts the
// routes it wrote, the listener reports the echoes it read, and a write waits
// while more than `limit` echoes are still on their way.
//
// A write that made no event (there are few: the counts are of acknowledged,
// successful messages) would keep the counts apart for good: a wait ends after
// `maxWaitMs` at the latest and the counts start again from even.

/**
 * Echoes allowed on their way. The listener's 8 MiB receive buffer held 8,000 events
 * and overflowed before 11,000 (measured, IPv4 route events); this leaves room for the
 * changes of main that arrive meanwhile. Lower limits measured slower (each wait is a
 * round trip through the listener), with no fewer overflows.
 */
const ECHO_LIMIT = 6000;

export class EchoPacer {
  private written = 0;
  private echoed = 0;
  private paused = false;
  private waiters: (() => void)[] = [];

  constructor(
    readonly limit = ECHO_LIMIT,
    readonly maxWaitMs = 100,
  ) {}

  /** Echoes still expected. */
  get behind(): number {
    return this.written - this.echoed;
  }

  /** `n` route messages were written and acknowledged without error. */
  wrote(n: number): void {
    if (!this.paused) this.written += n;
  }

  /** The listener read `n` echoes. */
  echoes(n: number): void {
    this.echoed = Math.min(this.written, this.echoed + n);
    if (this.behind <= this.limit) this.wake();
  }

  /** No listener (paused for a bulk write, or restarting): nothing to wait for, counts start even. */
  pause(): void {
    this.paused = true;
    this.even();
  }

  /** A listener is reading again. */
  resume(): void {
    this.paused = false;
    this.even();
  }

  /** Resolves once the listener is at most `limit` echoes behind (or after maxWaitMs). */
  settle(): Promise<void> {
    if (this.paused || this.behind <= this.limit) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.even(), this.maxWaitMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private even(): void {
    this.echoed = this.written;
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

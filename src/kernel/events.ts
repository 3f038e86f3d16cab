// Kernel events for the daemon: starts kernel-events-child.ts in this process's
// network namespace and hands each batch of changes to the caller.
import { fileURLToPath } from 'node:url';
import { startListenerChild } from './listener-child.js';
import type { EventBatch } from './event-codec.js';

export interface EventWatch {
  close(): void;
}

export interface WatchOptions {
  /** route tables whose changes matter */
  tables: number[];
  /** route changes of this protocol are not reported (the route copier's own) */
  skipProtocol?: number;
}

/**
 * Resolves once the listener is subscribed. `onLost` when it ended without being closed
 * (the kernel dropped events, or it crashed): events may have been missed.
 */
export function watchKernel(o: WatchOptions, onBatch: (b: EventBatch) => void, onLost: (why: string) => void): Promise<EventWatch> {
  const script = fileURLToPath(new URL('./kernel-events-child.js', import.meta.url));
  const args = [script, o.tables.join(','), ...(o.skipProtocol !== undefined ? [String(o.skipProtocol)] : [])];
  return startListenerChild(
    'the kernel event listener',
    args,
    (closed) => {
      let pending = '';
      return {
        onData(chunk, ready) {
          pending += chunk.toString('utf8');
          let nl: number;
          while ((nl = pending.indexOf('\n')) >= 0) {
            const line = pending.slice(0, nl);
            pending = pending.slice(nl + 1);
            let msg: EventBatch & { ready?: boolean };
            try {
              msg = JSON.parse(line) as EventBatch & { ready?: boolean };
            } catch {
              continue; // not ours
            }
            if (msg.ready) ready();
            else if (!closed()) onBatch(msg);
          }
        },
      };
    },
    onLost,
  );
}

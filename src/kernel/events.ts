// Kernel events for the daemon: starts kernel-events-child.ts in this process's
// network namespace and hands each batch of changes to the caller.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { InternalError } from '../errors/index.js';
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
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let closed = false;
  let ready = false;
  let pending = '';
  let stderr = '';
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        let msg: (EventBatch & { ready?: boolean }) | null = null;
        try {
          msg = JSON.parse(line) as EventBatch & { ready?: boolean };
        } catch {
          continue; // not ours
        }
        if (msg.ready) {
          if (!ready) {
            ready = true;
            resolve({
              close() {
                closed = true;
                child.stdin.end();
                child.kill('SIGKILL');
              },
            });
          }
        } else if (!closed) onBatch(msg);
      }
    });
    child.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-2000)));
    child.on('error', (e) => reject(new InternalError(`cannot start the kernel event listener: ${e.message}`)));
    child.on('exit', (code, signal) => {
      if (!ready) return reject(new InternalError(`the kernel event listener ended before it was ready (${code ?? signal}): ${stderr.trim()}`));
      if (!closed) onLost(`the kernel event listener ended (${code ?? signal}): ${stderr.trim().split('\n').pop() ?? ''}`);
    });
  });
}

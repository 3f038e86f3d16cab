// A listener that runs as a process of its own (the `netlink` addon ends a
// process whose events overflow, so listeners are kept apart from the daemon):
// start it, hand its stdout to the caller's parser, resolve once the parser says
// it is subscribed, and report an end that nobody asked for (events may have
// been lost). Used by the route copier's listener and the daemon's kernel events.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { InternalError } from '../errors/index.js';

export interface ListenerHandle {
  close(): void;
}

export interface ListenerParser {
  /** a chunk of the child's stdout; call `ready()` when the child says it is subscribed */
  onData(chunk: Buffer, ready: () => void): void;
}

/**
 * `what` names it in errors ("the route event listener"). `parser(closed)` builds the parser;
 * `closed()` tells it to drop what still arrives after `close()`.
 */
export function startListenerChild(
  what: string,
  argv: string[],
  parser: (closed: () => boolean) => ListenerParser,
  onEnd: (why: string) => void,
  setup: (child: ChildProcessWithoutNullStreams) => void = () => {},
): Promise<ListenerHandle> {
  const child = spawn(process.execPath, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
  setup(child);
  let closed = false;
  let ready = false;
  let stderr = '';
  const p = parser(() => closed);
  return new Promise((resolve, reject) => {
    const markReady = () => {
      if (ready) return;
      ready = true;
      resolve({
        close() {
          closed = true;
          child.stdin.end();
          child.kill('SIGKILL');
        },
      });
    };
    child.stdout.on('data', (chunk: Buffer) => p.onData(chunk, markReady));
    child.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
    child.on('error', (e) => reject(new InternalError(`cannot start ${what}: ${e.message}`)));
    child.on('exit', (code, signal) => {
      if (!ready) return reject(new InternalError(`${what} ended before it was ready (${code ?? signal}): ${stderr.trim()}`));
      if (!closed) onEnd(`${what} ended (${code ?? signal}): ${stderr.trim().split('\n').pop() ?? ''}`);
    });
  });
}

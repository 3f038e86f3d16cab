// stdout of a listener child (route-events-child.ts, kernel-events-child.ts) as a
// non-blocking socket: Node makes process.stdout a blocking pipe, so a busy daemon
// (the pipe full at 64 KiB) would stop the listener from reading its netlink socket
// and the kernel would drop events. What the daemon has not read yet waits in memory.
// When stdout is not a pipe (a file, when debugging), process.stdout as it is.
import net from 'node:net';

export function childOutput(): NodeJS.WritableStream & { writableLength: number } {
  try {
    return new net.Socket({ fd: 1, readable: false, writable: true });
  } catch {
    return process.stdout;
  }
}

// New TCP connections per second through the router, for bench/dataplane.ts
// (iperf3 measures bytes, not connection setup). Two modes, each run in its
// lab namespace:
//
//   node conn-rate-child.js server PORT
//     accepts and closes at once (the server sends the first FIN, so the
//     TIME_WAIT sockets pile up on its side, not in the client's port range);
//     prints "ready" once it listens.
//   node conn-rate-child.js client HOST PORT SECONDS CONCURRENCY
//     keeps CONCURRENCY connections in flight, each one connect → the
//     server's FIN → close, then the next; counts those completed in SECONDS
//     after half a second of warm-up, and prints {"connections":N,"errors":E,"seconds":S}.
import net from 'node:net';

const [mode, ...rest] = process.argv.slice(2);

function server(port: number): void {
  const srv = net.createServer((s) => {
    s.on('error', () => undefined); // a reset by the client is not this bench's concern
    s.end();
  });
  srv.listen({ port, host: '0.0.0.0', backlog: 4096 }, () => console.log('ready'));
}

function client(host: string, port: number, seconds: number, concurrency: number): void {
  let counting = false;
  let stopped = false;
  let connections = 0;
  let errors = 0;
  const one = () => {
    if (stopped) return;
    let ok = false;
    const s = net.connect({ host, port });
    s.on('end', () => (ok = true));
    s.on('error', () => undefined); // counted on close
    s.on('close', () => {
      if (counting) {
        if (ok) connections++;
        else errors++;
      }
      one();
    });
    s.resume();
  };
  for (let i = 0; i < concurrency; i++) one();
  let t0 = 0;
  setTimeout(() => {
    counting = true;
    t0 = performance.now();
    setTimeout(() => {
      counting = false;
      stopped = true;
      console.log(JSON.stringify({ connections, errors, seconds: (performance.now() - t0) / 1000 }));
      process.exit(0);
    }, seconds * 1000);
  }, 500);
}

if (mode === 'server') server(Number(rest[0]));
else if (mode === 'client') client(rest[0]!, Number(rest[1]), Number(rest[2]), Number(rest[3]));
else {
  console.error('usage: conn-rate-child.js server PORT | client HOST PORT SECONDS CONCURRENCY');
  process.exit(2);
}

// One bulk-transfer program, run unchanged on node:net or on tunstack (it
// only needs a `net`-like object with createServer/connect), so the two
// measurements differ only in the TCP/IP stack underneath.
//   node bench/bulk.mjs sink   --host H --port P --bytes N   (node:net)
//   node bench/bulk.mjs source --host H --port P --bytes N   (node:net)
// Prints one JSON line: {"role", "bytes", "secs"}.
import net from 'node:net';

const CHUNK = Buffer.alloc(256 * 1024, 0x5a);

/** Accepts one connection and counts `bytes`; resolves with seconds from first byte. */
export function sink(netlike, { host, port, bytes }, onListening) {
  return new Promise((resolve, reject) => {
    const server = netlike.createServer((sock) => {
      let got = 0;
      let start = 0;
      sock.on('data', (b) => {
        if (got === 0) start = performance.now();
        got += b.length;
        if (got >= bytes) {
          const secs = (performance.now() - start) / 1000;
          sock.end();
          server.close();
          resolve({ role: 'sink', bytes: got, secs });
        }
      });
      sock.on('error', reject);
    });
    server.on('error', reject);
    server.listen({ host, port }, () => onListening?.());
  });
}

/** Connects and writes `bytes` with backpressure; resolves when all were handed to the stack. */
export function source(netlike, { host, port, bytes }) {
  return new Promise((resolve, reject) => {
    const sock = netlike.connect({ host, port });
    let sent = 0;
    const start = performance.now();
    const pump = () => {
      while (sent < bytes) {
        const n = Math.min(CHUNK.length, bytes - sent);
        sent += n;
        if (!sock.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) return sock.once('drain', pump);
      }
      sock.end();
    };
    sock.on('connect', pump);
    sock.on('error', reject);
    sock.on('close', () => resolve({ role: 'source', bytes: sent, secs: (performance.now() - start) / 1000 }));
    sock.resume();
  });
}

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const role = process.argv[2];
  const opts = { host: arg('host', '0.0.0.0'), port: Number(arg('port', 5001)), bytes: Number(arg('bytes', 1 << 30)) };
  const run = role === 'sink' ? sink(net, opts, () => console.log(JSON.stringify({ listening: true }))) : source(net, opts);
  run.then((r) => console.log(JSON.stringify(r)), (e) => {
    console.error(e);
    process.exit(1);
  });
}

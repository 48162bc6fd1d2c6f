/**
 * The services of `tunstack serve`: RFC 862 echo, RFC 863 discard and a
 * small HTTP server for tests and demos.
 *
 * HTTP:
 * - `GET /` — a small HTML page.
 * - `GET /bytes/N` — N bytes (0 ≤ N ≤ 2^40) of a fixed pattern: byte i
 *   (from 0) is `i % 251`. 251 is prime, so the pattern does not line up
 *   with any power-of-two buffer or segment size and a misplaced,
 *   repeated or lost chunk changes the SHA-256.
 * - `POST /echo` — the request body back (same Content-Length when given).
 * - `POST /sha256` — the lowercase hex SHA-256 of the request body,
 *   followed by one newline (65 bytes).
 * - anything else — 404.
 * @internal
 * @module
 */

import { createHash } from 'node:crypto';
import http from 'node:http';
import type { Server } from '../server.js';
import type { Socket } from '../socket.js';
import type { Stack } from '../stack.js';

/** Largest N of `GET /bytes/N`. @internal */
export const MAX_PATTERN_BYTES = 2 ** 40;

/** One period-aligned block of the pattern: 256 periods of 251 bytes. */
const BLOCK = (() => {
  const b = Buffer.allocUnsafe(251 * 256);
  for (let i = 0; i < b.length; i++) b[i] = i % 251;
  return b;
})();

/**
 * `length` bytes of the `/bytes/N` pattern starting at offset `start` (byte i is `i % 251`).
 * @internal
 */
export function pattern(start: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let off = 0;
  let pos = start % 251;
  while (off < length) {
    const n = Math.min(BLOCK.length - pos, length - off);
    BLOCK.copy(out, off, pos, pos + n);
    off += n;
    pos = 0;
  }
  return out;
}

/** The page of `GET /`. @internal */
export const INDEX_PAGE = `<!doctype html>
<title>tunstack</title>
<h1>tunstack</h1>
<p>Served by a userspace TCP/IP stack.</p>
<ul>
<li>GET /bytes/N &mdash; N bytes, byte i = i % 251</li>
<li>POST /echo &mdash; the body back</li>
<li>POST /sha256 &mdash; hex SHA-256 of the body</li>
</ul>
`;

function listen(server: Server, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/** Swallows socket errors (a peer's RST must not crash the server). */
function quiet(socket: Socket): Socket {
  socket.on('error', () => {});
  return socket;
}

/** RFC 862: send back what is received. @internal */
export function startEcho(stack: Stack, port: number): Promise<Server> {
  return listen(
    stack.createServer({ allowHalfOpen: true }, (s) => quiet(s).pipe(s)),
    port,
  );
}

/** RFC 863: read and throw away. @internal */
export function startDiscard(stack: Stack, port: number): Promise<Server> {
  return listen(
    stack.createServer({ allowHalfOpen: true }, (s) => {
      quiet(s).resume();
      s.on('end', () => s.end());
    }),
    port,
  );
}

/** The HTTP request handler (see the module documentation). @internal */
export function httpHandler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = req.url ?? '/';
  const bytes = /^\/bytes\/(\d+)$/.exec(url);
  if (req.method === 'GET' && url === '/') {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(INDEX_PAGE);
  } else if (req.method === 'GET' && bytes) {
    const total = Number(bytes[1]);
    if (!Number.isSafeInteger(total) || total > MAX_PATTERN_BYTES) {
      res.statusCode = 400;
      res.end(`N must be at most ${MAX_PATTERN_BYTES}\n`);
      return;
    }
    res.setHeader('content-type', 'application/octet-stream');
    res.setHeader('content-length', String(total));
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        const n = Math.min(BLOCK.length, total - sent);
        // `sent` is a multiple of BLOCK.length (a multiple of 251) here,
        // so every full block starts at pattern offset 0.
        const chunk = n === BLOCK.length ? BLOCK : BLOCK.subarray(0, n);
        sent += n;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    res.on('close', () => res.off('drain', pump));
    pump();
  } else if (req.method === 'POST' && url === '/echo') {
    res.setHeader('content-type', 'application/octet-stream');
    const len = req.headers['content-length'];
    if (len !== undefined) res.setHeader('content-length', len);
    req.pipe(res);
  } else if (req.method === 'POST' && url === '/sha256') {
    const h = createHash('sha256');
    req.on('data', (c: Buffer) => h.update(c));
    req.on('end', () => {
      res.setHeader('content-type', 'text/plain');
      res.end(`${h.digest('hex')}\n`);
    });
  } else {
    res.statusCode = 404;
    res.setHeader('content-type', 'text/plain');
    res.end('not found\n');
  }
}

/** node:http on a tunstack server. @internal */
export function startHttp(stack: Stack, port: number): Promise<Server> {
  const app = http.createServer(httpHandler);
  return listen(
    stack.createServer((s) => app.emit('connection', quiet(s))),
    port,
  );
}

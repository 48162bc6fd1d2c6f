// node:http runs unchanged on tunstack sockets: the server through
// httpServer.emit('connection', socket), the client through createConnection.

import { createHash } from 'node:crypto';
import http from 'node:http';
import test from 'ava';
import { SERVER_IP, bytes, collect, once, pair, sha256, within } from './helpers.js';
import type { Pair } from './helpers.js';

const BIG = bytes(300 * 1024, 11);

async function httpPair(t: { teardown(fn: () => unknown): void }): Promise<Pair> {
  const p = await pair();
  t.teardown(() => p.close());
  const app = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/hello') {
      res.setHeader('content-type', 'text/plain');
      res.end(`hello ${req.socket.remoteAddress}:${req.socket.remotePort}`);
    } else if (req.method === 'GET' && req.url === '/big') {
      res.end(BIG);
    } else if (req.method === 'POST' && req.url === '/sha256') {
      const h = createHash('sha256');
      let n = 0;
      req.on('data', (c: Buffer) => {
        n += c.length;
        h.update(c);
      });
      req.on('end', () => res.end(`${n} ${h.digest('hex')}`));
    } else if (req.method === 'POST' && req.url === '/echo') {
      req.pipe(res);
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  const server = p.server.createServer((socket) => app.emit('connection', socket));
  server.listen(80);
  await once(server, 'listening');
  return p;
}

function request(p: Pair, options: http.RequestOptions, body?: Buffer): Promise<{ res: http.IncomingMessage; body: Buffer }> {
  return within(
    new Promise((resolve, reject) => {
      const req = http.request(
        { ...options, host: SERVER_IP, port: 80, createConnection: () => p.client.connect({ host: SERVER_IP, port: 80 }) },
        (res) => collect(res).then((b) => resolve({ res, body: b }), reject),
      );
      req.on('error', reject);
      req.end(body);
    }),
    `${options.method ?? 'GET'} ${options.path}`,
  );
}

test('GET: small and large responses', async (t) => {
  const p = await httpPair(t);
  const small = await request(p, { path: '/hello' });
  t.is(small.res.statusCode, 200);
  t.regex(small.body.toString(), /^hello 10\.0\.0\.2:\d+$/);
  const big = await request(p, { path: '/big' });
  t.is(big.res.statusCode, 200);
  t.is(Number(big.res.headers['content-length']), BIG.length);
  t.is(sha256(big.body), sha256(BIG));
  const missing = await request(p, { path: '/nope' });
  t.is(missing.res.statusCode, 404);
});

test('POST: a body of a few hundred KB, hashed and echoed', async (t) => {
  const p = await httpPair(t);
  const hashed = await request(p, { method: 'POST', path: '/sha256' }, BIG);
  t.is(hashed.res.statusCode, 200);
  t.is(hashed.body.toString(), `${BIG.length} ${sha256(BIG)}`);
  const echoed = await request(p, { method: 'POST', path: '/echo', headers: { 'content-length': BIG.length } }, BIG);
  t.is(echoed.res.statusCode, 200);
  t.is(sha256(echoed.body), sha256(BIG));
});

test('several requests in parallel, each on its own connection', async (t) => {
  const p = await httpPair(t);
  const results = await Promise.all(Array.from({ length: 8 }, () => request(p, { path: '/hello' })));
  const ports = new Set(results.map((r) => r.body.toString().split(':')[1]));
  t.is(ports.size, 8);
  for (const r of results) t.is(r.res.statusCode, 200);
});

test('keep-alive: two requests over one tunstack connection', async (t) => {
  const p = await httpPair(t);
  const socket = p.client.connect({ host: SERVER_IP, port: 80 });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  (agent as unknown as { createConnection: () => unknown }).createConnection = () => socket;
  t.teardown(() => agent.destroy());
  const get = () =>
    within(
      new Promise<string>((resolve, reject) => {
        http.get({ host: SERVER_IP, port: 80, path: '/hello', agent }, (res) => collect(res).then((b) => resolve(b.toString()), reject)).on('error', reject);
      }),
      'GET over keep-alive',
    );
  const first = await get();
  const second = await get();
  t.is(first, second, 'same client port both times');
  t.is(first, `hello 10.0.0.2:${socket.localPort}`);
});
